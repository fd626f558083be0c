//! Shared by the test files in this folder (each file is its own crate, so not all use all).
//! The app's window, its onboarding steps and the browser shim live in the harness crate, where
//! the app benches use them too; they stay reachable here under their old names.
#![allow(dead_code, unused_imports)]

pub use dcr_tests::{app, browser_shim, desktop};
pub mod in_browser;
pub mod package;
