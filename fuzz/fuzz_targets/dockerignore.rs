//! `.dockerignore` patterns: parsing and matching never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let (patterns, path) = s.split_once('\0').unwrap_or((s, "a/b/c"));
    if let Ok(p) = builder::dockerignore::Patterns::parse(patterns) {
        let _ = p.excluded(path);
        let _ = p.needs_walk_into(path);
    }
});
