//! Volumes and mounts (issue 9) through the real docker CLI against a
//! private berthd: named and anonymous volumes, copy-up, binds, tmpfs,
//! --volumes-from, the volume commands, hostile symlinks that must not
//! reach the host, and a daemon killed with -9.

use berth_tests::{require, Daemon, DOCKER};
use std::path::Path;

fn docker_ok() -> bool {
    require(DOCKER)
}

#[test]
fn named_volumes_keep_data_and_copy_up() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    d.docker(&[
        "run",
        "--rm",
        "-v",
        "data:/data",
        "busybox",
        "sh",
        "-c",
        "echo kept > /data/f",
    ])
    .ok();
    let out = d.docker(&[
        "run",
        "--rm",
        "-v",
        "data:/data:ro",
        "busybox",
        "cat",
        "/data/f",
    ]);
    assert_eq!(out.ok().trim(), "kept");
    let ro = d.docker(&[
        "run",
        "--rm",
        "-v",
        "data:/data:ro",
        "busybox",
        "touch",
        "/data/g",
    ]);
    assert_ne!(ro.code, 0);
    // A new volume over /etc gets the image's /etc, once; nocopy gets nothing.
    let etc = d.docker(&[
        "run",
        "--rm",
        "-v",
        "etcvol:/etc",
        "busybox",
        "cat",
        "/etc/passwd",
    ]);
    assert!(etc.ok().starts_with("root:x:0:0"), "{etc:?}");
    let mp = d
        .docker(&["volume", "inspect", "-f", "{{.Mountpoint}}", "etcvol"])
        .ok()
        .trim()
        .to_string();
    assert!(Path::new(&mp).join("group").exists());
    let none = d.docker(&[
        "run",
        "--rm",
        "-v",
        "empty:/etc:nocopy",
        "busybox",
        "ls",
        "-A",
        "/etc",
    ]);
    assert_eq!(none.ok().trim(), "");
    // volume commands
    let ls = d
        .docker(&["volume", "ls", "--format", "{{.Driver}} {{.Name}}"])
        .ok()
        .to_string();
    for v in ["local data", "local etcvol", "local empty"] {
        assert!(ls.contains(v), "{ls}");
    }
    d.docker(&["volume", "create", "--label", "team=x", "labelled"])
        .ok();
    assert_eq!(
        d.docker(&["volume", "ls", "-q", "-f", "label=team=x"])
            .ok()
            .trim(),
        "labelled"
    );
    assert_eq!(
        d.docker(&[
            "volume",
            "inspect",
            "-f",
            "{{.Labels.team}} {{.Scope}} {{.Driver}}",
            "labelled"
        ])
        .ok()
        .trim(),
        "x local local"
    );
    d.docker(&[
        "run",
        "-d",
        "--name",
        "user",
        "-v",
        "data:/data",
        "busybox",
        "sleep",
        "60",
    ])
    .ok();
    let inuse = d.docker(&["volume", "rm", "data"]);
    assert_ne!(inuse.code, 0);
    assert!(
        inuse.stderr.contains("remove data: volume is in use"),
        "{}",
        inuse.stderr
    );
    let forced = d.docker(&["volume", "rm", "-f", "data"]);
    assert_ne!(forced.code, 0, "in use even with -f, as dockerd");
    assert_eq!(
        d.docker(&["volume", "ls", "-q", "-f", "dangling=false"])
            .ok()
            .trim(),
        "data"
    );
    let mounts = d.inspect("user", "{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}} {{.Driver}} {{.Mode}} {{.RW}}{{end}}");
    assert_eq!(mounts, "volume data /data local z true");
    d.docker(&["rm", "-f", "user"]).ok();
    assert_eq!(d.docker(&["volume", "rm", "data"]).ok().trim(), "data");
    assert!(d.docker(&["volume", "inspect", "data"]).code != 0);
    d.finish();
}

#[test]
fn anonymous_volumes_go_with_rm_v_and_rm() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    // An image with a VOLUME.
    let tar = berth_tests::busybox_tar();
    d.docker(&[
        "import",
        "-c",
        "VOLUME /vol",
        "-c",
        "CMD [\"sh\"]",
        tar.to_str().unwrap(),
        "withvol:1",
    ])
    .ok();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "aa",
        "-v",
        "/anon",
        "withvol:1",
        "sleep",
        "60",
    ])
    .ok();
    let names = d.inspect("aa", "{{range .Mounts}}{{.Destination}}={{.Name}} {{end}}");
    assert!(
        names.contains("/anon=") && names.contains("/vol="),
        "{names}"
    );
    let vols: Vec<String> = d
        .docker(&["volume", "ls", "-q"])
        .ok()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(vols.len(), 2);
    assert!(vols.iter().all(|v| v.len() == 64), "{vols:?}");
    // --volumes-from sees the same data.
    d.docker(&["exec", "aa", "sh", "-c", "echo shared > /anon/f"])
        .ok();
    let from = d.docker(&[
        "run",
        "--rm",
        "--volumes-from",
        "aa:ro",
        "busybox",
        "cat",
        "/anon/f",
    ]);
    assert_eq!(from.ok().trim(), "shared");
    let ro = d.docker(&[
        "run",
        "--rm",
        "--volumes-from",
        "aa:ro",
        "busybox",
        "touch",
        "/anon/g",
    ]);
    assert_ne!(ro.code, 0);
    // Plain rm keeps anonymous volumes; rm -v removes them.
    d.docker(&["create", "--name", "bb", "-v", "/keep", "busybox"])
        .ok();
    d.docker(&["rm", "bb"]).ok();
    assert_eq!(d.docker(&["volume", "ls", "-q"]).ok().lines().count(), 3);
    d.docker(&["rm", "-fv", "aa"]).ok();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while d.docker(&["volume", "ls", "-q"]).ok().lines().count() != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "rm -v left anonymous volumes"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // --rm removes them too; named volumes stay.
    d.docker(&[
        "run", "--rm", "-v", "/gone", "-v", "stays:/s", "busybox", "true",
    ])
    .ok();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let ls = d.docker(&["volume", "ls", "-q"]).ok().to_string();
        if ls.lines().count() == 2 && ls.contains("stays") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "--rm: {ls}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // prune: anonymous only, then everything unused with -a.
    let p = d.docker(&["volume", "prune", "-f"]).ok().to_string();
    assert!(!p.contains("stays"), "{p}");
    assert_eq!(d.docker(&["volume", "ls", "-q"]).ok().trim(), "stays");
    let p = d.docker(&["volume", "prune", "-af"]).ok().to_string();
    assert!(p.contains("stays"), "{p}");
    assert_eq!(d.docker(&["volume", "ls", "-q"]).ok().trim(), "");
    d.finish();
}

#[test]
fn binds_tmpfs_and_read_only_rootfs() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    let host = d.dir.join("hostdir");
    let spec = format!("{}:/h", host.display());
    // -v makes a missing host directory; writes land on the host.
    d.docker(&[
        "run",
        "--rm",
        "-v",
        &spec,
        "busybox",
        "sh",
        "-c",
        "echo from-ctr > /h/x",
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(host.join("x")).unwrap(),
        "from-ctr\n"
    );
    let ro = format!("{}:/h:ro", host.display());
    assert_ne!(
        d.docker(&["run", "--rm", "-v", &ro, "busybox", "touch", "/h/y"])
            .code,
        0
    );
    assert!(!host.join("y").exists());
    // --mount bind: a missing source is an error, as dockerd.
    let missing = format!("type=bind,src={}/nosuch,dst=/m", d.dir.display());
    let out = d.docker(&["run", "--rm", "--mount", &missing, "busybox", "true"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("bind source path does not exist"),
        "{}",
        out.stderr
    );
    let ok = format!("type=bind,source={},target=/m,readonly", host.display());
    assert_eq!(
        d.docker(&["run", "--rm", "--mount", &ok, "busybox", "cat", "/m/x"])
            .ok()
            .trim(),
        "from-ctr"
    );
    // tmpfs, both ways, with a size.
    let t = d
        .docker(&[
            "run",
            "--rm",
            "--tmpfs",
            "/t:size=1m",
            "busybox",
            "df",
            "-k",
            "/t",
        ])
        .ok()
        .to_string();
    assert!(t.contains("tmpfs") && t.contains(" 1024 "), "{t}");
    let t = d
        .docker(&[
            "run",
            "--rm",
            "--mount",
            "type=tmpfs,dst=/t,tmpfs-size=2097152",
            "busybox",
            "df",
            "-k",
            "/t",
        ])
        .ok()
        .to_string();
    assert!(t.contains(" 2048 "), "{t}");
    // inspect's Mounts lists --mount's tmpfs, not --tmpfs's, as dockerd.
    d.docker(&[
        "create",
        "--name",
        "tm",
        "--tmpfs",
        "/t",
        "--mount",
        "type=tmpfs,target=/m",
        "busybox",
    ])
    .ok();
    assert_eq!(
        d.inspect("tm", "{{json .Mounts}}"),
        r#"[{"Type":"tmpfs","Source":"","Destination":"/m","Mode":"","RW":true,"Propagation":""}]"#
    );
    d.docker(&["rm", "tm"]).ok();
    // --read-only: the rootfs refuses writes, volumes and tmpfs take them.
    let out = d.docker(&[
        "run",
        "--rm",
        "--read-only",
        "-v",
        "rw:/v",
        "--tmpfs",
        "/t",
        "busybox",
        "sh",
        "-c",
        "touch /v/a && touch /t/a && ! touch /a",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    d.finish();
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    let cases: &[(&[&str], &str)] = &[
        (&["volume", "create", "a"], "too short"),
        (&["volume", "create", "bad/name"], "invalid characters"),
        (
            &["volume", "create", "-o", "nosuch=1", "v1"],
            "invalid option key",
        ),
        (
            &["volume", "create", "-d", "nosuchdriver", "v2"],
            "not found",
        ),
        (&["volume", "rm", "nosuch"], "no such volume"),
        (
            &["run", "--rm", "--tmpfs", "/t:size=lots", "busybox", "true"],
            "not a size",
        ),
        (
            &[
                "run",
                "--rm",
                "--mount",
                "type=volume,src=v3,dst=rel",
                "busybox",
                "true",
            ],
            "must be absolute",
        ),
        (
            &["run", "--rm", "--volumes-from", "nosuch", "busybox", "true"],
            "No such container",
        ),
        (
            &[
                "run", "--rm", "-v", "v4:/a", "-v", "v5:/a", "busybox", "true",
            ],
            "Duplicate mount point",
        ),
    ];
    for (args, want) in cases {
        let out = d.docker(args);
        assert_ne!(out.code, 0, "{args:?} succeeded");
        assert!(out.stderr.contains(want), "{args:?}: {}", out.stderr);
    }
    // Nothing was made by the failed requests.
    assert_eq!(d.docker(&["volume", "ls", "-q"]).ok().trim(), "");
    assert_eq!(d.docker(&["ps", "-aq"]).ok().trim(), "");
    d.finish();
}

#[test]
fn hostile_symlinks_stay_inside_the_rootfs() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    // A host directory the image's and the volume's symlinks point at.
    let target = d.dir.join("host-target");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("keep"), "host file").unwrap();
    let tgt = target.display().to_string();
    // 1. An image whose mount destination is a symlink to a host path.
    let out = d.docker(&[
        "run",
        "--name",
        "mk",
        "busybox",
        "sh",
        "-c",
        &format!("mkdir -p {tgt} && ln -s {tgt} /data && ln -s ../../../../../../../{tgt} /up"),
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    // The container's filesystem as an image.
    let exp = d.dir.join("evil.tar");
    d.docker(&["export", "-o", exp.to_str().unwrap(), "mk"])
        .ok();
    d.docker(&["import", exp.to_str().unwrap(), "evil:1"]).ok();
    let image = "evil:1";
    for dst in ["/data", "/up", "/data/sub"] {
        let spec = format!("hv{}:{dst}", dst.replace('/', "_"));
        let _ = d.docker(&[
            "run",
            "--rm",
            "-v",
            &spec,
            image,
            "/bin/sh",
            "-c",
            "echo pwned > $0/pwned 2>/dev/null; true",
            dst,
        ]);
        let bind = format!("{}:{dst}", d.dir.join("bindsrc").display());
        let _ = d.docker(&[
            "run", "--rm", "--tmpfs", dst, "-v", &bind, image, "/bin/sh", "-c", "true",
        ]);
    }
    // The volume went where the symlink leads inside the rootfs: its data
    // is in the volume, not on the host.
    let inside = d.docker(&[
        "run",
        "--rm",
        "-v",
        "hv_data:/x",
        "busybox",
        "cat",
        "/x/pwned",
    ]);
    assert_eq!(inside.ok().trim(), "pwned");
    // 2. A symlink planted in a volume, then used as a mount destination.
    d.docker(&[
        "run",
        "--rm",
        "-v",
        "planted:/v",
        "busybox",
        "ln",
        "-s",
        &tgt,
        "/v/link",
    ])
    .ok();
    let _ = d.docker(&[
        "run",
        "--rm",
        "-v",
        "planted:/v",
        "--tmpfs",
        "/v/link",
        "busybox",
        "sh",
        "-c",
        "touch /v/link/pwned; true",
    ]);
    let _ = d.docker(&[
        "run",
        "--rm",
        "-v",
        "planted:/v",
        "-v",
        "other:/v/link/deeper",
        "busybox",
        "sh",
        "-c",
        "touch /v/link/deeper/pwned; true",
    ]);
    // The host directory is exactly as it was.
    let entries: Vec<String> = std::fs::read_dir(&target)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        entries,
        vec!["keep".to_string()],
        "something reached the host"
    );
    assert_eq!(
        std::fs::read_to_string(target.join("keep")).unwrap(),
        "host file"
    );
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(&tgt), "a mount landed on the host path");
    d.finish();
}

/// A mount destination that leads through a dangling symlink of the image
/// is mounted where the link leads, inside the rootfs, and created there,
/// as dockerd with runc does (checked against dockerd 20.10 and runc 1.1.5).
#[test]
fn dangling_symlink_destinations_are_created_where_they_lead() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    let out = d.docker(&[
        "run",
        "--name",
        "mk",
        "busybox",
        "sh",
        "-c",
        "ln -s /nonexistent /data && ln -s ../../missing/dir /rel && ln -s /etc/nofile /f",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let exp = d.dir.join("dangling.tar");
    d.docker(&["export", "-o", exp.to_str().unwrap(), "mk"])
        .ok();
    d.docker(&["import", exp.to_str().unwrap(), "dangling:1"])
        .ok();
    let src = d.dir.join("bindsrc");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("hello"), "from the host").unwrap();
    let file = d.dir.join("bindfile");
    std::fs::write(&file, "a file").unwrap();
    let cases: [(Vec<String>, &str, &str); 4] = [
        (
            vec!["-v".into(), "dangvol:/data".into()],
            "ls -ld /data && grep ' /nonexistent ' /proc/mounts",
            "/nonexistent",
        ),
        (
            vec!["-v".into(), format!("{}:/rel", src.display())],
            "cat /missing/dir/hello && grep ' /missing/dir ' /proc/mounts",
            "from the host",
        ),
        (
            vec!["--tmpfs".into(), "/data".into()],
            "grep '^tmpfs /nonexistent ' /proc/mounts",
            "tmpfs /nonexistent",
        ),
        (
            vec!["-v".into(), format!("{}:/f", file.display())],
            "cat /etc/nofile && grep ' /etc/nofile ' /proc/mounts",
            "a file",
        ),
    ];
    for (opts, script, want) in cases {
        let mut args: Vec<&str> = vec!["run", "--rm"];
        args.extend(opts.iter().map(String::as_str));
        args.extend(["dangling:1", "sh", "-c", script]);
        let out = d.docker(&args);
        assert_eq!(out.code, 0, "{opts:?}: {out:?}");
        assert!(out.stdout.contains(want), "{opts:?}: {out:?}");
    }
    // Nothing was made on the host where the links would lead outside.
    for p in ["/nonexistent", "/missing", "/etc/nofile"] {
        assert!(!Path::new(p).exists(), "{p} was created on the host");
    }
    d.docker(&["rm", "mk"]).ok();
    d.docker(&["volume", "rm", "dangvol"]).ok();
    d.finish();
}

/// `--volume-driver` matters only to the volumes a container makes or
/// uses: without one, a driver berth lacks is accepted and shown, as
/// dockerd does (docker-py's test_create_with_volume_driver); with one, the
/// plugin lookup fails as dockerd's does, and nothing is made.
#[test]
fn a_volume_driver_is_looked_up_only_for_volumes() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    let out = d.docker(&[
        "create",
        "--name",
        "vd",
        "--volume-driver",
        "foo",
        "busybox",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(d.inspect("vd", "{{.HostConfig.VolumeDriver}}"), "foo");
    // Through the API: on a 404 the docker CLI goes on to pull the image,
    // with dockerd too.
    let (status, out) = d.api(
        "POST",
        "/containers/create?name=vd2",
        br#"{"Image":"busybox","HostConfig":{"VolumeDriver":"foo","Binds":["vdvol:/d"]}}"#,
    );
    assert_eq!(status, 404, "{out}");
    assert!(
        out.contains(r#"error looking up volume plugin foo: plugin \"foo\" not found"#),
        "{out}"
    );
    assert_eq!(d.docker(&["volume", "ls", "-q"]).ok().trim(), "");
    assert!(d.docker(&["inspect", "vd2"]).code != 0, "vd2 was made");
    d.docker(&["rm", "vd"]).ok();
    d.finish();
}

#[test]
fn kill9_keeps_volumes_and_their_users() {
    if !docker_ok() {
        return;
    }
    let mut d = Daemon::start();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "db",
        "-v",
        "dbdata:/data",
        "-v",
        "/anon",
        "busybox",
        "sh",
        "-c",
        "echo v1 > /data/f; sleep 120",
    ])
    .ok();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while d.docker(&["exec", "db", "cat", "/data/f"]).stdout.trim() != "v1" {
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    d.kill9_and_restart();
    assert_eq!(
        d.docker(&["exec", "db", "cat", "/data/f"]).ok().trim(),
        "v1"
    );
    let inuse = d.docker(&["volume", "rm", "dbdata"]);
    assert!(inuse.stderr.contains("volume is in use"), "{inuse:?}");
    assert_eq!(d.docker(&["volume", "ls", "-q"]).ok().lines().count(), 2);
    d.docker(&["rm", "-f", "db"]).ok();
    let out = d.docker(&[
        "run",
        "--rm",
        "-v",
        "dbdata:/data",
        "busybox",
        "cat",
        "/data/f",
    ]);
    assert_eq!(out.ok().trim(), "v1");
    d.finish();
}

#[test]
fn docker_cp_reaches_volume_paths() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "cpv",
        "-v",
        "cpvol:/data",
        "--tmpfs",
        "/scratch",
        "busybox",
        "sleep",
        "60",
    ])
    .ok();
    let src = d.dir.join("upload.txt");
    std::fs::write(&src, "into the volume").unwrap();
    d.docker(&["cp", src.to_str().unwrap(), "cpv:/data/"]).ok();
    d.docker(&["cp", src.to_str().unwrap(), "cpv:/scratch/"])
        .ok();
    assert_eq!(
        d.docker(&["exec", "cpv", "cat", "/scratch/upload.txt"])
            .ok(),
        "into the volume"
    );
    d.docker(&["exec", "cpv", "sh", "-c", "echo out of it > /data/back.txt"])
        .ok();
    let dst = d.dir.join("back.txt");
    d.docker(&["cp", "cpv:/data/back.txt", dst.to_str().unwrap()])
        .ok();
    assert_eq!(std::fs::read_to_string(&dst).unwrap(), "out of it\n");
    d.docker(&["rm", "-f", "cpv"]).ok();
    let out = d.docker(&[
        "run",
        "--rm",
        "-v",
        "cpvol:/data",
        "busybox",
        "cat",
        "/data/upload.txt",
    ]);
    assert_eq!(out.ok(), "into the volume");

    // A stopped container: its volumes and binds are in the copy's view,
    // as dockerd mounts them for one (docker-py's ArchiveTest), also
    // before its first start, when the mount points do not exist yet.
    let bind = d.dir.join("bound");
    std::fs::create_dir_all(&bind).unwrap();
    std::fs::write(bind.join("b.txt"), "bound file").unwrap();
    d.docker(&[
        "create",
        "--name",
        "cps",
        "-v",
        "/vol1",
        "-v",
        &format!("{}:/b:ro", bind.display()),
        "-v",
        "cpvol:/named/deep",
        "busybox",
        "cat",
        "/vol1/upload.txt",
    ])
    .ok();
    d.docker(&["cp", src.to_str().unwrap(), "cps:/vol1/"]).ok();
    let got = d.docker(&["cp", "cps:/named/deep/upload.txt", "-"]);
    assert!(got.ok().contains("into the volume"), "{got:?}");
    let got = d.docker(&["cp", "cps:/b/b.txt", "-"]);
    assert!(got.ok().contains("bound file"), "{got:?}");
    // A read-only bind stays read-only for the copy.
    let ro = d.docker(&["cp", src.to_str().unwrap(), "cps:/b/"]);
    assert_ne!(ro.code, 0, "{ro:?}");
    assert!(!bind.join("upload.txt").exists());
    // What was copied in before the start is in the volume at the start.
    d.docker(&["start", "-a", "cps"]).ok();
    assert_eq!(d.docker(&["logs", "cps"]).ok(), "into the volume");
    // After the exit, the volume is reached again, and the copy released
    // it: the container can be removed with its anonymous volume.
    let got = d.docker(&["cp", "cps:/vol1/upload.txt", "-"]);
    assert!(got.ok().contains("into the volume"), "{got:?}");
    d.docker(&["rm", "-v", "cps"]).ok();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let dir = d.dir.to_str().unwrap();
    assert!(
        !mounts
            .lines()
            .any(|l| l.contains(dir) && l.contains("/rootfs/")),
        "a copy's mount was left: {mounts}"
    );
    d.finish();
}

#[test]
fn volume_subpaths_stay_inside_the_volume() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    d.docker(&[
        "run",
        "--rm",
        "-v",
        "sv:/v",
        "busybox",
        "sh",
        "-c",
        "mkdir /v/sub && echo in-sub > /v/sub/f && ln -s / /v/esc && ln -s ../../../../etc /v/up",
    ])
    .ok();
    let out = d.docker(&[
        "run",
        "--rm",
        "--mount",
        "type=volume,src=sv,dst=/s,volume-subpath=sub",
        "busybox",
        "cat",
        "/s/f",
    ]);
    assert_eq!(out.ok().trim(), "in-sub");
    // `..` is refused; symlinks planted in the volume resolve inside it.
    let dotdot = d.docker(&[
        "run",
        "--rm",
        "--mount",
        "type=volume,src=sv,dst=/s,volume-subpath=../..",
        "busybox",
        "true",
    ]);
    assert_ne!(dotdot.code, 0);
    assert!(
        dotdot.stderr.contains("relative path within the volume"),
        "{}",
        dotdot.stderr
    );
    for link in ["esc", "up"] {
        let spec = format!("type=volume,src=sv,dst=/s,volume-subpath={link}");
        let out = d.docker(&["run", "--rm", "--mount", &spec, "busybox", "ls", "/s"]);
        // The volume's own root ("esc" -> its /), or nothing: never the host's /etc.
        assert!(
            !out.stdout.contains("passwd") && !out.stdout.contains("hostname"),
            "{link}: {out:?}"
        );
    }
    let esc = d.docker(&[
        "run",
        "--rm",
        "--mount",
        "type=volume,src=sv,dst=/s,volume-subpath=esc",
        "busybox",
        "ls",
        "/s",
    ]);
    assert!(esc.ok().contains("sub"), "{esc:?}");
    d.finish();
}

#[test]
fn mount_options_make_the_volume_they_name() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    let spec = "type=volume,src=optvol,dst=/m,volume-label=made=by-mount,volume-opt=type=tmpfs,volume-opt=o=size=1m";
    let out = d.docker(&["run", "--rm", "--mount", spec, "busybox", "df", "-k", "/m"]);
    assert!(out.ok().contains(" 1024 "), "{out:?}");
    let v = d.docker(&[
        "volume",
        "inspect",
        "-f",
        "{{.Labels.made}} {{.Options.type}}",
        "optvol",
    ]);
    assert_eq!(v.ok().trim(), "by-mount tmpfs");
    d.finish();
}

#[test]
fn copy_up_keeps_owners_modes_symlinks_and_xattrs() {
    if !docker_ok() || !require("tar") {
        return;
    }
    let d = Daemon::start();
    let root = d.dir.join("xroot");
    std::fs::create_dir_all(root.join("d")).unwrap();
    std::fs::write(root.join("d/f"), "x").unwrap();
    std::os::unix::fs::symlink("f", root.join("d/link")).unwrap();
    let xattr_ok = std::process::Command::new("python3")
        .args([
            "-c",
            &format!(
                "import os; os.setxattr('{}', 'user.berth', b'kept')",
                root.join("d/f").display()
            ),
        ])
        .status()
        .is_ok_and(|s| s.success());
    std::process::Command::new("chown")
        .args(["1234:5678", root.join("d/f").to_str().unwrap()])
        .status()
        .unwrap();
    std::process::Command::new("chmod")
        .args(["640", root.join("d/f").to_str().unwrap()])
        .status()
        .unwrap();
    let tar = d.dir.join("x.tar");
    let st = std::process::Command::new("tar")
        .args([
            "--xattrs",
            "--xattrs-include=user.*",
            "-C",
            root.to_str().unwrap(),
            "-cf",
            tar.to_str().unwrap(),
            ".",
        ])
        .status()
        .unwrap();
    assert!(st.success());
    d.docker(&["import", tar.to_str().unwrap(), "ximg:1"]).ok();
    let _ = d.docker(&["run", "--rm", "-v", "xv:/d", "ximg:1", "/nonexistent"]);
    let mp = d
        .docker(&["volume", "inspect", "-f", "{{.Mountpoint}}", "xv"])
        .ok()
        .trim()
        .to_string();
    let f = Path::new(&mp).join("f");
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::symlink_metadata(&f).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o777), (1234, 5678, 0o640));
    assert_eq!(
        std::fs::read_link(Path::new(&mp).join("link")).unwrap(),
        Path::new("f")
    );
    if xattr_ok {
        let out = std::process::Command::new("python3")
            .args([
                "-c",
                &format!(
                    "import os; print(os.getxattr('{}', 'user.berth').decode())",
                    f.display()
                ),
            ])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "kept");
    }
    d.finish();
}

#[test]
fn berth_cli_prints_what_the_docker_cli_prints() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    d.berth(&["volume", "create", "--label", "k=v", "cmpvol"])
        .ok();
    d.berth(&[
        "run",
        "-d",
        "--name",
        "vc",
        "-v",
        "cmpvol:/data",
        "-v",
        "/anon",
        "--tmpfs",
        "/t",
        "busybox",
        "sleep",
        "60",
    ])
    .ok();
    d.assert_same_output(
        &[
            &["volume", "ls"],
            &["volume", "ls", "-q", "-f", "label=k=v"],
            &["volume", "ls", "-f", "dangling=true"],
            &["volume", "inspect", "cmpvol"],
            &[
                "volume",
                "inspect",
                "-f",
                "{{.Name}} {{.Driver}} {{.Labels}}",
                "cmpvol",
            ],
            &["inspect", "-f", "{{json .Mounts}}", "vc"],
            &[
                "inspect",
                "-f",
                "{{range .Mounts}}{{.Type}}:{{.Destination}} {{end}}",
                "vc",
            ],
            &["ps", "--format", "{{.Names}} {{.Mounts}}"],
        ],
        false,
    );
    d.assert_same_output(
        &[
            &["volume", "rm", "cmpvol"],
            &["volume", "inspect", "nosuch"],
            &["volume", "create", "x"],
        ],
        true,
    );
    d.berth(&["rm", "-fv", "vc"]).ok();
    d.finish();
}

#[test]
fn diff_shows_mountpoints_as_dockerd_does() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    d.docker(&[
        "run",
        "--name",
        "dv",
        "-v",
        "/data",
        "-v",
        "nv:/nv",
        "busybox",
        "sh",
        "-c",
        "touch /tmp/t; echo x > /nv/inside",
    ])
    .ok();
    // dockerd 20.10 prints: A /nv, C /tmp, A /tmp/t, A /data (map order);
    // the volume's content is not a change of the container's.
    let mut diff: Vec<String> = d
        .docker(&["diff", "dv"])
        .ok()
        .lines()
        .map(String::from)
        .collect();
    diff.sort();
    assert_eq!(diff, ["A /data", "A /nv", "A /tmp/t", "C /tmp"]);
    d.finish();
}
