//! daemon.json: berthd's reading of its configuration file never panics,
//! whatever the text (it is refused with dockerd's message instead).
#![no_main]
use libfuzzer_sys::fuzz_target;

// The file's parser, as berthd compiles it (it needs only serde).
#[allow(dead_code)]
#[path = "../../bins/berthd/src/config.rs"]
mod config;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(e) = config::parse_file("/etc/berth/daemon.json", &text) {
        assert!(e.starts_with("unable to configure the Docker daemon with file"), "{e}");
    }
});
