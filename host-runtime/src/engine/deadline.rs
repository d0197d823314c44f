//! Deadlines for every call into a module: `init`, `describe`, validating
//! a form and applying one, on the controller as on the target.
//!
//! Code is compiled with epoch checks (at function entries and loop heads).
//! A call gets a deadline; a POSIX timer of this process raises `SIGALRM` when
//! it passes, whose handler only increments the engine's epoch (which is
//! signal-safe), so the next check in the module's code asks the store, and
//! the store traps with [`TimeLimitExceeded`] once its deadline has passed.
//! No thread is started: the runtime forks, and a fork needs one thread.
//!
//! Code that is not running but waiting in the host (a WASI sleep, a socket)
//! is not reached by an epoch check; the call's future is then dropped at the
//! deadline instead (wasmtime unwinds the module's stack).

use std::future::Future;
use std::sync::{Once, OnceLock};
use std::time::{Duration, Instant};

use wasmtime::{AsContextMut, Engine, UpdateDeadline};

use super::store::StoreData;
use crate::host::state::CallDeadline;

/// How often the timer rings again once a deadline has passed and the call
/// has not stopped yet (it was in the host, not in the module's code).
const TICK_AFTER: Duration = Duration::from_millis(50);

/// A call ran past its time limit: the payload of the trap that stops it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "time limit of {} exceeded: the call was stopped (raise it with --timeout, or time in [limits] or a module's limits)",
    humantime::format_duration(*limit)
)]
pub struct TimeLimitExceeded {
    pub limit: Duration,
}

/// The engine of this process: one, so the signal handler knows whose epoch
/// to advance (engines of the same configuration are interchangeable).
static ENGINE: OnceLock<Engine> = OnceLock::new();

/// The engine every call of this process runs on, made by `make` on first
/// use, with the handler that advances its epoch installed.
pub(super) fn process_engine<E>(make: impl FnOnce() -> Result<Engine, E>) -> Result<Engine, E> {
    let engine = match ENGINE.get() {
        Some(engine) => engine.clone(),
        None => {
            let made = make()?;
            ENGINE.get_or_init(|| made).clone()
        }
    };
    install_handler();
    Ok(engine)
}

extern "C" fn advance_epoch(_: libc::c_int) {
    // A relaxed atomic increment: async-signal-safe, as wasmtime documents.
    if let Some(engine) = ENGINE.get() {
        engine.increment_epoch();
    }
}

fn install_handler() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
        // SA_RESTART: a host call the signal lands in goes on.
        let action = SigAction::new(
            SigHandler::Handler(advance_epoch),
            SaFlags::SA_RESTART,
            SigSet::empty(),
        );
        // SAFETY: the handler only does an atomic increment.
        if let Err(e) = unsafe { sigaction(Signal::SIGALRM, &action) } {
            // Without it calls are still stopped by the form's process
            // being killed, just not cleanly.
            eprintln!("consfig: cannot install the SIGALRM handler for time limits: {e}");
        }
    });
}

/// What a store does when its epoch deadline comes: trap once its call's
/// deadline has passed, else check again at the next tick.
pub(super) fn watch(store: &mut wasmtime::Store<StoreData>) {
    store.epoch_deadline_callback(|ctx| match ctx.data().host().deadline() {
        Some(deadline) if Instant::now() >= deadline.at => {
            Err(wasmtime::Error::new(TimeLimitExceeded {
                limit: deadline.limit,
            }))
        }
        _ => Ok(UpdateDeadline::Continue(1)),
    });
    store.set_epoch_deadline(1);
}

/// A timer of this process that raises SIGALRM `after` from now, and every
/// [`TICK_AFTER`] then, until dropped.
struct Alarm(libc::timer_t);

fn timespec(d: Duration) -> libc::timespec {
    libc::timespec {
        tv_sec: d.as_secs().try_into().unwrap_or(libc::time_t::MAX),
        tv_nsec: d.subsec_nanos().into(),
    }
}

impl Alarm {
    fn start(after: Duration) -> Option<Alarm> {
        // SAFETY: a zeroed sigevent is valid; the fields that matter are set.
        let mut event: libc::sigevent = unsafe { std::mem::zeroed() };
        event.sigev_notify = libc::SIGEV_SIGNAL;
        event.sigev_signo = libc::SIGALRM;
        let mut id: libc::timer_t = std::ptr::null_mut();
        // SAFETY: valid pointers to initialised values.
        if unsafe { libc::timer_create(libc::CLOCK_MONOTONIC, &mut event, &mut id) } != 0 {
            return None;
        }
        let spec = libc::itimerspec {
            it_interval: timespec(TICK_AFTER),
            // Zero would disarm it.
            it_value: timespec(after.max(Duration::from_micros(1))),
        };
        // SAFETY: `id` was just created by this process.
        unsafe { libc::timer_settime(id, 0, &spec, std::ptr::null_mut()) };
        Some(Alarm(id))
    }
}

impl Drop for Alarm {
    fn drop(&mut self) {
        // SAFETY: the timer is this process's, deleted once.
        unsafe { libc::timer_delete(self.0) };
    }
}

/// The deadline of one call into a module, from its start until dropped.
pub(super) struct Deadline {
    at: Instant,
    limit: Duration,
    _alarm: Option<Alarm>,
}

impl Deadline {
    /// Start timing a call of at most `limit` on `store`.
    pub fn start(store: &mut impl AsContextMut<Data = StoreData>, limit: Duration) -> Deadline {
        // A limit too far to represent is no limit: a century will do.
        let at = Instant::now()
            .checked_add(limit)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(100 * 365 * 86400));
        let mut ctx = store.as_context_mut();
        ctx.data_mut()
            .host_mut()
            .set_deadline(Some(CallDeadline { at, limit }));
        ctx.set_epoch_deadline(1);
        Deadline {
            at,
            limit,
            _alarm: Alarm::start(limit),
        }
    }

    /// Run `call`, dropping it at the deadline if it is waiting in the host.
    pub async fn run<F: Future>(&self, call: F) -> Result<F::Output, TimeLimitExceeded> {
        tokio::time::timeout_at(self.at.into(), call)
            .await
            .map_err(|_| TimeLimitExceeded { limit: self.limit })
    }

    /// The call is over: the store has no deadline until the next.
    pub fn end(self, store: &mut impl AsContextMut<Data = StoreData>) {
        store
            .as_context_mut()
            .data_mut()
            .host_mut()
            .set_deadline(None);
    }
}

/// Whether a call's error is its time limit.
pub(super) fn time_limit_of(error: &wasmtime::Error) -> Option<TimeLimitExceeded> {
    error.downcast_ref::<TimeLimitExceeded>().copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::executor::block_on;
    use crate::host::state::{HostMode, HostState};
    use crate::sandbox::policy::Policy;

    /// `(module (func (export "spin") (loop (br 0))))`.
    const SPIN: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: () -> ()
        0x03, 0x02, 0x01, 0x00, // one function of that type
        0x07, 0x08, 0x01, 0x04, b's', b'p', b'i', b'n', 0x00, 0x00, // export "spin"
        0x0a, 0x09, 0x01, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, // loop br 0
    ];

    /// `(module (import "host" "wait" (func)) (func (export "spin") (call 0)))`.
    const WAIT: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: () -> ()
        0x02, 0x0d, 0x01, 0x04, b'h', b'o', b's', b't', 0x04, b'w', b'a', b'i', b't', 0x00,
        0x00, // import host.wait
        0x03, 0x02, 0x01, 0x00, // one function of that type
        0x07, 0x08, 0x01, 0x04, b's', b'p', b'i', b'n', 0x00, 0x01, // export "spin" = func 1
        0x0a, 0x06, 0x01, 0x04, 0x00, 0x10, 0x00, 0x0b, // call 0
    ];

    /// Call `spin` of `wasm` with a deadline `limit` away; what the call
    /// came to, and how long it took.
    fn call_spin(wasm: &[u8], limit: Duration) -> (Result<(), TimeLimitExceeded>, Duration) {
        let engine = super::super::new_engine().unwrap();
        let module = wasmtime::Module::new(&engine, wasm).unwrap();
        let host = HostState::new(HostMode::Inspect, Policy::default());
        let mut store = wasmtime::Store::new(&engine, StoreData::new(host));
        watch(&mut store);
        let mut linker = wasmtime::Linker::new(&engine);
        linker
            .func_wrap_async("host", "wait", |_, (): ()| {
                Box::new(async {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    Ok(())
                })
            })
            .unwrap();
        let start = Instant::now();
        let result = block_on(async {
            let instance = linker.instantiate_async(&mut store, &module).await.unwrap();
            let spin = instance
                .get_typed_func::<(), ()>(&mut store, "spin")
                .unwrap();
            let deadline = Deadline::start(&mut store, limit);
            let result = deadline.run(spin.call_async(&mut store, ())).await;
            deadline.end(&mut store);
            match result {
                Ok(Ok(())) => Ok(()),
                Ok(Err(trap)) => Err(time_limit_of(&trap).expect("the time limit")),
                Err(abandoned) => Err(abandoned),
            }
        });
        assert_eq!(store.data().host().deadline(), None, "cleared after");
        (result, start.elapsed())
    }

    #[test]
    fn a_module_spinning_in_its_own_code_traps_at_its_deadline() {
        let limit = Duration::from_millis(200);
        let (result, took) = call_spin(SPIN, limit);
        assert_eq!(result, Err(TimeLimitExceeded { limit }));
        assert!(took >= limit && took < Duration::from_secs(5), "{took:?}");
        assert!(
            result
                .unwrap_err()
                .to_string()
                .starts_with("time limit of 200ms exceeded"),
        );
    }

    #[test]
    fn a_module_waiting_in_the_host_is_abandoned_at_its_deadline() {
        let limit = Duration::from_millis(200);
        let (result, took) = call_spin(WAIT, limit);
        assert_eq!(result, Err(TimeLimitExceeded { limit }));
        assert!(took >= limit && took < Duration::from_secs(5), "{took:?}");
    }
}
