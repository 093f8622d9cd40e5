//! An endpoint fed an arbitrary sequence of packets, clock moves and application
//! calls; the logic is `synack_fuzzing::run_endpoint`, which the corpus replay test
//! also runs.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| synack_fuzzing::run_endpoint(data));
