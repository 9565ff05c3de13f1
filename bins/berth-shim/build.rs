//! Links `berth-shim` as a position-dependent executable, as containerd's
//! shim is built: one runs per container, and a non-PIE has no relative
//! relocations to apply before `main`.
fn main() {
    println!("cargo:rustc-link-arg-bins=-no-pie");
}
