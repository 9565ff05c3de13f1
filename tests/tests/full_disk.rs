//! A full disk: berthd on a data root that fills up (a tmpfs of the
//! test's). A pull, a load and a container's writes that do not fit fail
//! with a clear error, leave nothing partial behind and lose nothing that
//! was there; the daemon serves on and the space comes back.

use berth_tests::{
    require, skopeo, tar_with, write_oci_layout, CncfRegistry, Daemon, DaemonOpts, DOCKER,
};

/// Says the disk is full, and does not blame the input for it.
fn no_space(text: &str) -> bool {
    let t = text.to_lowercase();
    t.contains("no space left on device") && !t.contains("invalid")
}

#[test]
fn a_full_data_root_fails_cleanly_and_loses_nothing() {
    if !(require(DOCKER) && require("skopeo")) {
        return;
    }
    let Some(reg) = CncfRegistry::start(None) else {
        return;
    };
    // 40 MiB: busybox fits, a 48 MiB layer (blob plus unpacked copy) does not.
    let d = Daemon::start_with(DaemonOpts {
        data_tmpfs_mib: Some(40),
        ..Default::default()
    });
    let before = d.store_counts();
    let big = tar_with(&[("big.bin", &berth_tests::noise(48 << 20, 7))]);

    // A pull that does not fit.
    let layout = d.dir.join("layout");
    write_oci_layout(&layout, "v1", std::slice::from_ref(&big), "amd64");
    let name = format!("{}/full/big:v1", reg.addr);
    let out = skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        &format!("oci:{}:v1", layout.display()),
        &format!("docker://{name}"),
    ]);
    assert_eq!(out.code, 0, "skopeo copy: {out:?}");
    let out = d.docker(&["pull", &name]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(no_space(&out.stderr), "pull: {out:?}");
    assert_eq!(d.docker(&["image", "inspect", &name]).code, 1);
    assert_eq!(d.store_counts(), before, "pull left something behind");

    // A load that does not fit (the same image as an OCI layout tarball).
    let mut tb = tar::Builder::new(Vec::new());
    tb.append_dir_all(".", &layout).unwrap();
    let archive = d.dir.join("big.tar");
    std::fs::write(&archive, tb.into_inner().unwrap()).unwrap();
    std::fs::remove_dir_all(&layout).unwrap();
    let out = d.docker(&["load", "-i", archive.to_str().unwrap()]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(no_space(&out.stderr), "load: {out:?}");
    assert_eq!(d.store_counts(), before, "load left something behind");
    std::fs::remove_file(&archive).unwrap();

    // A container that fills the disk gets ENOSPC itself; the daemon records
    // its exit and removing it gives the space back.
    let out = d.docker(&[
        "run",
        "--name",
        "filler",
        "busybox",
        "dd",
        "if=/dev/zero",
        "of=/fill",
        "bs=1M",
        "count=64",
    ]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(no_space(&out.stderr), "dd: {out:?}");
    let state = d.docker(&[
        "inspect",
        "-f",
        "{{.State.Status}} {{.State.ExitCode}}",
        "filler",
    ]);
    assert_eq!(state.ok().trim(), "exited 1");
    d.docker(&["rm", "filler"]).ok();

    // Nothing was lost, the daemon serves on, and the space is back.
    let out = d.docker(&["run", "--rm", "busybox", "echo", "still-here"]);
    assert_eq!(out.ok().trim(), "still-here");
    let images = d.docker(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert_eq!(images.ok().trim(), "busybox:latest");
    let out = d.docker(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "dd if=/dev/zero of=/fill bs=1M count=16 2>/dev/null && echo fits",
    ]);
    assert_eq!(out.ok().trim(), "fits");
    assert_eq!(d.store_counts(), before);
    d.finish();
}
