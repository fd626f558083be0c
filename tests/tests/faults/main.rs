//! Fault injection (docs/faults.md) and hostile servers: the identity server killed or stalled
//! mid-flow, under the engine, the `dcr` process and the app in its window; a keychain locked
//! between registration and save; and purpose-built servers that break HTTP or answer a
//! registration with a body the engine refuses.
//!
//! The window test (`e2e`) takes `dcr_tests::desktop::ONE_WINDOW_AT_A_TIME` like every other
//! window test, so it never shares the display; the locked keychain is a private one in a child
//! process.

mod cli;
mod e2e;
mod engine;
mod hostile_registration;
mod hostile_server;
mod keychain;
