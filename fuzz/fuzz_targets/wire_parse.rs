//! The wire parser and the emit → parse round trip; the logic is
//! `synack_fuzzing::run_wire`, which the corpus replay test also runs.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| synack_fuzzing::run_wire(data));
