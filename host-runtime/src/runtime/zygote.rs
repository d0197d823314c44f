//! The control child ("zygote") and the per-form grandchildren.
//!
//! After every module is loaded the runtime holds the pristine image. It forks
//! the control child once; the control child does nothing but wait for
//! requests on a pipe and, for each, have a grandchild (forked ahead of the
//! request, waiting for it) that evaluates the form
//! on its copy-on-write copy of the pristine image, writes the outcome back
//! through a pipe, and exits. So nothing a form does leaks into the next one,
//! and the runtime's own image is never run after loading. In check mode the
//! control child takes each outcome's file changes into its image's overlay,
//! so the next grandchild inherits them with its copy: no form carries them.
//!
//! The control child watches each grandchild: a trap or panic is reported by
//! the grandchild itself; a signal, an exit without an outcome, or overrunning
//! the per-form timeout (the grandchild is then killed) becomes a failed outcome
//! here. Nothing a form does can crash the deployment.
//!
//! Nothing a form starts outlives it ([`cleanup`]): each grandchild leads a
//! process group that is killed whole when the form ends, and the control
//! child ends its form and itself when the runtime is gone (its request pipe
//! hangs up, or the parent-death signal, set after entering contexts since
//! a change of user clears it).
//!
//! A subdeployment asks for a control child of its own (see [`Zygote::spawn_fresh`]):
//! forked from the asking process, it instantiates the modules afresh from the
//! compiled code already in memory — the asker's image has run a form and is
//! no longer pristine — then enters the subdeployment's contexts. The asker
//! never enters them itself.

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, RawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use consfig_contract::{Context, Form};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::Signal;
use nix::sys::wait::WaitStatus;
use nix::unistd::{ForkResult, Pid, geteuid, pipe2};
use serde::{Deserialize, Serialize};

use super::cleanup;
use super::contexts;
use super::fork::{ForkError, exit_child, fork};
use crate::engine::image::Image;
use crate::engine::recipe::Recipe;
use crate::host::state::{HostMode, HostState};
use crate::sandbox::overlay::Overlay;
use crate::sandbox::policy::Policy;
use crate::sandbox::read_only;
use crate::wire::outcome::Outcome;
use crate::wire::protocol::{self, ProtocolError};

/// What a grandchild may send back at most; more is a runaway module.
const MAX_RESULT_BYTES: usize = 64 << 20;

/// How long past its time limit a form's process is given to stop itself
/// (the module's call traps at the limit) before it is killed: time to send
/// what it printed.
const KILL_GRACE: Duration = Duration::from_secs(1);

/// How long a control child asked to stop may take before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum ZygoteError {
    #[error(transparent)]
    Fork(#[from] ForkError),
    #[error("control process: {0}")]
    Protocol(#[from] ProtocolError),
    /// The control child could not get ready, e.g. could not enter a context.
    #[error("{0}")]
    Start(String),
    /// The runtime lost the controller while waiting.
    #[error("{0}")]
    Upstream(ProtocolError),
}

#[derive(Debug, Serialize, Deserialize)]
enum Request {
    Apply { form: Form, timeout_ms: u64 },
}

/// The control child's first message: whether it could get ready.
#[derive(Debug, Serialize, Deserialize)]
enum Started {
    Ready,
    Failed(String),
}

/// Where a control child gets its image.
enum Source<'a> {
    /// The runtime's pristine image, shared copy-on-write.
    Pristine(&'a mut Image),
    /// A new instantiation from compiled code, for a subdeployment, under
    /// the policy of the deploy that asked for it, seeing in check mode what
    /// the asker would have changed so far.
    Fresh(&'a Arc<Recipe>, &'a Policy, Option<Overlay>),
}

/// The runtime's handle on its control child. Dropping it closes the
/// request pipe, which stops the control child (and any form it runs), and
/// waits for it.
pub struct Zygote {
    pid: Pid,
    requests: Option<File>,
    /// Taken only when dropped: a control child writing to it then gets
    /// EPIPE instead of blocking while it is waited for.
    responses: Option<File>,
    reaped: bool,
}

impl Zygote {
    /// Fork the control child from the pristine `image`; it enters `contexts`
    /// (the context hops of the connection). `close_in_child` are descriptors
    /// the child must not hold (the runtime's protocol channel, so the
    /// controller sees it close when the runtime exits).
    pub fn spawn(
        image: &mut Image,
        contexts: &[Context],
        close_in_child: &[RawFd],
    ) -> Result<Self, ZygoteError> {
        Self::fork_control(Source::Pristine(image), contexts, close_in_child)
    }

    /// Fork a control child for a subdeployment: a fresh image from `recipe`,
    /// under `policy`, in `contexts`, seeing `overlay` in check mode.
    pub fn spawn_fresh(
        recipe: &Arc<Recipe>,
        policy: &Policy,
        contexts: &[Context],
        overlay: Option<Overlay>,
    ) -> Result<Self, ZygoteError> {
        Self::fork_control(Source::Fresh(recipe, policy, overlay), contexts, &[])
    }

    fn fork_control(
        source: Source<'_>,
        contexts: &[Context],
        close_in_child: &[RawFd],
    ) -> Result<Self, ZygoteError> {
        let pipe = || pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(ForkError::Fork);
        let (request_rx, request_tx) = pipe()?;
        let (response_rx, response_tx) = pipe()?;
        let parent = nix::unistd::getpid();
        let forks_ahead = matches!(source, Source::Pristine(_));
        match fork()? {
            ForkResult::Child => {
                drop(request_tx);
                drop(response_rx);
                for &fd in close_in_child {
                    // SAFETY: the parent's copies of these descriptors are never used here.
                    unsafe { libc::close(fd) };
                }
                // Until it has entered its contexts, the control child dies
                // with its parent (a change of user clears this; see below).
                let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
                let mut responses = File::from(response_tx);
                let mut fresh;
                let image = match source {
                    Source::Pristine(image) => Ok(image),
                    Source::Fresh(recipe, policy, overlay) => {
                        let host = HostState::new(HostMode::Deploy, policy.clone()).seeing(overlay);
                        match Image::new(recipe, host) {
                            Ok(image) => {
                                fresh = image;
                                Ok(&mut fresh)
                            }
                            Err(e) => Err(format!("loading the modules afresh: {e}")),
                        }
                    }
                };
                let ready = image.and_then(|image| {
                    for context in contexts {
                        // Check mode: the read-only view for its commands is
                        // made while this process can still make it.
                        if image.check_mode()
                            && geteuid().is_root()
                            && contexts::changes_user(context)
                        {
                            read_only::confine_process().map_err(|e| {
                                format!(
                                    "{context}: check mode's read-only view for its commands: {e}"
                                )
                            })?;
                        }
                        contexts::enter(context).map_err(|e| e.to_string())?;
                    }
                    // After the contexts: `setuid` clears the parent-death signal.
                    cleanup::become_control(parent)?;
                    Ok(image)
                });
                let code = match ready {
                    Ok(image) => {
                        if protocol::send(&mut responses, &Started::Ready).is_err() {
                            exit_child(1);
                        }
                        serve(image, File::from(request_rx), responses, forks_ahead)
                    }
                    Err(reason) => {
                        let _ = protocol::send(&mut responses, &Started::Failed(reason));
                        1
                    }
                };
                exit_child(code)
            }
            ForkResult::Parent { child } => {
                let mut zygote = Zygote {
                    pid: child,
                    requests: Some(File::from(request_tx)),
                    responses: Some(File::from(response_rx)),
                    reaped: false,
                };
                match protocol::recv(zygote.responses()) {
                    Ok(Started::Ready) => Ok(zygote),
                    Ok(Started::Failed(reason)) => {
                        zygote.kill();
                        Err(ZygoteError::Start(reason))
                    }
                    Err(e) => {
                        zygote.kill();
                        Err(ZygoteError::Start(format!(
                            "the control process for {} ended before it was ready: {e}",
                            if contexts.is_empty() {
                                "the forms".to_owned()
                            } else {
                                Context::describe_chain(contexts)
                            }
                        )))
                    }
                }
            }
        }
    }

    pub fn pid(&self) -> Pid {
        self.pid
    }

    fn responses(&mut self) -> &mut File {
        self.responses
            .as_mut()
            .expect("open until the handle is dropped")
    }

    /// Evaluate a form in a fresh grandchild and wait for its outcome.
    pub fn apply(&mut self, form: &Form, timeout: Duration) -> Result<Outcome, ZygoteError> {
        self.send(form, timeout)?;
        Ok(protocol::recv(self.responses())?)
    }

    /// The same, giving up when `controller` (the runtime's input) hangs
    /// up meanwhile: the controller is gone, [`ZygoteError::Upstream`].
    pub fn apply_watching(
        &mut self,
        form: &Form,
        timeout: Duration,
        controller: Option<BorrowedFd<'_>>,
    ) -> Result<Outcome, ZygoteError> {
        self.send(form, timeout)?;
        let responses = self
            .responses
            .as_mut()
            .expect("open until the handle is dropped");
        wait_watching(responses, controller)
    }

    fn send(&mut self, form: &Form, timeout: Duration) -> Result<(), ZygoteError> {
        let request = Request::Apply {
            form: form.clone(),
            timeout_ms: timeout.as_millis().try_into().unwrap_or(u64::MAX),
        };
        let requests = self.requests.as_mut().ok_or(ProtocolError::Closed)?;
        Ok(protocol::send(requests, &request)?)
    }

    /// Close the request pipe, so the control child exits (stopping a form
    /// it runs), and reap it.
    pub fn shutdown(self) {
        drop(self);
    }

    /// Stop a control child that stopped answering, and its form, and reap it.
    pub fn kill(mut self) {
        cleanup::stop(self.pid, STOP_GRACE);
        self.reaped = true;
    }
}

impl Drop for Zygote {
    fn drop(&mut self) {
        if !self.reaped {
            drop(self.requests.take());
            drop(self.responses.take());
            let _ = cleanup::reap(self.pid);
        }
    }
}

/// Wait for the outcome on `responses`, giving up when `controller` hangs up.
fn wait_watching(
    responses: &mut File,
    controller: Option<BorrowedFd<'_>>,
) -> Result<Outcome, ZygoteError> {
    loop {
        let mut fds = vec![PollFd::new(responses.as_fd(), PollFlags::POLLIN)];
        // Nothing is read there meanwhile: only its hangup is asked about.
        fds.extend(controller.map(|fd| PollFd::new(fd, hangup())));
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {}
            Err(nix::Error::EINTR) => continue,
            Err(e) => return Err(ProtocolError::Io(e.into()).into()),
        }
        let ready = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
        let [outcome, gone] = [0, 1].map(|i| fds.get(i).is_some_and(ready));
        drop(fds);
        if gone {
            return Err(ZygoteError::Upstream(ProtocolError::Closed));
        }
        if outcome {
            return Ok(protocol::recv(responses)?);
        }
    }
}

/// Poll flags that report only a hangup (POLLHUP and POLLERR always are;
/// POLLRDHUP for a socket whose peer closed).
fn hangup() -> PollFlags {
    PollFlags::from_bits_retain(libc::POLLRDHUP)
}

/// The control child's loop: one grandchild per request, until the pipe
/// closes (also while a form runs: the runtime is gone, so is the form).
/// With `forks_ahead` (the runtime's control child, which takes every form
/// of a deploy), each grandchild is forked ahead, as soon as the form before
/// has ended (and, in check mode, its changes are in the image): it waits
/// for its form, so a form starts without waiting for a fork. A
/// subdeployment's control child takes a few forms: one forked ahead for
/// after its last would cost more than it saves.
fn serve(image: &mut Image, mut requests: File, mut responses: File, forks_ahead: bool) -> i32 {
    let mut ahead: Option<Waiting> = None;
    loop {
        if forks_ahead && ahead.is_none() {
            // When it cannot be forked now, it is at the request, saying why.
            ahead = fork_ahead(image).ok();
        }
        let request: Request = match protocol::recv(&mut requests) {
            Ok(request) => request,
            Err(e) => {
                if let Some(waiting) = ahead.take() {
                    let _ = cleanup::end_form(waiting.child, true);
                }
                return if matches!(e, ProtocolError::Closed) {
                    0
                } else {
                    1
                };
            }
        };
        let Request::Apply { form, timeout_ms } = request;
        let timeout = Duration::from_millis(timeout_ms);
        let started = Instant::now();
        let evaluated = match ahead.take().and_then(|waiting| waiting.start(&form)) {
            Some((child, result)) => collect(child, result, timeout, requests.as_fd()),
            // None forked ahead, or it is gone: one now.
            None => evaluate_in_grandchild(image, &form, timeout, requests.as_fd()),
        };
        let Some(mut outcome) = evaluated else {
            return 0;
        };
        outcome.duration_ms = Some(started.elapsed().as_millis().try_into().unwrap_or(u64::MAX));
        // Check mode: the next form sees what this one would have changed,
        // and which commands it did not run.
        if let Err(e) = image.absorb(&outcome) {
            let output = std::mem::take(&mut outcome.output);
            outcome = Outcome::failed(
                format!("check mode could not keep what this form would change: {e}"),
                output,
            );
        }
        if protocol::send(&mut responses, &outcome).is_err() {
            return 1;
        }
    }
}

/// A grandchild forked ahead of its form, waiting for it.
struct Waiting {
    child: Pid,
    /// Where its form goes.
    form: File,
    /// Where its outcome comes back.
    result: File,
}

impl Waiting {
    /// Give it its form: its pid and where its outcome comes; None, and
    /// it is ended, if it cannot take the form (it is gone).
    fn start(mut self, form: &Form) -> Option<(Pid, File)> {
        match protocol::send(&mut self.form, form) {
            Ok(()) => Some((self.child, self.result)),
            Err(_) => {
                let _ = cleanup::end_form(self.child, true);
                None
            }
        }
    }
}

/// Evaluate `form` in a grandchild forked now and end it (with all it
/// started); its outcome, or None when the runtime hung up `requests`
/// meanwhile.
fn evaluate_in_grandchild(
    image: &mut Image,
    form: &Form,
    timeout: Duration,
    requests: BorrowedFd<'_>,
) -> Option<Outcome> {
    let cannot_start = |why: String| {
        Some(Outcome::failed(
            format!("cannot start the form: {why}"),
            String::new(),
        ))
    };
    match fork_ahead(image) {
        Err(e) => cannot_start(e.to_string()),
        Ok(waiting) => match waiting.start(form) {
            Some((child, result)) => collect(child, result, timeout, requests),
            None => cannot_start("its process ended before it got the form".to_owned()),
        },
    }
}

/// Fork a grandchild that waits for its form on a pipe of its own, then
/// evaluates it on its copy of `image` and sends the outcome back.
fn fork_ahead(image: &mut Image) -> Result<Waiting, ForkError> {
    let pipe = || pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(ForkError::Fork);
    let (form_rx, form_tx) = pipe()?;
    let (result_rx, result_tx) = pipe()?;
    let parent = nix::unistd::getpid();
    match fork()? {
        ForkResult::Child => {
            drop(form_tx);
            drop(result_rx);
            cleanup::become_form(parent);
            // No form comes when the control child ends first.
            let Ok(form) = protocol::recv::<Form>(&mut File::from(form_rx)) else {
                exit_child(0)
            };
            let outcome = image.apply(&form);
            let sent = protocol::send(&mut File::from(result_tx), &outcome);
            exit_child(if sent.is_ok() { 0 } else { 1 })
        }
        ForkResult::Parent { child } => {
            cleanup::form_started(child);
            Ok(Waiting {
                child,
                form: File::from(form_tx),
                result: File::from(result_rx),
            })
        }
    }
}

/// What became of a form's process.
enum Ended {
    /// It sent these bytes and closed its end.
    Sent(Vec<u8>),
    /// It was stopped, for this reason.
    Stopped(String),
    /// The runtime hung up: the form is stopped and nobody wants its outcome.
    RuntimeGone,
}

/// Read a grandchild's outcome within the deadline (its own, then a grace
/// to stop itself), then end it and what it started.
fn collect(
    child: Pid,
    mut result: File,
    timeout: Duration,
    requests: BorrowedFd<'_>,
) -> Option<Outcome> {
    let deadline = Instant::now() + timeout.saturating_add(KILL_GRACE);
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    let ended = loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            break Ended::Stopped(format!(
                "time limit of {} exceeded: the form was stopped (raise it with --timeout, or time in [limits] or a module's limits)",
                humantime::format_duration(timeout)
            ));
        }
        let wait = PollTimeout::try_from(remaining.max(Duration::from_millis(1)))
            .unwrap_or(PollTimeout::MAX);
        let mut fds = [
            PollFd::new(result.as_fd(), PollFlags::POLLIN),
            PollFd::new(requests, hangup()),
        ];
        match poll(&mut fds, wait) {
            Ok(0) | Err(nix::Error::EINTR) => continue,
            Ok(_) => {}
            Err(e) => break Ended::Stopped(format!("waiting for the form: {e}")),
        }
        if fds[1].revents().is_some_and(|r| !r.is_empty()) {
            break Ended::RuntimeGone;
        }
        match result.read(&mut chunk) {
            Ok(0) => break Ended::Sent(std::mem::take(&mut bytes)),
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => break Ended::Stopped(format!("reading the form's outcome: {e}")),
        }
        if bytes.len() > MAX_RESULT_BYTES {
            break Ended::Stopped(format!(
                "sent more than {MAX_RESULT_BYTES} bytes of outcome"
            ));
        }
    };
    let bytes = match ended {
        Ended::Sent(bytes) => bytes,
        Ended::Stopped(reason) => {
            let _ = cleanup::end_form(child, true);
            return Some(Outcome::failed(reason, String::new()));
        }
        Ended::RuntimeGone => {
            let _ = cleanup::end_form(child, true);
            return None;
        }
    };
    let status = cleanup::end_form(child, false);
    let outcome = protocol::read_frame(&mut bytes.as_slice())
        .map_err(|e| e.to_string())
        .and_then(|frame| serde_json::from_slice::<Outcome>(&frame).map_err(|e| e.to_string()));
    Some(match (status, outcome) {
        (Ok(WaitStatus::Exited(_, 0)), Ok(outcome)) => outcome,
        // The form's own process wrote it: still, what cannot be read back
        // fails this form only.
        (Ok(WaitStatus::Exited(_, 0)), Err(e)) if !bytes.is_empty() => Outcome::failed(
            format!("the form's outcome could not be read back: {e}"),
            String::new(),
        ),
        (Ok(WaitStatus::Signaled(_, signal, _)), _) => Outcome::failed(
            format!("the form's process was killed by {signal}"),
            String::new(),
        ),
        (Ok(WaitStatus::Exited(_, code)), _) => Outcome::failed(
            format!("the form's process exited with status {code} before reporting an outcome"),
            String::new(),
        ),
        (other, _) => Outcome::failed(
            format!("the form's process ended oddly: {other:?}"),
            String::new(),
        ),
    })
}
