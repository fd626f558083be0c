//! The built desktop app in a real WebKitGTK window through `tauri-driver`, on the virtual
//! display scripts/test.sh starts: onboarding, the three user-agent modes, navigation, About,
//! failures and what the app remembers.
//!
//! They share one display and one keychain, so every test holds
//! `dcr_tests::desktop::ONE_WINDOW_AT_A_TIME` while its window is open: one window at a time,
//! whatever `--test-threads` says. The package test, which installs the app system-wide, is a
//! binary of its own (`package`).

mod about;
mod device_bound;
mod failures;
mod in_browser;
mod loopback;
mod modes;
mod navigation;
mod onboarding;
mod progress;
mod remember;
mod setup;
mod sign_in_window;
mod smoke;
mod system;
mod tpm;
