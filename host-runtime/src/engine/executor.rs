//! Drives calls into Wasm, which are futures (wasmtime runs them on a fiber so
//! WASI can wait on sockets and timers).
//!
//! Each process gets its own current-thread tokio runtime, made on first use
//! and again in a forked child, so no process shares an epoll instance with its
//! parent and nothing ever starts a thread. The call's future is polled
//! *outside* the runtime's `block_on`, which is entered only to wait for a
//! wake-up: a host call may then fork, and the child, which is not inside any
//! tokio runtime, can make its own and call Wasm again.

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use tokio::sync::Notify;

/// The runtime of this process, by pid: a forked child sees its parent's and
/// makes a new one. Runtimes are leaked, never dropped, because dropping a copy
/// inherited through fork would deregister the parent's sockets from the epoll
/// instance both processes share.
static RUNTIME: Mutex<Option<(u32, &'static tokio::runtime::Runtime)>> = Mutex::new(None);

fn process_runtime() -> &'static tokio::runtime::Runtime {
    let pid = std::process::id();
    // A fork taken while another thread held this lock cannot happen: the
    // runtime never has more than one thread when it forks.
    let mut slot = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    match *slot {
        Some((owner, runtime)) if owner == pid => runtime,
        _ => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cannot create the tokio runtime (epoll or eventfd unavailable)");
            let runtime: &'static _ = Box::leak(Box::new(runtime));
            *slot = Some((pid, runtime));
            runtime
        }
    }
}

struct Wakeup(Notify);

impl Wake for Wakeup {
    fn wake(self: Arc<Self>) {
        self.0.notify_one();
    }
}

/// Run a future to completion on this thread.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let runtime = process_runtime();
    let _context = runtime.enter();
    let wakeup = Arc::new(Wakeup(Notify::new()));
    let waker = Waker::from(Arc::clone(&wakeup));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        // Turns the IO and timer drivers until something wakes the future; a
        // wake that came first left a permit, so this returns at once.
        runtime.block_on(wakeup.0.notified());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_on_timers() {
        let start = std::time::Instant::now();
        block_on(async { tokio::time::sleep(std::time::Duration::from_millis(20)).await });
        assert!(start.elapsed() >= std::time::Duration::from_millis(20));
    }

    #[test]
    fn nested_after_fork_is_allowed() {
        // A host call that forks runs inside `block_on`'s poll; the child must
        // be able to block on a new future of its own.
        let status = block_on(async {
            match unsafe { libc::fork() } {
                0 => {
                    let value = block_on(async { 7 });
                    unsafe { libc::_exit(value) }
                }
                child => {
                    let mut status = 0;
                    unsafe { libc::waitpid(child, &mut status, 0) };
                    status
                }
            }
        });
        assert_eq!(libc::WEXITSTATUS(status), 7);
    }
}
