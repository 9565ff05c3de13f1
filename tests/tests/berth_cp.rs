//! `berth cp` with the docker CLI's rules, against berthd and against a real
//! dockerd (which checks the client's side of the protocol and its rules).

use berth_tests::{require, run, Client, Daemon, Dockerd, Out, DOCKER};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The same copies, whichever daemon `client` talks to.
fn cp_scenarios(client: Client, host: &Path) {
    let ok = |args: &[&str]| -> String {
        let out = client(args, None);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        out.stdout
    };
    std::fs::create_dir_all(host.join("tree/sub")).unwrap();
    std::fs::create_dir_all(host.join("existing")).unwrap();
    std::fs::write(host.join("hello.txt"), b"hello from the host\n").unwrap();
    std::fs::write(host.join("tree/a"), b"a\n").unwrap();
    std::fs::write(host.join("tree/sub/b"), b"b\n").unwrap();
    let h = |p: &str| host.join(p).display().to_string();

    ok(&["run", "-d", "--name", "cpbox", "busybox", "sleep", "300"]);
    // Host → container: into a directory, under a new name, a whole tree.
    ok(&["cp", &h("hello.txt"), "cpbox:/tmp/"]);
    ok(&["cp", &h("hello.txt"), "cpbox:/tmp/renamed.txt"]);
    ok(&["cp", &h("tree"), "cpbox:/tmp/tree"]);
    assert_eq!(
        ok(&[
            "exec",
            "cpbox",
            "cat",
            "/tmp/hello.txt",
            "/tmp/renamed.txt",
            "/tmp/tree/a",
            "/tmp/tree/sub/b"
        ]),
        "hello from the host\nhello from the host\na\nb\n"
    );
    // Container → host: a file to a new name, a tree to a new name, a
    // tree's contents into an existing directory, a file into a directory.
    ok(&["cp", "cpbox:/etc/passwd", &h("pw")]);
    assert_eq!(
        std::fs::read_to_string(host.join("pw")).unwrap(),
        ok(&["exec", "cpbox", "cat", "/etc/passwd"])
    );
    ok(&["cp", "cpbox:/tmp/tree", &h("back")]);
    assert_eq!(std::fs::read(host.join("back/sub/b")).unwrap(), b"b\n");
    ok(&["cp", "cpbox:/tmp/tree/.", &h("existing")]);
    assert_eq!(std::fs::read(host.join("existing/a")).unwrap(), b"a\n");
    ok(&["cp", "cpbox:/tmp/renamed.txt", &h("existing")]);
    assert_eq!(
        std::fs::read(host.join("existing/renamed.txt")).unwrap(),
        b"hello from the host\n"
    );
    // To stdout as a tar.
    let tar = ok(&["cp", "cpbox:/tmp/hello.txt", "-"]);
    assert!(tar.contains("hello from the host"), "{tar:?}");
    // What is not there, and what cannot be.
    let out = client(&["cp", "cpbox:/nope", &h("x")], None);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("Could not find the file /nope in container cpbox"),
        "{out:?}"
    );
    let out = client(&["cp", &h("tree"), "cpbox:/etc/passwd"], None);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("cannot copy a directory to a file"),
        "{out:?}"
    );
    ok(&["rm", "-f", "cpbox"]);
}

#[test]
fn berth_cp_against_berthd() {
    let d = Daemon::start();
    let host = d.dir.join("host");
    cp_scenarios(&|args, input| d.berth_in(args, input), &host);
    d.finish();
}

#[test]
fn berth_cp_against_dockerd() {
    if !require(DOCKER) {
        return;
    }
    let Some(dd) = Dockerd::start() else {
        return;
    };
    dd.import_busybox();
    let host = dd.dir.join("host");
    let berth = |args: &[&str], input: Option<&[u8]>| -> Out {
        let mut c = Command::new(berth_tests::bin("berth"));
        c.arg("-H").arg(dd.host()).args(args);
        run(c, input, Duration::from_secs(60))
    };
    cp_scenarios(&berth, &host);
}
