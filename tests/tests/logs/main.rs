//! Z1, Z2, K5: no secret reaches a log line, a view, an About report or an error, with every log
//! event of every crate captured at TRACE.
//!
//! A binary of its own: the capture is a process-wide tracing subscriber, which no other test
//! may share. Its two tests take turns owning it ([`capture::capture_logs`]).

mod capture;
mod device_bound;
mod engine;
