//! The first screen's state, carried with the page's script, so that the page's first frame is
//! the screen itself (Register, Sign in, Home) and not a neutral "Loading…" frame. WebKitGTK
//! draws a page's second frame hundreds of milliseconds after its first here, so the screen
//! that came with the second frame showed that much later (docs/benchmarks.md, "First screen").
//!
//! The keychain read-ahead, started at the page's commit (`Shell::read_ahead`), leaves the state
//! here; the request for `main.js` (`assets.rs`) waits for it, at most [`WAIT`], and the script
//! starts with it. The page loads that script as a classic one in its head, so WebKit paints
//! nothing before it has run and drawn the screen. A view holds no secret: it is exactly what `get_state` gives the page (`StateView`).
//! Without it in time (a slow keychain, a remembered sign-in that needs the network, no config)
//! the page starts on the neutral frame and asks with `get_state`, as before.

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;

/// How long the script's request waits for the keychain. The read-ahead takes about 20 ms
/// here (D-Bus connection and Secret Service reads); a keychain that takes longer gets the
/// neutral frame rather than a window that stays blank. The wait holds the main thread, where
/// WebKit asks for the page's assets; nothing can be painted before the script anyway.
pub const WAIT: Duration = Duration::from_millis(300);

/// This process's handoff: the read-ahead offers, the first script takes.
pub static FIRST_VIEW: Handoff = Handoff::new();

/// One view handed from the read-ahead to the first script.
pub struct Handoff {
    slot: Mutex<Slot>,
    changed: Condvar,
}

enum Slot {
    /// The read-ahead has not finished.
    Pending,
    /// The read-ahead finished: the view as JSON, or `None` when the page must ask.
    Offered(Option<String>),
    /// The first script was served (or gave up waiting): a reload asks with `get_state`, since
    /// the state may have moved on.
    Taken,
}

impl Handoff {
    const fn new() -> Self {
        Self {
            slot: Mutex::new(Slot::Pending),
            changed: Condvar::new(),
        }
    }

    /// The read-ahead's outcome: the state the first frame may show, or `None` (the page
    /// asks). Only the first offer counts, and none after the script gave up waiting.
    pub fn offer(&self, view: Option<&impl Serialize>) {
        let json = view.and_then(|view| serde_json::to_string(view).ok());
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        if matches!(*slot, Slot::Pending) {
            *slot = Slot::Offered(json);
            self.changed.notify_all();
        }
    }

    /// For the first script only: the offered view as JSON, waiting at most `wait` for it.
    pub fn take(&self, wait: Duration) -> Option<String> {
        let slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut slot, _) = self
            .changed
            .wait_timeout_while(slot, wait, |slot| matches!(slot, Slot::Pending))
            .unwrap_or_else(PoisonError::into_inner);
        match std::mem::replace(&mut *slot, Slot::Taken) {
            Slot::Offered(Some(json)) => {
                crate::startup::stage("first view carried with the script");
                Some(json)
            }
            Slot::Offered(None) => {
                crate::startup::stage("no first view to carry: the page asks");
                None
            }
            Slot::Taken => None,
            Slot::Pending => {
                crate::startup::stage("first view not ready: the page asks");
                None
            }
        }
    }
}

/// The script the page runs: `main` after the line that hands it `view` (JSON is a JavaScript
/// expression). `api.js` reads it once.
pub fn script_with(view: &str, main: &str) -> String {
    format!("globalThis.__DCR_FIRST_VIEW__ = {view};\n{main}")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// Stands for a `StateView` (which only serializes).
    fn view() -> serde_json::Value {
        serde_json::json!({"screen": "register"})
    }

    #[test]
    fn the_first_script_takes_the_offered_view_once() {
        let handoff = Handoff::new();
        handoff.offer(Some(&view()));
        handoff.offer(None::<&()>);
        let json = handoff.take(Duration::ZERO).expect("the first offer");
        assert!(json.contains("\"register\""), "{json}");
        assert_eq!(handoff.take(Duration::ZERO), None, "a reload asks");
    }

    #[test]
    fn the_script_waits_for_a_late_offer() {
        let handoff = Arc::new(Handoff::new());
        let offering = {
            let handoff = handoff.clone();
            std::thread::spawn(move || handoff.offer(Some(&view())))
        };
        // Waits on the condition, not a clock: the offer wakes it long before a minute.
        assert!(handoff.take(Duration::from_secs(60)).is_some());
        offering.join().unwrap();
    }

    #[test]
    fn an_offer_after_the_wait_ran_out_is_not_used() {
        let handoff = Handoff::new();
        assert_eq!(handoff.take(Duration::from_millis(1)), None);
        handoff.offer(Some(&view()));
        assert_eq!(handoff.take(Duration::ZERO), None);
    }

    #[test]
    fn the_view_comes_before_the_script() {
        assert_eq!(
            script_with(r#"{"screen":"register"}"#, "start();"),
            "globalThis.__DCR_FIRST_VIEW__ = {\"screen\":\"register\"};\nstart();"
        );
    }
}
