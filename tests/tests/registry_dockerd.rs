//! Debian's dockerd pushes to and pulls from berth-registry (127.0.0.1 is
//! an insecure registry by default), and the pulled image runs.
//!
//! Skips when dockerd or the docker CLI is missing, except under `CI=true`.

mod registry_support;

use registry_support::{tempdir, Reg};

#[test]
fn dockerd_push_pull_run() {
    if !berth_tests::require(berth_tests::DOCKER) {
        return;
    }
    let Some(d) = berth_tests::Dockerd::start() else {
        return;
    };
    d.import_busybox();
    let reg = Reg::start();
    let image = format!("{}/library/busybox:t1", reg.addr);
    let ok = |args: &[&str]| {
        let o = d.docker(args);
        assert_eq!(
            o.code,
            0,
            "docker {args:?}: {o:?}\nregistry log:\n{}",
            reg.log()
        );
        o
    };
    ok(&["tag", "busybox:latest", &image]);
    ok(&["push", &image]);
    ok(&["rmi", &image, "busybox:latest"]);
    let pulled = ok(&["pull", &image]);
    assert!(
        pulled.stdout.contains("Downloaded newer image"),
        "{pulled:?}"
    );
    let run = ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        &image,
        "echo",
        "hello from berth-registry",
    ]);
    assert!(run.stdout.contains("hello from berth-registry"), "{run:?}");
    // The registry saw a Docker schema 2 manifest.
    let m = reg.req(
        "GET",
        "/v2/library/busybox/manifests/t1",
        &[(
            "Accept",
            "application/vnd.docker.distribution.manifest.v2+json",
        )],
        b"",
    );
    assert_eq!(m.status, 200);
    assert_eq!(
        m.header("content-type"),
        Some("application/vnd.docker.distribution.manifest.v2+json")
    );
}

#[test]
fn dockerd_login_with_token_auth_and_anonymous_pull() {
    if !berth_tests::require(berth_tests::DOCKER) {
        return;
    }
    let Some(d) = berth_tests::Dockerd::start() else {
        return;
    };
    d.import_busybox();
    let dir = tempdir();
    let htpasswd = dir.path().join("htpasswd");
    let hash = bcrypt::hash("s3cret", 4).unwrap();
    std::fs::write(&htpasswd, format!("carol:{hash}\n")).unwrap();
    let reg = Reg::start_with(Some(&format!(
        "[auth.htpasswd]\npath = \"{}\"\n[auth.token]\nanonymous_pull = true\n",
        htpasswd.display()
    )));
    let image = format!("{}/team/busybox:t1", reg.addr);
    let run = |args: &[&str], input: Option<&[u8]>| d.docker_in(args, input);
    let ok = |args: &[&str], input: Option<&[u8]>| {
        let o = run(args, input);
        assert_eq!(
            o.code,
            0,
            "docker {args:?}: {o:?}\nregistry log:\n{}",
            reg.log()
        );
        o
    };
    ok(&["tag", "busybox:latest", &image], None);
    // Anonymous clients get a pull-only token: the push is refused.
    let denied = run(&["push", &image], None);
    assert_ne!(denied.code, 0, "anonymous push must fail: {denied:?}");
    let bad = run(
        &["login", &reg.addr, "-u", "carol", "--password-stdin"],
        Some(b"wrong\n"),
    );
    assert_ne!(bad.code, 0, "{bad:?}");
    ok(
        &["login", &reg.addr, "-u", "carol", "--password-stdin"],
        Some(b"s3cret\n"),
    );
    ok(&["push", &image], None);
    ok(&["logout", &reg.addr], None);
    ok(&["rmi", &image], None);
    // Anonymous pull, through the token flow.
    ok(&["pull", &image], None);
    let out = ok(
        &["run", "--rm", "--network", "none", &image, "echo", "ok"],
        None,
    );
    assert!(out.stdout.contains("ok"));
}
