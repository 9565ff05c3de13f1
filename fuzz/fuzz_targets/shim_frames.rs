//! The shim's frame protocol: reading any bytes ends cleanly.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut r = data;
    for _ in 0..64 {
        match shim::frame::read(&mut r) {
            Ok(Some(_)) => {}
            _ => break,
        }
    }
});
