#![no_main]
//! See `dcr_core::fuzzing::id_token` for the input layout.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dcr_core::fuzzing::id_token(data));
