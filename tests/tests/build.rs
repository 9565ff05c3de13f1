//! `docker build` with the legacy builder (`DOCKER_BUILDKIT=0`) through the
//! real docker CLI against berthd (issue 10, first steps).

use berth_tests::{require, Daemon, DOCKER};

fn build(d: &Daemon, dir: &std::path::Path, args: &[&str]) -> berth_tests::Out {
    let mut c = d.docker_cmd();
    c.env("DOCKER_BUILDKIT", "0")
        .arg("build")
        .args(args)
        .arg(dir);
    berth_tests::run(c, None, std::time::Duration::from_secs(120))
}

#[test]
fn a_dockerfile_builds_caches_and_runs() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let ctx = d.dir.join("ctx");
    std::fs::create_dir_all(ctx.join("app/sub")).unwrap();
    std::fs::write(ctx.join("app/hello.txt"), "hello file\n").unwrap();
    std::fs::write(ctx.join("app/sub/deep.txt"), "deep\n").unwrap();
    std::fs::write(ctx.join("single"), "one\n").unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM busybox\nARG GREETING=hi\nENV APP=/srv/app WHO=world\nLABEL team=berth\nWORKDIR /srv\nCOPY app/ $APP/\nCOPY --chown=1000:1000 --chmod=640 single /srv/single\nRUN echo \"$GREETING $WHO\" > /srv/greeting && ls $APP/sub\nEXPOSE 8080\nUSER 1000\nENTRYPOINT [\"cat\"]\nCMD [\"/srv/greeting\"]\n",
    )
    .unwrap();
    let out = build(&d, &ctx, &["-t", "built:1", "--build-arg", "GREETING=hey"]);
    assert_eq!(out.code, 0, "{out:?}");
    for want in [
        "Step 1/12 : FROM busybox",
        "Step 8/12 : RUN",
        "deep.txt",
        "Successfully built ",
        "Successfully tagged built:1",
    ] {
        assert!(out.stdout.contains(want), "{want} missing:\n{}", out.stdout);
    }
    assert_eq!(d.docker(&["run", "--rm", "built:1"]).ok(), "hey world\n");
    let files = d.docker(&[
        "run",
        "--rm",
        "--entrypoint",
        "sh",
        "built:1",
        "-c",
        "cat /srv/app/hello.txt /srv/app/sub/deep.txt; stat -c '%u:%g %a' /srv/single; pwd; id -u",
    ]);
    assert_eq!(files.ok(), "hello file\ndeep\n1000:1000 640\n/srv\n1000\n");
    let cfg = d.inspect("built:1", "{{json .Config.Env}}|{{json .Config.Labels}}|{{json .Config.ExposedPorts}}|{{.Config.User}}|{{.Config.WorkingDir}}|{{json .Config.Entrypoint}}|{{json .Config.Cmd}}");
    assert_eq!(
        cfg,
        "[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"APP=/srv/app\",\"WHO=world\"]|{\"team\":\"berth\"}|{\"8080/tcp\":{}}|1000|/srv|[\"cat\"]|[\"/srv/greeting\"]"
    );
    // Before API 1.45 inspect shows each step's container config as
    // dockerd's classic builder records it: the RUN's command after its
    // build args, a config step's `#(nop)`; from 1.45 it is gone.
    let legacy = |r: &str| -> serde_json::Value {
        let (status, body) = d.api("GET", &format!("/v1.44/images/{r}/json"), b"");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    };
    assert_eq!(
        legacy("built:1")["ContainerConfig"]["Cmd"],
        serde_json::json!(["/bin/sh", "-c", "#(nop) ", "CMD [\"/srv/greeting\"]"])
    );
    let hist = d.docker(&["history", "-q", "built:1"]);
    let run_step = hist.ok().lines().nth(4).unwrap().to_string();
    let run_img = legacy(&run_step);
    assert_eq!(
        run_img["ContainerConfig"]["Cmd"],
        serde_json::json!([
            "|1",
            "GREETING=hey",
            "/bin/sh",
            "-c",
            "echo \"$GREETING $WHO\" > /srv/greeting && ls $APP/sub"
        ])
    );
    assert_eq!(
        run_img["Container"].as_str().unwrap().len(),
        64,
        "{run_img}"
    );
    let (_, now) = d.api("GET", "/images/built:1/json", b"");
    assert!(
        !now.contains("ContainerConfig") && !now.contains("\"Container\""),
        "{now}"
    );
    // `-q` prints the id alone, and --iidfile gets it, as with dockerd.
    let iid = d.dir.join("iid");
    let q = build(
        &d,
        &ctx,
        &[
            "-q",
            "--iidfile",
            iid.to_str().unwrap(),
            "--build-arg",
            "GREETING=hey",
        ],
    );
    assert_eq!(q.code, 0, "{q:?}");
    let id = std::fs::read_to_string(&iid).unwrap();
    let id = id.trim();
    assert!(
        id.starts_with("sha256:") && q.stdout.trim() == id,
        "{q:?} {id}"
    );
    // Again: every step from the cache, the same image.
    let again = build(&d, &ctx, &["-t", "built:1", "--build-arg", "GREETING=hey"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(
        again.stdout.matches("Using cache").count(),
        11,
        "{}",
        again.stdout
    );
    let id1 = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Successfully built "))
        .unwrap()
        .to_string();
    assert!(again.stdout.contains(&format!("Successfully built {id1}")));
    // A changed file misses the cache from its COPY on.
    std::fs::write(ctx.join("app/hello.txt"), "changed\n").unwrap();
    let third = build(&d, &ctx, &["-t", "built:2", "--build-arg", "GREETING=hey"]);
    assert_eq!(
        third.stdout.matches("Using cache").count(),
        4,
        "{}",
        third.stdout
    );
    // No intermediate container is left.
    assert_eq!(d.docker(&["ps", "-aq"]).ok().trim(), "");
    // Intermediate images hide behind the built ones (shown with -a) and go
    // with them on rmi, as dockerd's.
    let listed = d.docker(&["images", "-q"]).ok().lines().count();
    let all = d.docker(&["images", "-aq"]).ok().lines().count();
    assert!(all > listed, "{listed} {all}");
    assert_eq!(
        d.docker(&["images", "-q", "--filter", "dangling=true"])
            .ok()
            .trim(),
        ""
    );
    d.docker(&["rmi", "built:1", "built:2"]).ok();
    let left = d.docker(&["images", "-aq"]).ok().lines().count();
    assert_eq!(left, 1, "only busybox should be left");
    d.finish();
}

#[test]
fn a_failing_run_gives_dockers_message_and_leaves_nothing() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let ctx = d.dir.join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM busybox\nRUN echo before && exit 3\n",
    )
    .unwrap();
    let out = build(&d, &ctx, &["-t", "fails:1", "--force-rm"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr
            .contains("The command '/bin/sh -c echo before && exit 3' returned a non-zero code: 3"),
        "{out:?}"
    );
    assert!(out.stdout.contains("before"), "{out:?}");
    assert_eq!(d.docker(&["ps", "-aq"]).ok().trim(), "");
    // Quiet, the build's output is still shown when it fails (as dockerd).
    let out = build(&d, &ctx, &["-q", "--force-rm"]);
    assert_ne!(out.code, 0);
    assert!(
        format!("{}{}", out.stdout, out.stderr).contains("before"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("returned a non-zero code: 3"),
        "{out:?}"
    );
    // Bad input: an unknown instruction, a source outside the context, no base image.
    for (df, want) in [
        ("FROM busybox\nFOO bar\n", "unknown instruction: FOO"),
        (
            "FROM busybox\nCOPY ../x /x\n",
            "forbidden path outside the build context",
        ),
        // A base image that is not here is pulled, as dockerd does; from a
        // registry on loopback that is not there, the pull's error.
        ("FROM 127.0.0.1:9/nosuchimage\n", "127.0.0.1:9"),
    ] {
        std::fs::write(ctx.join("Dockerfile"), df).unwrap();
        let out = build(&d, &ctx, &[]);
        assert_ne!(out.code, 0, "{df}");
        assert!(out.stderr.contains(want), "{df}: {out:?}");
    }
    assert_eq!(d.docker(&["ps", "-aq"]).ok().trim(), "");
    d.finish();
}

#[test]
fn multi_stage_with_copy_from_and_target() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let ctx = d.dir.join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM busybox AS builder\nRUN mkdir -p /out/lib && echo artifact > /out/lib/a.txt && echo bin > /out/tool\n\nFROM busybox AS unused\nRUN exit 9\n\nFROM busybox\nCOPY --from=builder /out/lib /opt/lib/\nCOPY --from=0 /out/tool /usr/local/bin/tool\nCMD [\"cat\", \"/opt/lib/a.txt\", \"/usr/local/bin/tool\"]\n",
    )
    .unwrap();
    // The unused stage (which fails) is not built.
    let out = build(&d, &ctx, &["-t", "multi:1"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!out.stdout.contains("exit 9"), "{}", out.stdout);
    assert_eq!(
        d.docker(&["run", "--rm", "multi:1"]).ok(),
        "artifact\nbin\n"
    );
    // --target builds up to a stage.
    let out = build(&d, &ctx, &["-t", "multi:builder", "--target", "builder"]);
    assert_eq!(out.code, 0, "{out:?}");
    let files = d.docker(&["run", "--rm", "multi:builder", "cat", "/out/tool"]);
    assert_eq!(files.ok(), "bin\n");
    let bad = build(&d, &ctx, &["--target", "nosuch"]);
    assert!(
        bad.stderr.contains("failed to reach build target nosuch"),
        "{bad:?}"
    );
    assert_eq!(d.docker(&["ps", "-aq"]).ok().trim(), "");
    d.finish();
}

fn ctx_with_ignore(root: &std::path::Path) -> std::path::PathBuf {
    let ctx = root.join("bctx");
    std::fs::create_dir_all(ctx.join("keep")).unwrap();
    std::fs::write(ctx.join("keep/a.txt"), "kept\n").unwrap();
    std::fs::write(ctx.join("secret.txt"), "do not send\n").unwrap();
    std::fs::write(ctx.join(".dockerignore"), "secret.txt\n").unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM busybox\nCOPY . /ctx/\nCMD [\"ls\", \"-A\", \"/ctx\"]\n",
    )
    .unwrap();
    ctx
}

#[test]
fn berth_build_against_berthd_and_dockerd() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let ctx = ctx_with_ignore(&d.dir);
    let iid = d.dir.join("iid");
    let out = d.berth(&[
        "build",
        "-t",
        "bb:1",
        "--iidfile",
        iid.to_str().unwrap(),
        ctx.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("Successfully tagged bb:1"), "{out:?}");
    let id = std::fs::read_to_string(&iid).unwrap();
    assert!(id.starts_with("sha256:"), "{id}");
    // .dockerignore was honoured client-side; the Dockerfile and it are sent.
    let ls = d.docker(&["run", "--rm", "bb:1"]).ok().to_string();
    assert_eq!(ls, ".dockerignore\nDockerfile\nkeep\n");
    let q = d.berth(&["build", "-q", ctx.to_str().unwrap()]);
    assert_eq!(q.ok().trim(), id);
    let bad = d.berth(&["build", d.dir.join("nosuch").to_str().unwrap()]);
    assert_ne!(bad.code, 0);
    // The same command against a real dockerd (its legacy builder).
    if let Some(dd) = berth_tests::Dockerd::start() {
        dd.import_busybox();
        let mut c = std::process::Command::new(berth_tests::bin("berth"));
        c.env("DOCKER_HOST", dd.host())
            .args(["build", "-t", "bb:1", ctx.to_str().unwrap()]);
        let out = berth_tests::run(c, None, std::time::Duration::from_secs(120));
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(
            dd.docker(&["run", "--rm", "bb:1"]).ok(),
            ".dockerignore\nDockerfile\nkeep\n"
        );
    }
    d.finish();
}

#[test]
fn closing_the_connection_cancels_the_build() {
    if !require(DOCKER) {
        return;
    }
    use std::io::{BufRead, Write};
    let d = Daemon::start();
    let tar = berth_tests::tar_with(&[("Dockerfile", b"FROM busybox\nRUN sleep 60\n")]);
    let mut s = std::os::unix::net::UnixStream::connect(&d.sock).unwrap();
    write!(
        s,
        "POST /build?t=cancelled:1 HTTP/1.1\r\nHost: berth\r\nContent-Type: application/x-tar\r\nContent-Length: {}\r\n\r\n",
        tar.len()
    )
    .unwrap();
    s.write_all(&tar).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut r = std::io::BufReader::new(s);
    let mut line = String::new();
    while !line.contains("Running in") {
        line.clear();
        assert!(r.read_line(&mut line).unwrap() > 0, "stream ended");
    }
    drop(r);
    // The RUN's container goes, and no image is tagged.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !d.docker(&["ps", "-aq"]).ok().trim().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the build's container is still there"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_ne!(d.docker(&["image", "inspect", "cancelled:1"]).code, 0);
    d.finish();
}

/// Independent stages build at once: the `server` stage's RUN waits for a
/// connection that only the `client` stage's RUN makes (on the host's
/// loopback, `--network host`), so a builder running stages one after the
/// other fails here (the server gives up after 60 s); the output still
/// reads in stage order. The client reads from a file, not a pipe from
/// `echo`: busybox nc exits when the server half-closes (its stdin is
/// empty), which can come before `echo` has written into the pipe.
#[test]
fn independent_stages_build_at_once() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let ctx = d.dir.join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    let port = 20000 + std::process::id() % 20000;
    std::fs::write(
        ctx.join("Dockerfile"),
        format!(
            "FROM busybox AS server\n\
             RUN timeout 60 nc -l -p {port} > /got\n\
             FROM busybox AS client\n\
             RUN echo hello > /hello; i=0; until nc -w 2 127.0.0.1 {port} < /hello; do i=$((i+1)); [ $i -lt 300 ] || exit 1; sleep 0.1; done\n\
             FROM busybox\n\
             COPY --from=server /got /got\n\
             COPY --from=client /etc/passwd /client\n\
             CMD [\"cat\", \"/got\"]\n"
        ),
    )
    .unwrap();
    let out = build(&d, &ctx, &["--network", "host", "-t", "par:1"]);
    assert_eq!(out.code, 0, "{out:?}");
    let steps: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("Step "))
        .map(|l| l.split(" : ").next().unwrap())
        .collect();
    assert_eq!(
        steps,
        (1..=8).map(|i| format!("Step {i}/8")).collect::<Vec<_>>(),
        "{out:?}"
    );
    assert_eq!(d.docker(&["run", "--rm", "par:1"]).ok(), "hello\n");
    // --network container:X: the steps share that container's network
    // (compose's build network), and a missing one is an error.
    d.docker(&["run", "-d", "--name", "netc", "busybox", "sleep", "60"])
        .ok();
    let ip = d.inspect("netc", "{{.NetworkSettings.IPAddress}}");
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM busybox\nRUN ip -4 addr show eth0 > /addr\n",
    )
    .unwrap();
    let out = build(&d, &ctx, &["--network", "container:netc", "-t", "cn:1"]);
    assert_eq!(out.code, 0, "{out:?}");
    let addr = d.docker(&["run", "--rm", "cn:1", "cat", "/addr"]);
    assert!(addr.ok().contains(&format!("inet {ip}/")), "{ip}: {addr:?}");
    // --cpuset-cpus and --cgroup-parent apply to the RUN steps.
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM busybox\nRUN grep Cpus_allowed_list /proc/self/status > /cpus; cat /proc/self/cgroup > /cg\n",
    )
    .unwrap();
    let parent = format!("{}/bld", d.cgroup_parent);
    let out = build(
        &d,
        &ctx,
        &[
            "--cpuset-cpus",
            "0",
            "--cgroup-parent",
            &parent,
            "-t",
            "cg:1",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let seen = d.docker(&["run", "--rm", "cg:1", "cat", "/cpus", "/cg"]);
    let seen = seen.ok();
    assert!(seen.starts_with("Cpus_allowed_list:\t0\n"), "{seen}");
    assert!(seen.contains(&format!("{parent}/")), "{seen}");
    berth_tests::remove_cgroup_parent(&parent);
    let out = build(&d, &ctx, &["--network", "container:nonesuch"]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("No such container: nonesuch"),
        "{out:?}"
    );
    d.docker(&["rm", "-f", "netc"]).ok();
    d.finish();
}

/// `--cache-from`: an image built elsewhere (here: saved, removed with its
/// intermediates and loaded back, so the local cache knows nothing of it)
/// stands in for the steps it was made by, as with dockerd's legacy builder;
/// without `--cache-from` the steps run.
#[test]
fn cache_from_an_image_without_local_cache() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let ctx = d.dir.join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM busybox\nENV A=1\nRUN echo hi > /hi\nCOPY Dockerfile /df\nRUN echo two > /two\nCMD [\"cat\", \"/hi\"]\n",
    )
    .unwrap();
    let out = build(&d, &ctx, &["-t", "cf:1"]);
    assert_eq!(out.code, 0, "{out:?}");
    let id = d
        .docker(&["image", "inspect", "-f", "{{.Id}}", "cf:1"])
        .ok()
        .to_string();
    let tar = d.dir.join("cf.tar");
    d.docker(&["save", "-o", tar.to_str().unwrap(), "cf:1"])
        .ok();
    d.docker(&["rmi", "cf:1"]).ok();
    d.docker(&["load", "-i", tar.to_str().unwrap()]).ok();
    // Without it, the local cache does not know these steps.
    let out = build(&d, &ctx, &["-t", "cf:3"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("Running in"), "{out:?}");
    let out = build(&d, &ctx, &["--cache-from", "cf:1", "-t", "cf:2"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout.matches(" ---> Using cache").count(),
        5,
        "{out:?}"
    );
    assert!(!out.stdout.contains("Running in"), "{out:?}");
    let id2 = d
        .docker(&["image", "inspect", "-f", "{{.Id}}", "cf:2"])
        .ok()
        .to_string();
    assert_eq!(id, id2);
    assert_eq!(d.docker(&["run", "--rm", "cf:2"]).ok(), "hi\n");
    d.finish();
}

/// A one-file HTTP server on loopback for `ADD <url>`: serves `body` for
/// every path with a Last-Modified date, until a request for `/quit`.
fn serve_once_per_request(body: &'static [u8]) -> (u16, std::thread::JoinHandle<()>) {
    use std::io::{BufRead, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        for s in l.incoming().take(50) {
            let Ok(mut s) = s else { continue };
            let mut r = std::io::BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            let _ = r.read_line(&mut line);
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap_or(0) <= 2 {
                    break;
                }
            }
            if line.contains("/quit") {
                return;
            }
            if line.contains("/missing") {
                let _ = s.write_all(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                continue;
            }
            let _ = write!(
                s,
                "HTTP/1.0 200 OK\r\nContent-Length: {}\r\nLast-Modified: Wed, 21 Oct 2015 07:28:00 GMT\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(body);
        }
    });
    (port, h)
}

/// `ADD <url>`: fetched by the daemon (from loopback here), named after the
/// URL's last segment, mode 0600 and the server's Last-Modified time, not
/// extracted; a 404 fails the build with the URL in the message.
#[test]
fn add_fetches_urls() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let (port, server) = serve_once_per_request(b"remote content\n");
    let ctx = d.dir.join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!(
            "FROM busybox\n\
             ADD http://127.0.0.1:{port}/files/remote.txt /r/\n\
             ADD http://127.0.0.1:{port}/x.tar.gz /t/x.tar.gz\n\
             CMD stat -c '%n %a %Y' /r/remote.txt /t/x.tar.gz && cat /r/remote.txt\n"
        ),
    )
    .unwrap();
    let out = build(&d, &ctx, &["-t", "url:1"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        d.docker(&["run", "--rm", "url:1"]).ok(),
        "/r/remote.txt 600 1445412480\n/t/x.tar.gz 600 1445412480\nremote content\n"
    );
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("FROM busybox\nADD http://127.0.0.1:{port}/missing /m\n"),
    )
    .unwrap();
    let out = build(&d, &ctx, &["-t", "url:2"]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains(&format!("127.0.0.1:{port}/missing")),
        "{out:?}"
    );
    assert!(out.stderr.contains("404"), "{out:?}");
    let _ = std::net::TcpStream::connect(("127.0.0.1", port))
        .and_then(|mut s| std::io::Write::write_all(&mut s, b"GET /quit HTTP/1.0\r\n\r\n"));
    server.join().unwrap();
    d.finish();
}

/// `docker builder prune`: `-a` forgets every cached step (the next build
/// runs them again); without it only steps whose image is gone.
#[test]
fn builder_prune_forgets_cached_steps() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let ctx = d.dir.join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(ctx.join("Dockerfile"), "FROM busybox\nRUN echo x > /x\n").unwrap();
    assert_eq!(build(&d, &ctx, &["-t", "bp:1"]).code, 0);
    let again = build(&d, &ctx, &["-t", "bp:1"]);
    assert!(again.stdout.contains("Using cache"), "{again:?}");
    let kept = d.docker(&["builder", "prune", "-f"]).ok().to_string();
    assert!(kept.contains("Total reclaimed space: 0B"), "{kept}");
    assert!(build(&d, &ctx, &["-t", "bp:1"])
        .stdout
        .contains("Using cache"));
    let all = d.docker(&["builder", "prune", "-af"]).ok().to_string();
    assert!(all.contains("Deleted build cache objects:"), "{all}");
    assert!(all.lines().any(|l| l.len() == 64), "{all}");
    let after = build(&d, &ctx, &["-t", "bp:1"]);
    assert!(after.stdout.contains("Running in"), "{after:?}");
    let bad = d.docker(&["builder", "prune", "-f", "--filter", "until=1h"]);
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("filters"), "{bad:?}");
    d.finish();
}

/// `remote=` (docker-py's and compose's URL builds): a Git repository at a
/// ref and subdirectory, cloned by the daemon from a git daemon on loopback;
/// a URL serving a Dockerfile; a missing ref and a subdirectory outside the
/// repository are errors (500, as dockerd's) that build nothing.
#[test]
fn remote_contexts_from_git_and_a_url() {
    if !require(DOCKER) || !require("git") {
        return;
    }
    let d = Daemon::start();
    let served = d.dir.join("git");
    let repo = served.join("repo");
    std::fs::create_dir_all(repo.join("app")).unwrap();
    let git = |args: &[&str]| {
        let o = std::process::Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "git {args:?}: {o:?}");
    };
    std::fs::write(
        repo.join("app/Dockerfile"),
        "FROM busybox\nCOPY hello /hello\nCMD [\"cat\", \"/hello\"]\n",
    )
    .unwrap();
    std::fs::write(repo.join("app/hello"), "v1\n").unwrap();
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "one"]);
    git(&["tag", "v1"]);
    std::fs::write(repo.join("app/hello"), "v2\n").unwrap();
    git(&["commit", "-q", "-am", "two"]);
    let port = berth_tests::free_port();
    // git-daemon itself: `git daemon` runs it as a child of its own, which
    // would be left behind when the parent is killed.
    let exec_path = std::process::Command::new("git")
        .arg("--exec-path")
        .output()
        .unwrap();
    let exec_path = String::from_utf8(exec_path.stdout).unwrap();
    let mut server = std::process::Command::new(format!("{}/git-daemon", exec_path.trim()))
        .args(["--reuseaddr", "--export-all", "--listen=127.0.0.1"])
        .arg(format!("--port={port}"))
        .arg(format!("--base-path={}", served.display()))
        .arg(&served)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let build = |remote: &str, tag: &str| {
        let q = remote.replace('#', "%23");
        d.api("POST", &format!("/build?remote={q}&t={tag}"), b"")
    };
    let url = format!("git://127.0.0.1:{port}/repo");
    for (fragment, want) in [("#v1:app", "v1\n"), ("#main:app", "v2\n")] {
        let (status, out) = build(&format!("{url}{fragment}"), "g:1");
        assert_eq!(status, 200, "{out}");
        assert!(out.contains("Successfully tagged g:1"), "{out}");
        assert_eq!(d.docker(&["run", "--rm", "g:1"]).ok(), want);
    }
    for (fragment, want) in [
        ("#nosuch:app", "error fetching"),
        ("#v1:../", "outside the repository"),
    ] {
        let (status, out) = build(&format!("{url}{fragment}"), "g:2");
        assert_eq!(status, 500, "{out}");
        assert!(out.contains(want), "{out}");
    }
    assert_eq!(d.docker(&["image", "inspect", "g:2"]).code, 1);
    let _ = server.kill();
    let _ = server.wait();
    // A URL of a Dockerfile alone.
    let (port, web) = serve_once_per_request(b"FROM busybox\nCMD [\"echo\", \"from-url\"]\n");
    let (status, out) = build(&format!("http://127.0.0.1:{port}/Dockerfile"), "u:1");
    assert_eq!(status, 200, "{out}");
    assert_eq!(d.docker(&["run", "--rm", "u:1"]).ok(), "from-url\n");
    let _ = std::net::TcpStream::connect(("127.0.0.1", port))
        .and_then(|mut s| std::io::Write::write_all(&mut s, b"GET /quit HTTP/1.0\r\n\r\n"));
    web.join().unwrap();
    // Nothing of the clones is left in the daemon's temporary directory.
    let left: Vec<_> = std::fs::read_dir(d.dir.join("data/tmp"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("git-context"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    d.finish();
}
