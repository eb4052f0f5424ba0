//! # Panics as outcomes
//!
//! A bug met while examining or recording one message must cost that message, not the pass
//! and not the daemon: the item is recorded as unreadable with the panic's message and place,
//! and the pass goes on. A panic in a component outside any item (the worker's loop, the mail
//! sender) leaves state nobody can vouch for, so it is logged and the daemon exits non-zero:
//! the service manager starts it again and start-up recovery (the same path every kill of the
//! crash test takes) finishes what was interrupted. This module catches a panic with its
//! message and location, so that the callers can do either.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

/// A caught panic: what it said and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panic {
    /// The panic's message.
    pub message: String,
    /// `file:line:column` of the panic, when known.
    pub location: String,
}

impl fmt::Display for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at {})", self.message, self.location)
    }
}

thread_local! {
    /// Set while this thread runs inside [`catch`]: its panics are the caller's to report.
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    /// The last panic of this thread seen by the hook.
    static LAST: RefCell<Option<Panic>> = const { RefCell::new(None) };
}

/// Chains a hook before the one in place: it notes each panic's message and location for
/// [`catch`], and keeps the usual report on stderr for panics nobody catches (a test's
/// failed assertion among them).
fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CATCHING.get() {
                let message = text(info.payload());
                let location = info
                    .location()
                    .map_or_else(|| "unknown".to_string(), |l| l.to_string());
                LAST.set(Some(Panic { message, location }));
            } else {
                previous(info);
            }
        }));
    });
}

/// The text of a panic's payload.
fn text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

/// Runs `f`; a panic in it is returned, with its message and location, instead of unwinding
/// further. Nothing is printed for it: the caller logs it.
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, Panic> {
    install();
    let outer = CATCHING.replace(true);
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    CATCHING.set(outer);
    result.map_err(|payload| {
        LAST.take().unwrap_or_else(|| Panic {
            message: text(&*payload),
            location: "unknown".to_string(),
        })
    })
}

/// Runs a component of the daemon on a thread of its own. A panic in it is logged with its
/// message and location, `on_panic` is called (to stop the other components, so that the
/// daemon exits non-zero and is started again) and the join answers it.
pub fn spawn<T: Send + 'static>(
    component: &'static str,
    on_panic: impl FnOnce() + Send + 'static,
    run: impl FnOnce() -> T + Send + 'static,
) -> std::thread::JoinHandle<Result<T, Panic>> {
    std::thread::spawn(move || {
        catch(run).inspect_err(|p| {
            tracing::error!(component, panic = %p.message, location = %p.location, "component panicked; stopping intake so that it is started again");
            on_panic();
        })
    })
}

/// Debug builds only: panics when `INTAKE_PANIC_ON` is `<stage>:<text>` and `seen` contains
/// `<text>`, so that tests can make examining or recording one chosen item panic (`examine`
/// and `record` are the stages that call this).
#[cfg(debug_assertions)]
#[track_caller]
pub fn inject(stage: &str, seen: &str) {
    let Ok(spec) = std::env::var("INTAKE_PANIC_ON") else {
        return;
    };
    if let Some((s, wanted)) = spec.split_once(':')
        && s == stage
        && !wanted.is_empty()
        && seen.contains(wanted)
    {
        panic!("injected fault: {stage} ({wanted:?})");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caught_panic_keeps_its_message_and_place() {
        let caught = catch(|| -> u32 { panic!("bad cell {}", 7) }).unwrap_err();
        assert_eq!(caught.message, "bad cell 7");
        assert!(
            caught.location.starts_with("src/panics.rs:"),
            "{}",
            caught.location
        );
        assert_eq!(catch(|| 5).unwrap(), 5);
        // Nested: the inner catch takes its own panic; the outer sees none.
        let outer = catch(|| catch(|| panic!("inner")).unwrap_err().message);
        assert_eq!(outer.unwrap(), "inner");
    }
}
