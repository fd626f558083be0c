//! The `dcr` binary as a black box against the bundled identity server and the real keychain: its
//! manual-mode protocol, `--browser loopback`, and the back channel's TLS trust store.

mod commands;
mod loopback;
mod tls;
