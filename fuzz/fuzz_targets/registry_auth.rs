//! What a registry or a client sends about auth: WWW-Authenticate
//! challenges and X-Registry-Auth headers never panic the parsers.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = distribution::parse_challenges(s);
    let _ = distribution::AuthConfig::from_header(s);
    let _ = distribution::AuthConfig::from_json(data);
});
