//! `cool-web-service`: the example service for bundles. A small HTTP server
//! written with Rust's `std::net`, which works on wasm32-wasip2 when the
//! runtime grants the socket (a bundle made with `--grant net:ADDR:PORT`).
//!
//! ```text
//! consfig bundle --module cool-web-service --grant net:127.0.0.1:8080 \
//!     --form '["cool-web-service:start-server", 8080]' -o cool-web-service
//! ```

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};

use consfig_guest::prelude::*;

/// What this build of the service says; each release of the module changes it.
const RELEASE: &str = "cool-web-service release 1";

/// Serve HTTP on `port` of `address` (default 127.0.0.1) until the process is
/// stopped: every GET gets a small page naming the release and the path.
/// Binding needs a network grant for the address; without one it fails
/// saying so.
#[property]
fn start_server(port: u16, #[default = "127.0.0.1"] address: String) -> Result<Change> {
    let ip: IpAddr = address
        .parse()
        .map_err(|_| Error::new(format!("{address:?} is not an IP address")))?;
    let addr = SocketAddr::new(ip, port);
    let listener = TcpListener::bind(addr).map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::PermissionDenied {
            format!(" (this module needs the grant net:{addr})")
        } else {
            String::new()
        };
        Error::new(format!("cannot listen on {addr}: {e}{hint}"))
    })?;
    info!("serving http://{addr}/ ({RELEASE})");
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                if let Err(e) = serve(stream) {
                    warn!("request failed: {e}");
                }
            }
            Err(e) => warn!("accept failed: {e}"),
        }
    }
    Ok(Change::Unchanged)
}

fn serve(stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Headers are read to their end and ignored; nothing here reads a body.
    let mut header = String::new();
    while reader.read_line(&mut header)? > 2 {
        header.clear();
    }
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let (status, body) = if method == "GET" || method == "HEAD" {
        let body = format!(
            "<!doctype html>\n<title>cool web service</title>\n<h1>Hello from {RELEASE}</h1>\n<p>You asked for {}</p>\n",
            escape(path)
        );
        ("200 OK", body)
    } else {
        ("405 Method Not Allowed", "only GET and HEAD\n".to_owned())
    };
    let mut stream = reader.into_inner();
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if method != "HEAD" {
        stream.write_all(body.as_bytes())?;
    }
    stream.flush()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

consfig_guest::module! {
    name: "cool-web-service",
    doc: "The example service for bundles: a small HTTP server.",
    properties: [start_server],
}
