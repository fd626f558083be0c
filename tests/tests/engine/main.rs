//! The engine (`dcr_core::Session`) against the bundled identity server, in-process: the
//! protocol steps, the back channel, the real keychain, the loopback agent, the device-bound
//! modes, and the server's own smoke tests. `fuzz_seeds` (ignored) captures the fuzz seeds;
//! `scripts/fuzz-seeds.sh` runs it.
//!
//! Each test starts its own identity server on an ephemeral port and names its keychain entries
//! by that server's issuer, so the tests of all modules run side by side. The locked-keychain
//! tests lock a private keyring in a child process (`dcr_tests::keyring::run_in_own_session`).
//! The TPM tests start their own software TPM (`dcr_tests::swtpm`).

mod back_channel;
mod cancellation;
mod device_bound;
mod fuzz_seeds;
mod idp_device_bound;
mod idp_smoke;
mod key_rotation;
mod keychain;
mod keychain_store;
mod keys;
mod lifecycle;
mod loopback;
mod recovery;
mod remember;
mod rotation_modes;
mod tpm;
