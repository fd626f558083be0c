//! The `dcr` binary as a black box against the bundled identity server and the real keychain: its
//! manual-mode protocol, `--browser loopback`, the back channel's TLS trust store, and the
//! device key in a software TPM.

mod commands;
mod loopback;
mod tls;
mod tpm;
