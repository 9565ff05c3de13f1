//! Engine API bodies: JSON of any shape decodes or fails, never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<api_types::ContainerCreateRequest>(data);
    let _ = serde_json::from_slice::<api_types::ExecConfig>(data);
    let _ = serde_json::from_slice::<api_types::ExecStartConfig>(data);
    let _ = serde_json::from_slice::<api_types::ImageConfigBlob>(data);
});
