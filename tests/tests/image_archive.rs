//! `save`/`load`/`export` (issue 3): round trips through berthd with the
//! docker CLI, interop with dockerd in both directions, and hostile archives.

use berth_tests::{require, Daemon, Dockerd, DOCKER};

#[test]
fn save_load_round_trip_with_the_docker_cli() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let tar = d.dir.join("busybox-saved.tar");
    d.docker(&["tag", "busybox", "example.com/ns/bb:v1"]).ok();
    d.docker(&[
        "save",
        "-o",
        tar.to_str().unwrap(),
        "busybox",
        "example.com/ns/bb:v1",
    ])
    .ok();
    let id = d
        .docker(&["image", "inspect", "-f", "{{.Id}}", "busybox"])
        .ok()
        .trim()
        .to_string();
    d.docker(&["rmi", "busybox", "example.com/ns/bb:v1"]).ok();
    assert_eq!(d.docker(&["images", "-q"]).ok(), "");
    let out = d.docker(&["load", "-i", tar.to_str().unwrap()]);
    assert!(out.ok().contains("Loaded image: busybox:latest"), "{out:?}");
    assert!(
        out.stdout.contains("Loaded image: example.com/ns/bb:v1"),
        "{out:?}"
    );
    assert_eq!(
        d.docker(&["image", "inspect", "-f", "{{.Id}}", "busybox"])
            .ok()
            .trim(),
        id
    );
    assert_eq!(
        d.docker(&["run", "--rm", "example.com/ns/bb:v1", "echo", "loaded"])
            .ok(),
        "loaded\n"
    );
    // Piped through stdin as well.
    let bytes = std::fs::read(&tar).unwrap();
    d.docker(&["rmi", "example.com/ns/bb:v1"]).ok();
    assert!(d
        .docker_in(&["load"], Some(&bytes))
        .ok()
        .contains("example.com/ns/bb:v1"));
    d.finish();
}

#[test]
fn export_writes_the_container_filesystem() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    d.docker(&[
        "run",
        "--name",
        "ex",
        "busybox",
        "sh",
        "-c",
        "echo data > /made-here",
    ])
    .ok();
    let tar = d.dir.join("export.tar");
    d.docker(&["export", "-o", tar.to_str().unwrap(), "ex"])
        .ok();
    let mut names = Vec::new();
    let mut ar = tar::Archive::new(std::fs::File::open(&tar).unwrap());
    for e in ar.entries().unwrap() {
        names.push(e.unwrap().path().unwrap().display().to_string());
    }
    assert!(names.iter().any(|n| n == "made-here"), "{names:?}");
    assert!(names.iter().any(|n| n == "bin/busybox"), "{names:?}");
    // Export, then import as a new image that has the change.
    d.docker(&["import", tar.to_str().unwrap(), "exported:v1"])
        .ok();
    assert_eq!(
        d.docker(&["run", "--rm", "exported:v1", "cat", "/made-here"])
            .ok(),
        "data\n"
    );
    d.docker(&["rm", "ex"]).ok();
    d.finish();
}

#[test]
fn hostile_archives_are_refused_and_leave_nothing() {
    let d = Daemon::start();
    let before = d.docker(&["images", "-q"]).stdout;
    // A layer entry escaping with ../
    let mut layer = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(1);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    h.as_old_mut().name[..9].copy_from_slice(b"../escape");
    h.set_cksum();
    layer.append(&h, &b"x"[..]).unwrap();
    let layer = layer.into_inner().unwrap();
    let diff = format!("sha256:{}", berth_tests::sha256_hex(&layer));
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{}},"rootfs":{{"type":"layers","diff_ids":["{diff}"]}}}}"#
    );
    let archive = |manifest: &str, with_layer: bool| {
        let mut b = tar::Builder::new(Vec::new());
        let mut add = |name: &str, data: &[u8]| {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(0);
            h.set_cksum();
            b.append_data(&mut h, name, data).unwrap();
        };
        add("config.json", config.as_bytes());
        if with_layer {
            add("layer.tar", &layer);
        }
        add("manifest.json", manifest.as_bytes());
        b.into_inner().unwrap()
    };
    let good_manifest =
        r#"[{"Config":"config.json","RepoTags":["evil:1"],"Layers":["layer.tar"]}]"#;
    // A failed load is dockerd's 200 JSON stream ending in an errorDetail.
    let failed = |(s, b): (u16, String)| {
        assert_eq!(s, 200, "{b}");
        let last: serde_json::Value = serde_json::from_str(b.lines().last().unwrap()).unwrap();
        assert!(last["errorDetail"]["message"].is_string(), "{b}");
        last["error"].as_str().unwrap().to_string()
    };
    let e = failed(d.api("POST", "/images/load", &archive(good_manifest, true)));
    assert!(e.contains("escapes"), "{e}");
    // Paths in manifest.json must not leave the archive either.
    failed(d.api(
        "POST",
        "/images/load",
        &archive(
            r#"[{"Config":"../../../../etc/passwd","RepoTags":[],"Layers":[]}]"#,
            false,
        ),
    ));
    failed(d.api(
        "POST",
        "/images/load",
        b"this is not a tar archive at all, just some bytes that go on and on.......",
    ));
    // The docker CLI says so and fails.
    let bad = d.dir.join("bad.tar");
    std::fs::write(&bad, b"not a tar at all").unwrap();
    let out = d.docker(&["load", "-i", bad.to_str().unwrap()]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("invalid archive"), "{out:?}");
    assert_eq!(d.docker(&["images", "-q"]).stdout, before);
    // Nothing half-stored: no layer directories beyond busybox's, no scratch left.
    let layers = std::fs::read_dir(d.dir.join("data/snapshots/layers"))
        .unwrap()
        .count();
    assert_eq!(layers, 1);
    assert_eq!(
        std::fs::read_dir(d.dir.join("data/tmp")).unwrap().count(),
        0
    );
    d.finish();
}

#[test]
fn images_move_between_berthd_and_dockerd() {
    if !require(DOCKER) {
        return;
    }
    let Some(dockerd) = Dockerd::start() else {
        return;
    };
    let d = Daemon::start();
    // berth save → dockerd load
    let from_berth = d.dir.join("from-berth.tar");
    d.docker(&["tag", "busybox", "berth-made:v1"]).ok();
    d.berth(&["save", "-o", from_berth.to_str().unwrap(), "berth-made:v1"])
        .ok();
    let out = dockerd.docker(&["load", "-i", from_berth.to_str().unwrap()]);
    assert!(out.ok().contains("berth-made:v1"), "{out:?}");
    let ran = dockerd.docker(&[
        "run",
        "--rm",
        "--network",
        "none",
        "berth-made:v1",
        "echo",
        "in-dockerd",
    ]);
    assert_eq!(ran.ok(), "in-dockerd\n");
    // docker save from dockerd → berthd load
    dockerd.import_busybox();
    dockerd.docker(&["tag", "busybox", "dockerd-made:v2"]).ok();
    let from_dockerd = d.dir.join("from-dockerd.tar");
    dockerd
        .docker(&[
            "save",
            "-o",
            from_dockerd.to_str().unwrap(),
            "dockerd-made:v2",
        ])
        .ok();
    let out = d.berth(&["load", "-i", from_dockerd.to_str().unwrap()]);
    assert!(out.ok().contains("dockerd-made:v2"), "{out:?}");
    assert_eq!(
        d.docker(&["run", "--rm", "dockerd-made:v2", "echo", "in-berthd"])
            .ok(),
        "in-berthd\n"
    );
    let id_there = dockerd
        .docker(&["image", "inspect", "-f", "{{.Id}}", "dockerd-made:v2"])
        .ok()
        .trim()
        .to_string();
    let id_here = d
        .docker(&["image", "inspect", "-f", "{{.Id}}", "dockerd-made:v2"])
        .ok()
        .trim()
        .to_string();
    assert_eq!(id_here, id_there);
    d.finish();
}
