//! `docker cp` through the real docker CLI against berthd: files and
//! directories both ways, running and stopped containers, and hostile
//! paths (symlinks in the container pointing at the host's `/`, `..` in a
//! tar) that must stay inside the container.

use berth_tests::{require, tar_with, unique, Daemon, DOCKER};

#[test]
fn cp_both_ways_and_nothing_escapes_the_container() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let host = d.dir.join("host");
    std::fs::create_dir_all(host.join("tree/sub")).unwrap();
    std::fs::write(host.join("hello.txt"), b"hello from the host\n").unwrap();
    std::fs::write(host.join("tree/a"), b"a\n").unwrap();
    std::fs::write(host.join("tree/sub/b"), b"b\n").unwrap();
    let h = |p: &str| host.join(p).display().to_string();

    d.docker(&["run", "-d", "--name", "box", "busybox", "sleep", "300"])
        .ok();
    // Container → host: a file.
    d.docker(&["cp", "box:/etc/passwd", &h("passwd")]).ok();
    let inside = d.docker(&["exec", "box", "cat", "/etc/passwd"]);
    assert_eq!(
        std::fs::read_to_string(host.join("passwd")).unwrap(),
        inside.ok()
    );
    // Host → container: a file into a directory, and a whole tree.
    d.docker(&["cp", &h("hello.txt"), "box:/tmp/"]).ok();
    assert_eq!(
        d.docker(&["exec", "box", "cat", "/tmp/hello.txt"]).ok(),
        "hello from the host\n"
    );
    d.docker(&["cp", &h("tree"), "box:/tmp/tree"]).ok();
    assert_eq!(
        d.docker(&["exec", "box", "cat", "/tmp/tree/a", "/tmp/tree/sub/b"])
            .ok(),
        "a\nb\n"
    );
    // ... and the tree back out, under a new name.
    d.docker(&["cp", "box:/tmp/tree", &h("back")]).ok();
    assert_eq!(std::fs::read(host.join("back/sub/b")).unwrap(), b"b\n");
    // To stdout as a tar stream.
    let out = d.docker(&["cp", "box:/tmp/hello.txt", "-"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("hello from the host"), "{out:?}");
    // A path that is not there.
    let out = d.docker(&["cp", "box:/nope", &h("nope")]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("/nope"), "{out:?}");

    // Symlinks in the container that point at `/` and `/tmp` lead into the
    // container's own tree, never the host's.
    d.docker(&["exec", "box", "ln", "-s", "/", "/escape"]).ok();
    d.docker(&["exec", "box", "ln", "-s", "/tmp", "/evil"]).ok();
    let marker = unique("berth-cp-escape-");
    std::fs::write(host.join(&marker), b"must stay in the container\n").unwrap();
    d.docker(&["cp", &h(&marker), "box:/evil/"]).ok();
    assert!(!std::path::Path::new("/tmp").join(&marker).exists());
    assert_eq!(
        d.docker(&["exec", "box", "cat", &format!("/tmp/{marker}")])
            .ok(),
        "must stay in the container\n"
    );
    d.docker(&[
        "exec",
        "box",
        "sh",
        "-c",
        "echo container-secret > /root-only",
    ])
    .ok();
    d.docker(&["cp", "box:/escape/root-only", &h("via-link")])
        .ok();
    assert_eq!(
        std::fs::read_to_string(host.join("via-link")).unwrap(),
        "container-secret\n"
    );
    let out = d.docker(&["cp", "box:/escape/../../../../proc/1/cmdline", &h("p")]);
    if out.code == 0 {
        // Whatever was read is the container's own PID 1 (sleep).
        let got = std::fs::read(host.join("p")).unwrap();
        assert!(got.starts_with(b"sleep"), "{got:?}");
    }
    // A tar whose entry climbs out with `..` is refused, and writes nothing.
    let climber = unique("berth-cp-climb-");
    let evil = tar_with(&[(&format!("../../../../../../tmp/{climber}"), b"x")]);
    let (status, body) = d.api("PUT", "/containers/box/archive?path=/tmp", &evil);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("leaves the destination"), "{body}");
    assert!(!std::path::Path::new("/tmp").join(&climber).exists());
    // Extraction into something that is not a directory.
    let (status, body) = d.api(
        "PUT",
        "/containers/box/archive?path=/etc/passwd",
        &tar_with(&[("f", b"x")]),
    );
    assert_eq!(status, 400, "{body}");
    let (status, _) = d.api(
        "PUT",
        "/containers/box/archive?path=/nowhere",
        &tar_with(&[]),
    );
    assert_eq!(status, 404);
    let (status, _) = d.api("HEAD", "/containers/nosuch/archive?path=/", b"");
    assert_eq!(status, 404);

    // A stopped container: its rootfs is mounted for the copy, then released.
    d.docker(&[
        "create",
        "--name",
        "stopped",
        "busybox",
        "cat",
        "/hello.txt",
    ])
    .ok();
    d.docker(&["cp", &h("hello.txt"), "stopped:/"]).ok();
    assert_eq!(
        d.docker(&["start", "-a", "stopped"]).ok(),
        "hello from the host\n"
    );
    d.docker(&["cp", "stopped:/hello.txt", &h("from-stopped")])
        .ok();
    assert_eq!(
        std::fs::read(host.join("from-stopped")).unwrap(),
        b"hello from the host\n"
    );

    // A read-only rootfs takes no copies in.
    d.docker(&[
        "run",
        "-d",
        "--read-only",
        "--name",
        "rofs",
        "busybox",
        "sleep",
        "300",
    ])
    .ok();
    let out = d.docker(&["cp", &h("hello.txt"), "rofs:/tmp/"]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("read-only"), "{out:?}");
    d.finish();
}
