//! Manifests and indexes from a registry: parsing never panics, whatever
//! the bytes and the Content-Type.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let bytes = bytes::Bytes::copy_from_slice(data);
    for ct in [
        None,
        Some("application/vnd.oci.image.index.v1+json"),
        Some("application/vnd.docker.distribution.manifest.v2+json"),
    ] {
        let _ = distribution::manifest::Manifest::parse(bytes.clone(), ct);
    }
});
