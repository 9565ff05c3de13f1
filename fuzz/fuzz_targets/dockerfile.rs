//! The Dockerfile parser never panics on any text.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(df) = builder::parser::parse(s) {
        let _ = df.meta_scope(&Default::default());
    }
});
