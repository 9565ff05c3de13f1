//! Layer tars through the safe extractor (`archive::apply_layer`, what
//! pulls, loads and imports use): never a panic, and nothing is written
//! outside the layer's root, whatever `..`, absolute names, symlinks, hard
//! links, whiteouts or headers the tar holds. Each input is extracted into
//! a fresh root beside which nothing else may appear.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;

fn scratch() -> PathBuf {
    let p = std::env::temp_dir().join(format!("berth-fuzz-layer-{}", std::process::id()));
    std::fs::create_dir_all(&p).unwrap();
    p
}

fuzz_target!(|data: &[u8]| {
    let base = scratch();
    let root = base.join("root");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir(&root).unwrap();
    let _ = archive::apply_layer(data, &root);
    let beside: Vec<_> = std::fs::read_dir(&base)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n != "root")
        .collect();
    assert!(beside.is_empty(), "written outside the root: {beside:?}");
    let _ = std::fs::remove_dir_all(&root);
});
