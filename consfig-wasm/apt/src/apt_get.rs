//! Running apt-get, dpkg-query and friends: never interactive, waiting a
//! bounded time for the dpkg lock, and starting no service in a tree where
//! systemd does not run (Consfigurator's `service:no-services`).

use consfig_guest::prelude::*;

pub const APT_GET: &str = "/usr/bin/apt-get";
pub const APT_CACHE: &str = "/usr/bin/apt-cache";
pub const DPKG_QUERY: &str = "/usr/bin/dpkg-query";
pub const DPKG: &str = "/usr/bin/dpkg";

/// How long apt-get waits for another package manager to release the dpkg
/// lock before it fails, in seconds: well within a form's default time limit.
pub const LOCK_TIMEOUT: u32 = 120;

/// What invoke-rc.d and deb-systemd-invoke ask before starting or stopping
/// a service; exit code 101 forbids it.
pub const POLICY_RC_D: &str = "/usr/sbin/policy-rc.d";

/// The policy written while packages change in a tree where systemd does not run.
pub const NO_SERVICES: &str = "#!/bin/sh\n\
    # Written by Consfig while packages change in a tree where systemd does not\n\
    # run (a chroot, an image being built): no service may start. Removed after.\n\
    exit 101\n";

/// The directory systemd makes when it boots the system (`sd_booted`).
const SYSTEMD_RUNNING: &str = "/run/systemd/system";

/// An apt-get run that changes the host: no questions asked, existing
/// configuration files kept when a package ships new ones, the dpkg lock
/// waited for at most [`LOCK_TIMEOUT`] seconds.
pub fn apt_get<S: Into<String>>(args: impl IntoIterator<Item = S>) -> Command {
    Command::change(APT_GET)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args(["-y", "-q", "-o"])
        .arg(format!("DPkg::Lock::Timeout={LOCK_TIMEOUT}"))
        .args([
            "-o",
            "Dpkg::Options::=--force-confdef",
            "-o",
            "Dpkg::Options::=--force-confold",
            // No progress bars drawn with carriage returns in the form's output.
            "-o",
            "Dpkg::Use-Pty=0",
        ])
        .args(args)
}

/// What apt-get would do, without doing it (`apt-get -s`): a query, which
/// check mode runs too.
pub fn simulate<S: Into<String>>(args: impl IntoIterator<Item = S>) -> Command {
    Command::query(APT_GET)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .env("LC_ALL", "C")
        .args(["-s", "-q"])
        .args(args)
}

/// Run an apt-get command that must succeed, saying that it may wait for
/// the dpkg lock, with services kept from starting where systemd does not run.
pub fn run_apt_get(command: Command) -> Result<Output> {
    run_apt_get_with_policy(command, None)
}

/// [`run_apt_get`], with /usr/sbin/policy-rc.d forced to exit `policy`
/// while apt-get runs when one is given (Ansible's `policy_rc_d`: 101
/// keeps the packages' services from starting, even where systemd runs).
pub fn run_apt_get_with_policy(command: Command, policy: Option<u8>) -> Result<Output> {
    info!(
        "{command} (waits up to {LOCK_TIMEOUT} s should another package manager hold the dpkg lock)"
    );
    match policy {
        Some(code) => with_policy(code, || command.succeed()),
        None => without_services(|| command.succeed()),
    }
}

/// A policy-rc.d that answers every request with `code`.
fn forced_policy(code: u8) -> String {
    format!(
        "#!/bin/sh\n\
         # Written by Consfig while packages change: every service action is\n\
         # answered with {code}. Removed (or the previous policy put back) after.\n\
         exit {code}\n"
    )
}

/// Run `action` with [`POLICY_RC_D`] answering `code`; afterwards the policy
/// there before (contents and mode) is put back, or the file removed, even
/// when the action failed.
pub fn with_policy<T>(code: u8, action: impl FnOnce() -> Result<T>) -> Result<T> {
    let previous = match fs::stat(POLICY_RC_D)? {
        Some(stat) if stat.kind == fs::FileKind::File => Some((fs::read(POLICY_RC_D)?, stat.mode)),
        Some(_) => bail!("{POLICY_RC_D} is there but is no regular file: it is left alone"),
        None => None,
    };
    info!("{POLICY_RC_D} answers {code} to every service action until the packages are done");
    fs::write(POLICY_RC_D, forced_policy(code), Some(Mode::new(0o755)?))?;
    let result = action();
    let restored = match previous {
        Some((contents, mode)) => fs::write(POLICY_RC_D, contents, Some(mode)),
        None => fs::remove(POLICY_RC_D),
    };
    let value = result?;
    restored?;
    Ok(value)
}

/// Whether systemd runs the tree this form changes: it booted the system
/// (`/run/systemd/system` is there) and the form is not in a chroot.
pub fn systemd_runs() -> Result<bool> {
    if host::in_chroot() {
        return Ok(false);
    }
    Ok(fs::stat(SYSTEMD_RUNNING)?.is_some_and(|stat| stat.is_dir()))
}

/// Run `action` so that no package it installs, removes or reconfigures
/// starts or stops a service, where systemd does not run: [`POLICY_RC_D`]
/// forbids it for the duration, and is removed afterwards, even when the
/// action failed. A policy already there is the administrator's: it is used
/// and left as it is. Where systemd runs, `action` simply runs.
pub fn without_services<T>(action: impl FnOnce() -> Result<T>) -> Result<T> {
    if systemd_runs()? {
        return action();
    }
    if fs::stat(POLICY_RC_D)?.is_some() {
        info!("systemd does not run here; {POLICY_RC_D} is already there and is left as it is");
        return action();
    }
    info!(
        "systemd does not run here (a chroot, or not booted): no service starts; \
         {POLICY_RC_D} forbids it until the packages are done"
    );
    fs::write(POLICY_RC_D, NO_SERVICES, Some(Mode::new(0o755)?))?;
    let result = action();
    let removed = fs::remove(POLICY_RC_D);
    let value = result?;
    removed?;
    Ok(value)
}

/// Lines of a simulation (`apt-get -s`) that start with `verb` (`Inst`,
/// `Remv`), as the package names they act on.
pub fn simulated(output: &Output, verb: &str) -> Vec<String> {
    output
        .stdout_str()
        .lines()
        .filter_map(|line| line.strip_prefix(verb)?.strip_prefix(' '))
        .filter_map(|rest| rest.split_whitespace().next().map(str::to_owned))
        .collect()
}

/// Run a query whose output is parsed rather than shown: it must exit 0,
/// or the error names it, how it ended and its stderr.
pub fn parsed(command: Command) -> Result<Output> {
    let shown = command.to_string();
    let output = run(command)?;
    ensure!(
        output.success(),
        "{shown}: {}{}",
        output.status(),
        output.stderr_suffix()
    );
    Ok(output)
}
