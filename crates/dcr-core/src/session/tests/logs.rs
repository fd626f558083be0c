//! Z1: every log line of a full lifecycle, captured at TRACE, holds none of the secret values
//! (client secret, tokens, code, verifier, registration access token, DCR token).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event as TraceEvent, Metadata, Subscriber};

use super::*;

/// A minimal subscriber that keeps every event and span field as text.
#[derive(Clone, Default)]
struct Capture {
    lines: Arc<Mutex<Vec<String>>>,
    next_id: Arc<AtomicU64>,
}

struct Text<'a>(&'a mut String);

impl Visit for Text<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut line = format!("span {}", span.metadata().name());
        span.record(&mut Text(&mut line));
        self.lines.lock().unwrap().push(line);
        Id::from_u64(self.next_id.fetch_add(1, Ordering::SeqCst) + 1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut line = String::from("record");
        values.record(&mut Text(&mut line));
        self.lines.lock().unwrap().push(line);
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &TraceEvent<'_>) {
        let mut line = format!("{} {}", event.metadata().level(), event.metadata().target());
        event.record(&mut Text(&mut line));
        self.lines.lock().unwrap().push(line);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[tokio::test(flavor = "current_thread")]
async fn z1_trace_logs_of_a_full_lifecycle_hold_no_secrets() {
    let capture = Capture::default();
    let dispatch = tracing::Dispatch::new(capture.clone());
    // tracing caches each callsite's interest process-wide. While only one dispatcher exists,
    // a callsite first hit on another test's thread (which has none) is cached as "never", and
    // this capture would miss its events. A second live dispatcher makes every callsite ask
    // both ("sometimes"), so each event asks the dispatcher of its own thread.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    tracing::callsite::rebuild_interest_cache();
    let _guard = tracing::dispatcher::set_default(&dispatch);

    let rig = rig();
    rig.signed_in().await;
    rig.session.refresh().await.unwrap();
    rig.idp.refuse_refresh_tokens();
    let _ = rig.session.refresh().await;
    rig.idp.with(|s| s.refresh_error = None);
    rig.session.sign_in(&rig.browser).await.unwrap();
    rig.session.sign_out(&rig.browser).await.unwrap();
    rig.session.forget().await.unwrap();

    let lines = capture.lines.lock().unwrap().clone();
    assert!(lines.len() >= 8, "the lifecycle was logged: {lines:#?}");
    let secrets = rig.idp.with(|s| s.issued.clone());
    assert!(secrets.iter().any(|s| s.starts_with("secret-")));
    assert!(secrets.iter().any(|s| s.starts_with("code-")));
    for line in &lines {
        for secret in &secrets {
            assert!(
                !line.contains(secret.as_str()),
                "{secret} leaked into the log line {line:?}"
            );
        }
        for marker in ["Bearer ", "Basic ", "code_verifier", "client_secret="] {
            assert!(!line.contains(marker), "{marker} in the log line {line:?}");
        }
    }
}
