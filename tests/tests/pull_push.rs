//! Issue 3: berthd against the CNCF registry (Debian `docker-registry`):
//! pull what skopeo pushed, push what skopeo reads back, the docker CLI's
//! pull/push/images/rmi, Basic auth through `docker login`, multi-arch
//! platform selection, and hostile layers that must leave no trace.

use berth_tests::{
    require, skopeo, tar_with, write_oci_layout, CncfRegistry, Daemon, DaemonOpts, DOCKER,
};

fn prerequisites() -> bool {
    require(DOCKER) && require("skopeo")
}

/// Pushes an OCI layout to the registry with skopeo.
fn skopeo_push(layout: &std::path::Path, tag: &str, dest: &str) {
    let out = skopeo(&[
        "copy",
        "--all",
        "--dest-tls-verify=false",
        &format!("oci:{}:{tag}", layout.display()),
        &format!("docker://{dest}"),
    ]);
    assert_eq!(out.code, 0, "skopeo copy: {out:?}");
}

fn busybox_layer() -> Vec<u8> {
    std::fs::read(berth_tests::busybox_tar()).unwrap()
}

#[test]
fn pull_and_push_against_the_cncf_registry() {
    if !prerequisites() {
        return;
    }
    let Some(reg) = CncfRegistry::start(None) else {
        return;
    };
    let d = Daemon::start();
    let layout = d.dir.join("layout");
    let extra = tar_with(&[("etc/extra", b"second layer\n")]);
    write_oci_layout(&layout, "v1", &[busybox_layer(), extra], "amd64");
    let name = format!("{}/team/app", reg.addr);
    skopeo_push(&layout, "v1", &format!("{name}:v1"));
    let inspect = skopeo(&[
        "inspect",
        "--tls-verify=false",
        &format!("docker://{name}:v1"),
    ]);
    let remote: serde_json::Value = serde_json::from_str(inspect.ok()).unwrap();
    let remote_digest = remote["Digest"].as_str().unwrap().to_string();

    // docker pull through berthd; progress lines as docker prints them.
    let pull = d.docker(&["pull", &format!("{name}:v1")]);
    let out = pull.ok();
    assert!(out.contains("Pull complete"), "{out}");
    assert!(out.contains(&format!("Digest: {remote_digest}")), "{out}");
    assert!(
        out.contains(&format!("Status: Downloaded newer image for {name}:v1")),
        "{out}"
    );
    let digests = d.docker(&[
        "image",
        "inspect",
        "-f",
        "{{json .RepoDigests}}",
        &format!("{name}:v1"),
    ]);
    assert_eq!(digests.ok().trim(), format!("[\"{name}@{remote_digest}\"]"));
    assert_eq!(
        d.docker(&["run", "--rm", &format!("{name}:v1"), "cat", "/etc/extra"])
            .ok(),
        "second layer\n"
    );
    // Pulling again finds everything present.
    assert!(d
        .docker(&["pull", &format!("{name}:v1")])
        .ok()
        .contains("Image is up to date"));

    // docker push through berthd; skopeo reads it back identically.
    let pushed = format!("{}/other/copy:v2", reg.addr);
    d.docker(&["tag", &format!("{name}:v1"), &pushed]).ok();
    let push = d.docker(&["push", &pushed]);
    assert!(
        push.ok().contains(&format!(
            "The push refers to repository [{}/other/copy]",
            reg.addr
        )),
        "{push:?}"
    );
    assert!(push.stdout.contains("v2: digest: sha256:"), "{push:?}");
    let back = skopeo(&[
        "inspect",
        "--tls-verify=false",
        &format!("docker://{pushed}"),
    ]);
    let back: serde_json::Value = serde_json::from_str(back.ok()).unwrap();
    assert_eq!(
        back["Digest"].as_str().unwrap(),
        remote_digest,
        "the pulled manifest is pushed unchanged"
    );
    assert_eq!(back["Layers"], remote["Layers"]);
    let out_dir = d.dir.join("copied");
    let copy = skopeo(&[
        "copy",
        "--src-tls-verify=false",
        &format!("docker://{pushed}"),
        &format!("oci:{}:x", out_dir.display()),
    ]);
    assert_eq!(copy.code, 0, "{copy:?}");

    // An imported image (no manifest yet) pushes with a generated manifest.
    let imported = format!("{}/imported/bb:latest", reg.addr);
    d.docker(&["tag", "busybox", &imported]).ok();
    assert!(d
        .docker(&["push", &imported])
        .ok()
        .contains("latest: digest: sha256:"));
    let dgst = d
        .docker(&[
            "image",
            "inspect",
            "-f",
            "{{index .RepoDigests 0}}",
            &imported,
        ])
        .ok()
        .trim()
        .to_string();
    assert!(
        dgst.starts_with(&format!("{}/imported/bb@sha256:", reg.addr)),
        "{dgst}"
    );
    d.docker(&["rmi", &imported, "busybox"]).ok();
    d.docker(&["pull", &imported]).ok();
    assert_eq!(
        d.docker(&["run", "--rm", &imported, "echo", "round-trip"])
            .ok(),
        "round-trip\n"
    );

    // Errors: unknown tag is a 404-style message, nothing streamed.
    let missing = d.docker(&["pull", &format!("{name}:nope")]);
    assert_eq!(missing.code, 1, "{missing:?}");
    assert!(missing.stderr.contains("not found"), "{missing:?}");
    d.finish();
}

#[test]
fn platform_selection_from_an_index() {
    if !prerequisites() {
        return;
    }
    let Some(reg) = CncfRegistry::start(None) else {
        return;
    };
    let d = Daemon::start();
    let amd = d.dir.join("amd");
    let arm = d.dir.join("arm");
    write_oci_layout(&amd, "v1", &[tar_with(&[("arch", b"amd64\n")])], "amd64");
    write_oci_layout(&arm, "v1", &[tar_with(&[("arch", b"arm64\n")])], "arm64");
    // Merge both into one layout with an index of two platforms.
    let merged = d.dir.join("multi");
    std::fs::create_dir_all(merged.join("blobs/sha256")).unwrap();
    let mut manifests = Vec::new();
    for src in [&amd, &arm] {
        for b in std::fs::read_dir(src.join("blobs/sha256"))
            .unwrap()
            .flatten()
        {
            std::fs::copy(b.path(), merged.join("blobs/sha256").join(b.file_name())).unwrap();
        }
        let idx: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(src.join("index.json")).unwrap())
                .unwrap();
        manifests.push(idx["manifests"][0].clone());
    }
    for m in manifests.iter_mut() {
        m.as_object_mut().unwrap().remove("annotations");
    }
    let index = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests});
    let index_bytes = index.to_string();
    let index_digest = berth_tests::sha256_hex(index_bytes.as_bytes());
    std::fs::write(
        merged.join("blobs/sha256").join(&index_digest),
        &index_bytes,
    )
    .unwrap();
    let top = serde_json::json!({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
        "digest": format!("sha256:{index_digest}"), "size": index_bytes.len(), "annotations": {"org.opencontainers.image.ref.name": "multi"}}]});
    std::fs::write(merged.join("index.json"), top.to_string()).unwrap();
    std::fs::write(
        merged.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    let name = format!("{}/multi/arch:1", reg.addr);
    skopeo_push(&merged, "multi", &name);

    d.docker(&["pull", "--platform", "linux/arm64/v8", &name])
        .ok();
    let arch = d.docker(&["image", "inspect", "-f", "{{.Architecture}}", &name]);
    assert_eq!(arch.ok().trim(), "arm64");
    d.docker(&["pull", &name]).ok();
    assert_eq!(
        d.docker(&["image", "inspect", "-f", "{{.Architecture}}", &name])
            .ok()
            .trim(),
        "amd64"
    );
    assert_eq!(
        d.docker(&["run", "--rm", &name, "cat", "/arch"]).code,
        127,
        "no shell in this image"
    );
    let none = d.docker(&["pull", "--platform", "linux/s390x", &name]);
    assert_ne!(none.code, 0);
    assert!(none.stderr.contains("s390x"), "{none:?}");
    d.finish();
}

#[test]
fn basic_auth_through_docker_login() {
    if !prerequisites() || !require("htpasswd") {
        return;
    }
    let Some(reg) = CncfRegistry::start(Some(("tester", "s3cret"))) else {
        return;
    };
    let d = Daemon::start();
    let name = format!("{}/private/bb:1", reg.addr);
    d.docker(&["tag", "busybox", &name]).ok();
    let denied = d.docker(&["push", &name]);
    assert_ne!(denied.code, 0, "{denied:?}");
    assert!(
        denied.stderr.to_lowercase().contains("unauthorized"),
        "{denied:?}"
    );
    let bad = d.docker(&["login", "-u", "tester", "-p", "wrong", &reg.addr]);
    assert_eq!(bad.code, 1, "{bad:?}");
    assert!(
        bad.stderr.to_lowercase().contains("unauthorized"),
        "{bad:?}"
    );
    let good = d.docker(&["login", "-u", "tester", "-p", "s3cret", &reg.addr]);
    assert!(good.ok().contains("Login Succeeded"), "{good:?}");
    assert!(d
        .docker(&["push", &name])
        .ok()
        .contains("1: digest: sha256:"));
    d.docker(&["rmi", &name]).ok();
    d.docker(&["pull", &name]).ok();
    // The same with berth: a wrong password is a clear 401, then login, push, logout.
    let bname = format!("{}/private/berth:2", reg.addr);
    d.berth(&["tag", "busybox", &bname]).ok();
    let bad = d.berth(&["login", "-u", "tester", "-p", "nope", &reg.addr]);
    assert_eq!(bad.code, 1, "{bad:?}");
    assert!(
        bad.stderr.contains("401") || bad.stderr.to_lowercase().contains("unauthorized"),
        "{bad:?}"
    );
    assert!(d
        .berth(&["login", "-u", "tester", "-p", "s3cret", &reg.addr])
        .ok()
        .contains("Login Succeeded"));
    assert!(d
        .berth(&["push", &bname])
        .ok()
        .contains("2: digest: sha256:"));
    d.berth(&["logout", &reg.addr]).ok();
    let anon = d.berth(&["push", &bname]);
    assert_ne!(anon.code, 0, "{anon:?}");
    d.finish();
}

#[test]
fn hostile_layers_are_rejected_and_leave_no_trace() {
    if !prerequisites() {
        return;
    }
    let Some(reg) = CncfRegistry::start(None) else {
        return;
    };
    let d = Daemon::start();
    let layers_before = std::fs::read_dir(d.dir.join("data/snapshots/layers"))
        .unwrap()
        .count();
    let blobs_before = std::fs::read_dir(d.dir.join("data/content/blobs/sha256"))
        .unwrap()
        .count();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("traversal", tar_with(&[("../../escaped", b"x")])),
        ("absolute-via-symlink", {
            let mut b = tar::Builder::new(Vec::new());
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            h.set_mode(0o777);
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(0);
            h.set_link_name("/tmp").unwrap();
            h.set_path("link").unwrap();
            h.set_cksum();
            b.append(&h, &[][..]).unwrap();
            let inner = tar_with(&[("link/evil-berth-escape", b"x")]);
            let mut all = b.into_inner().unwrap();
            all.truncate(all.len() - 1024);
            all.extend_from_slice(&inner);
            all
        }),
        ("truncated-gzip", {
            let mut gz = flate2_like_gzip(&tar_with(&[("f", &[7u8; 50_000])]));
            gz.truncate(gz.len() / 2);
            gz
        }),
    ];
    for (label, layer) in cases {
        let layout = d.dir.join(format!("bad-{label}"));
        write_oci_layout(&layout, "v1", &[layer], "amd64");
        let name = format!("{}/bad/{label}:v1", reg.addr);
        skopeo_push(&layout, "v1", &name);
        let out = d.docker(&["pull", &name]);
        assert_ne!(out.code, 0, "{label}: {out:?}");
        assert!(
            out.stderr.contains("invalid")
                || out.stderr.contains("unexpected")
                || out.stderr.contains("layer"),
            "{label}: {out:?}"
        );
        assert_eq!(
            d.docker(&["image", "inspect", &name]).code,
            1,
            "{label}: image must not exist"
        );
    }
    // A blob whose bytes no longer match its digest (corrupted in the
    // registry's storage, same length).
    let layout = d.dir.join("bad-digest");
    let noise: Vec<u8> = (0..8192u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let layer = tar_with(&[("payload", &noise)]);
    write_oci_layout(&layout, "v1", &[layer], "amd64");
    let name = format!("{}/bad/digest:v1", reg.addr);
    skopeo_push(&layout, "v1", &name);
    // The layer as the registry stores it (skopeo may have compressed it).
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{name}"),
    ]);
    let manifest: serde_json::Value = serde_json::from_str(raw.ok()).unwrap();
    let layer_hex = manifest["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string();
    let stored = reg.dir.join(format!(
        "data/docker/registry/v2/blobs/sha256/{}/{layer_hex}/data",
        &layer_hex[..2]
    ));
    let mut corrupted = std::fs::read(&stored).unwrap();
    let n = corrupted.len();
    corrupted[n / 2] ^= 0xff;
    std::fs::write(&stored, corrupted).unwrap();
    let out = d.docker(&["pull", &name]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("digest") || out.stderr.contains("invalid"),
        "{out:?}"
    );
    assert_eq!(d.docker(&["image", "inspect", &name]).code, 1);
    assert!(!std::path::Path::new("/tmp/evil-berth-escape").exists());
    assert_eq!(
        std::fs::read_dir(d.dir.join("data/snapshots/layers"))
            .unwrap()
            .count(),
        layers_before
    );
    assert_eq!(
        std::fs::read_dir(d.dir.join("data/content/blobs/sha256"))
            .unwrap()
            .count(),
        blobs_before
    );
    assert_eq!(
        std::fs::read_dir(d.dir.join("data/snapshots/tmp"))
            .unwrap()
            .count(),
        0
    );
    assert_eq!(
        std::fs::read_dir(d.dir.join("data/content/ingest"))
            .unwrap()
            .count(),
        0
    );
    d.finish();
}

/// gzip via the system's gzip, to stay independent of the code under test.
fn flate2_like_gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new("gzip")
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = data.to_vec();
    let w = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().unwrap();
    w.join().unwrap().unwrap();
    out.stdout
}

#[test]
fn whiteouts_hide_lower_layers() {
    if !prerequisites() {
        return;
    }
    let Some(reg) = CncfRegistry::start(None) else {
        return;
    };
    let d = Daemon::start();
    let lower = tar_with(&[("etc/gone", b"1"), ("dir/old", b"2"), ("keep", b"3\n")]);
    let upper = tar_with(&[
        ("etc/.wh.gone", b""),
        ("dir/.wh..wh..opq", b""),
        ("dir/new", b"4"),
    ]);
    let layout = d.dir.join("wh");
    write_oci_layout(&layout, "v1", &[busybox_layer(), lower, upper], "amd64");
    let name = format!("{}/wh/img:v1", reg.addr);
    skopeo_push(&layout, "v1", &name);
    d.docker(&["pull", &name]).ok();
    let out = d.docker(&[
        "run",
        "--rm",
        &name,
        "sh",
        "-c",
        "test ! -e /etc/gone && ls /dir && cat /keep",
    ]);
    assert_eq!(out.ok(), "new\n3\n");
    d.finish();
}

#[test]
fn registry_mirror_serves_docker_hub_names() {
    if !prerequisites() {
        return;
    }
    let Some(reg) = CncfRegistry::start(None) else {
        return;
    };
    let layout = reg.dir.join("mirror-layout");
    write_oci_layout(&layout, "1", &[busybox_layer()], "amd64");
    skopeo_push(&layout, "1", &format!("{}/library/mirrored:1", reg.addr));
    let config = format!(r#"{{"registry-mirrors": ["http://{}"]}}"#, reg.addr);
    let d = Daemon::start_with(DaemonOpts {
        config: Some(config),
        ..Default::default()
    });
    let out = d.docker(&["pull", "mirrored:1"]);
    assert!(
        out.ok()
            .contains("Status: Downloaded newer image for mirrored:1"),
        "{out:?}"
    );
    assert_eq!(
        d.docker(&["run", "--rm", "mirrored:1", "echo", "from-mirror"])
            .ok(),
        "from-mirror\n"
    );
    let digests = d.docker(&[
        "image",
        "inspect",
        "-f",
        "{{index .RepoDigests 0}}",
        "mirrored:1",
    ]);
    assert!(digests.ok().starts_with("mirrored@sha256:"), "{digests:?}");
    d.finish();
}

#[test]
fn a_pull_cut_by_kill9_leaves_nothing_partial_and_can_be_redone() {
    if !prerequisites() {
        return;
    }
    let Some(reg) = CncfRegistry::start(None) else {
        return;
    };
    let mut d = Daemon::start();
    let mut layers = vec![busybox_layer()];
    for i in 1..=3u64 {
        let name = format!("blob{i}");
        layers.push(tar_with(&[(&name, &berth_tests::noise(32 << 20, i))]));
    }
    let layout = d.dir.join("big-layout");
    write_oci_layout(&layout, "v1", &layers, "amd64");
    drop(layers);
    let name = format!("{}/crash/big:v1", reg.addr);
    skopeo_push(&layout, "v1", &name);
    std::fs::remove_dir_all(&layout).unwrap();
    let before = d.store_counts();

    // kill -9 while the layers stream in.
    let mut pull = d
        .docker_cmd()
        .args(["pull", &name])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let ingest = d.dir.join("data/content/ingest");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut caught = false;
    while std::time::Instant::now() < deadline {
        let written: u64 = std::fs::read_dir(&ingest)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum();
        if written > 8 << 20 {
            caught = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    d.kill9_and_restart();
    let _ = pull.wait();
    eprintln!("pull cut mid-way: {caught}");
    if caught {
        // Cut mid-way: no image, and nothing partial anywhere.
        assert_eq!(d.docker(&["image", "inspect", &name]).code, 1);
        // A layer that finished before the kill may stay as a verified
        // blob (complete, named by its digest: nothing partial); no layer,
        // staged snapshot or ingest file may.
        let after = d.store_counts();
        assert_eq!(
            [after[0], after[2], after[3]],
            [before[0], before[2], before[3]],
            "the cut pull left something"
        );
        let blobs = d.dir.join("data/content/blobs/sha256");
        for e in std::fs::read_dir(&blobs).unwrap().flatten() {
            let data = std::fs::read(e.path()).unwrap();
            assert_eq!(
                berth_tests::sha256_hex(&data),
                e.file_name().to_string_lossy(),
                "a partial blob was left"
            );
        }
    }
    // What was there is intact, and the pull can simply be done again.
    let out = d.docker(&["run", "--rm", "busybox", "echo", "intact"]);
    assert_eq!(out.ok().trim(), "intact");
    d.docker(&["pull", &name]).ok();
    let out = d.docker(&["run", "--rm", &name, "sh", "-c", "wc -c < /blob3"]);
    assert_eq!(out.ok().trim(), (32u64 << 20).to_string());
    d.finish();
}
