//! `make bench`: what a bundle of the example web service weighs next to the
//! runtime binary, and how long it takes from exec to the first HTTP response,
//! against busybox's httpd (a native server) started the same way.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use consfig_tests::{Sandbox, consfig_bin, free_port, repo_root};

const STARTS: usize = 15;

/// One GET; the response's status line, or None while nothing listens.
fn get(port: u16) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let text = String::from_utf8_lossy(&response);
    text.lines().next().map(str::to_owned)
}

/// Exec → first HTTP 200, then SIGKILL; the median over several starts.
/// `start` execs a server and says which port it listens on.
fn time_to_first_response(mut start: impl FnMut() -> (u16, Child)) -> Duration {
    let mut times = Vec::with_capacity(STARTS);
    for _ in 0..STARTS {
        let began = Instant::now();
        let (port, mut child) = start();
        let status = loop {
            if let Some(status) = get(port) {
                break status;
            }
            if let Some(exit) = child.try_wait().unwrap() {
                panic!("the server exited ({exit}) before answering");
            }
            assert!(began.elapsed() < Duration::from_secs(20), "no answer");
            std::thread::sleep(Duration::from_micros(200));
        };
        times.push(began.elapsed());
        assert!(status.contains("200"), "{status}");
        child.kill().unwrap();
        child.wait().unwrap();
    }
    times.sort();
    times[STARTS / 2]
}

fn gzip_len(path: &Path) -> u64 {
    let out = Command::new("gzip").arg("-c").arg(path).output().unwrap();
    out.stdout.len() as u64
}

fn main() {
    let sb = Sandbox::new();
    let runtime = consfig_bin();
    let stub = repo_root().join("target/release/consfig-stub");

    // A bundle's form names its port: each start gets a bundle of its own
    // (same stub, same compiled code, another port), made beforehand.
    let bundle_for = |port: u16| {
        let path = sb.path().join(format!("cws-{port}"));
        let form = format!(r#"["cool-web-service:start-server", {port}]"#);
        let run = sb.consfig(&[
            "bundle",
            "--module",
            "cool-web-service",
            "--grant",
            "net:127.0.0.1:*",
            "--form",
            &form,
            "-o",
            &path.display().to_string(),
        ]);
        assert_eq!(run.code, 0, "{run:?}");
        path
    };
    let bundle = bundle_for(free_port());
    let bundles: Vec<(u16, std::path::PathBuf)> = (0..STARTS)
        .map(|_| {
            let port = free_port();
            (port, bundle_for(port))
        })
        .collect();
    let mut next = bundles.into_iter();
    let bundle_start = time_to_first_response(|| {
        let (port, path) = next.next().unwrap();
        let child = Command::new(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        (port, child)
    });

    let www = sb.path().join("www");
    std::fs::create_dir(&www).unwrap();
    std::fs::write(www.join("index.html"), "<h1>hello</h1>\n").unwrap();
    let busybox_start = time_to_first_response(|| {
        let port = free_port();
        let child = Command::new("busybox")
            .args(["httpd", "-f", "-p", &format!("127.0.0.1:{port}"), "-h"])
            .arg(&www)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("busybox is installed by `make test-deps`");
        (port, child)
    });

    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    let mb = |n: u64| format!("{:.2} MB", n as f64 / 1e6);
    let base = size(&runtime) as f64;
    println!();
    println!("bundle of the example web service (cool-web-service), this machine, same run");
    println!();
    println!("| what | bytes | gzipped | vs the runtime binary |");
    println!("| --- | ---: | ---: | ---: |");
    for (what, path) in [
        ("`consfig` (the controller, with Cranelift)", &runtime),
        ("`consfig-stub` (runtime without compiler)", &stub),
        ("bundle: stub + compiled module + form + grants", &bundle),
    ] {
        let n = size(path);
        println!(
            "| {what} | {} | {} | {:.2}× |",
            mb(n),
            mb(gzip_len(path)),
            n as f64 / base
        );
    }
    println!();
    println!("exec → first HTTP response, median of {STARTS} starts");
    println!();
    println!("| server | time | vs busybox httpd |");
    println!("| --- | ---: | ---: |");
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
    println!("| busybox httpd (native) | {} | 1.00× |", ms(busybox_start));
    println!(
        "| bundle of cool-web-service | {} | {:.2}× |",
        ms(bundle_start),
        bundle_start.as_secs_f64() / busybox_start.as_secs_f64()
    );
}
