//! Docker contexts in `berth`: the docker CLI's store (contexts made by
//! `docker context create` serve berth, and berth's serve docker), the
//! docker CLI's precedence (--context, -H, DOCKER_HOST, DOCKER_CONTEXT,
//! config.json's currentContext, default), a context's TLS material against
//! a berthd with `--tlsverify`, and `context ls/inspect/rm/use/show/create`
//! output compared with the docker CLI's on the same store. Each test has a
//! config directory of its own (DOCKER_CONFIG), never ~/.docker.

use berth_tests::{bin, require, run, tls_certificates, Daemon, Out, TlsBerthd, DOCKER};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// `program` with only `config` for its configuration: no host, context or
/// TLS variables from the test's environment.
fn cli(program: &Path, config: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut c = Command::new(program);
    for k in [
        "DOCKER_HOST",
        "BERTH_HOST",
        "DOCKER_CONTEXT",
        "DOCKER_TLS_VERIFY",
        "DOCKER_CERT_PATH",
        "DOCKER_API_VERSION",
        "BERTH_API_VERSION",
    ] {
        c.env_remove(k);
    }
    c.env("DOCKER_CONFIG", config).args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    run(c, None, Duration::from_secs(60))
}

/// Runs `args` with berth and with the docker CLI on the same store and
/// asserts the same exit status, stdout and stderr.
#[track_caller]
fn same(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let b = cli(&bin("berth"), config, args, env);
    let k = cli(Path::new(DOCKER), config, args, env);
    assert_eq!(b.code, k.code, "{args:?}: {b:?} vs {k:?}");
    assert_eq!(b.stdout, k.stdout, "{args:?}");
    assert_eq!(b.stderr, k.stderr, "{args:?}");
    b
}

#[test]
fn docker_contexts_on_a_unix_socket() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    d.berth(&["create", "--name", "ctx-probe", "busybox"]).ok();
    let cfg_dir = tempfile::Builder::new()
        .prefix("berth-ctx")
        .tempdir_in("/tmp")
        .unwrap();
    let cfg = cfg_dir.path();
    let berth = |args: &[&str], env: &[(&str, &str)]| cli(&bin("berth"), cfg, args, env);
    let docker = |args: &[&str], env: &[(&str, &str)]| cli(Path::new(DOCKER), cfg, args, env);
    let names = ["ps", "-a", "--format", "{{.Names}}"];
    fn with<'a>(pre: &[&'a str], names: &[&'a str]) -> Vec<&'a str> {
        pre.iter().chain(names).copied().collect()
    }

    // A context made by the real docker CLI, pointing at berthd's socket.
    let host = d.host();
    let out = docker(
        &[
            "context",
            "create",
            "bx",
            "--description",
            "a berthd <test>",
            "--docker",
            &format!("host={host}"),
        ],
        &[],
    );
    assert_eq!(out.ok(), "bx\n");
    assert_eq!(
        berth(&with(&["--context", "bx"], &names), &[]).ok(),
        "ctx-probe\n"
    );
    assert_eq!(berth(&with(&["-c", "bx"], &names), &[]).ok(), "ctx-probe\n");

    // `context use`: config.json's currentContext, read by both CLIs.
    std::fs::write(cfg.join("config.json"), r#"{"auths": {}, "psFormat": "x"}"#).unwrap();
    let out = berth(&["context", "use", "bx"], &[]);
    assert_eq!(out.ok(), "bx\n");
    assert_eq!(out.stderr, "Current context is now \"bx\"\n");
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cfg.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["currentContext"], "bx");
    assert_eq!(config["psFormat"], "x", "other keys are kept: {config}");
    assert_eq!(docker(&["context", "show"], &[]).ok(), "bx\n");
    assert_eq!(berth(&["context", "show"], &[]).ok(), "bx\n");
    assert_eq!(berth(&names, &[]).ok(), "ctx-probe\n");

    // Precedence. DOCKER_HOST (and berth's BERTH_HOST) beat currentContext.
    let nowhere = "unix:///nonexistent/berth.sock";
    for var in ["DOCKER_HOST", "BERTH_HOST"] {
        let out = berth(&names, &[(var, nowhere)]);
        assert_ne!(out.code, 0, "{var}: {out:?}");
        assert!(out.stderr.contains("/nonexistent/berth.sock"), "{out:?}");
        assert_eq!(
            berth(&["context", "show"], &[(var, nowhere)]).ok(),
            "default\n"
        );
    }
    same(cfg, &["context", "show"], &[("DOCKER_HOST", nowhere)]);
    // --context beats DOCKER_HOST; -H beats the current context.
    let out = berth(
        &with(&["--context", "bx"], &names),
        &[("DOCKER_HOST", nowhere)],
    );
    assert_eq!(out.ok(), "ctx-probe\n");
    let out = berth(&with(&["-H", nowhere], &names), &[]);
    assert_ne!(out.code, 0, "{out:?}");
    // DOCKER_CONTEXT beats currentContext: a missing one is docker's error.
    let out = same(cfg, &names, &[("DOCKER_CONTEXT", "nope")]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.starts_with(
            "Failed to initialize: unable to resolve docker endpoint: context \"nope\": context not found: open "
        ),
        "{out:?}"
    );
    let out = same(cfg, &with(&["--context", "nope"], &names), &[]);
    assert_eq!(out.code, 1);
    // --context with -H is refused, as docker refuses it.
    let out = same(cfg, &with(&["--context", "bx", "-H", &host], &names), &[]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr,
        "conflicting options: cannot specify both --host and --context\n"
    );

    // A context made by berth serves the docker CLI.
    let out = berth(
        &[
            "context",
            "create",
            "made-by-berth",
            "--docker",
            &format!("host={host}"),
        ],
        &[],
    );
    assert_eq!(out.ok(), "made-by-berth\n");
    assert_eq!(
        out.stderr,
        "Successfully created context \"made-by-berth\"\n"
    );
    assert_eq!(
        docker(&with(&["--context", "made-by-berth"], &names), &[]).ok(),
        "ctx-probe\n"
    );
    // A copy of a context (--from), by each CLI.
    berth(&["context", "create", "copy-b", "--from", "bx"], &[]).ok();
    docker(&["context", "create", "copy-d", "--from", "bx"], &[]).ok();
    assert_eq!(
        berth(&with(&["--context", "copy-d"], &names), &[]).ok(),
        "ctx-probe\n"
    );

    // ls, inspect, show on the same store print what docker prints. With
    // DOCKER_HOST set both describe the default context alike.
    let dh = [("DOCKER_HOST", host.as_str())];
    for args in [
        &["context", "ls"][..],
        &["context", "ls", "-q"],
        &["context", "ls", "--format", "json"],
        &["context", "ls", "--format", "{{.Name}}: {{.Description}}"],
        &["context", "inspect"],
        &["context", "inspect", "default", "bx", "copy-b", "copy-d"],
        &[
            "context",
            "inspect",
            "--format",
            "{{.Endpoints.docker.Host}}",
            "bx",
        ],
        &["context", "inspect", "bx", "nope"],
        &["context", "show"],
    ] {
        same(cfg, args, &dh);
    }
    let out = same(cfg, &["context", "ls"], &dh);
    let row = |text: &str, start: &str| -> Vec<String> {
        let line = text.lines().find(|l| l.starts_with(start)).unwrap_or("");
        line.split("   ")
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect()
    };
    assert_eq!(
        row(&out.stdout, "bx "),
        ["bx", "a berthd <test>", &host],
        "{out:?}"
    );
    assert!(out.stderr.starts_with("Warning: DOCKER_HOST"), "{out:?}");
    // Without it the current context is bx; only the default context's
    // endpoint differs (berth's socket, not /var/run/docker.sock).
    for args in [
        &["context", "ls", "-q"][..],
        &[
            "context",
            "ls",
            "--format",
            "{{.Name}}|{{.Current}}|{{.Description}}|{{.Error}}",
        ],
        &["context", "inspect"],
        &["--context", "nope", "context", "ls", "-q"],
        &[
            "--context",
            "nope",
            "context",
            "ls",
            "--format",
            "{{.Name}} {{.Error}}",
        ],
        &["--context", "made-by-berth", "context", "show"],
    ] {
        same(cfg, args, &[]);
    }
    let out = berth(&["context", "ls"], &[]);
    assert_eq!(
        row(out.ok(), "bx "),
        ["bx *", "a berthd <test>", &host],
        "{out:?}"
    );

    // rm: refusals and removals as docker's.
    same(cfg, &["context", "rm", "default", "nope", "bx"], &[]);
    same(cfg, &["context", "use", "nope"], &[]);
    same(
        cfg,
        &["context", "create", "bx", "--docker", "host=unix:///x"],
        &[],
    );
    same(
        cfg,
        &["context", "create", "x", "--docker", "host=unix:///x"],
        &[],
    );
    same(cfg, &["context", "create", "default"], &[]);
    let out = berth(&["context", "rm", "copy-b", "copy-d"], &[]);
    assert_eq!(out.ok(), "copy-b\ncopy-d\n");
    assert_eq!(
        docker(&["context", "ls", "-q"], &[]).ok(),
        "bx\ndefault\nmade-by-berth\n"
    );
    let out = docker(&["context", "rm", "made-by-berth"], &[]);
    assert_eq!(out.ok(), "made-by-berth\n");
    // The current one goes only with -f, which forgets it in config.json.
    let out = berth(&["context", "rm", "-f", "bx"], &[]);
    assert_eq!(out.ok(), "bx\n");
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cfg.join("config.json")).unwrap()).unwrap();
    assert!(config.get("currentContext").is_none(), "{config}");
    assert_eq!(berth(&["context", "ls", "-q"], &[]).ok(), "default\n");
    let out = berth(&["context", "use", "default"], &[]);
    assert_eq!(out.ok(), "default\n");
    d.finish();
}

#[test]
fn a_context_with_tls_material_reaches_a_tlsverify_berthd() {
    if !require(DOCKER) || !require("openssl") {
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("berth-ctxtls")
        .tempdir_in("/tmp")
        .unwrap();
    let d = dir.path();
    tls_certificates(d);
    let daemon = TlsBerthd::start(d);
    let cfg = d.join("docker-config");
    let p = |n: &str| d.join(n).to_str().unwrap().to_string();
    let (ca, cert, key) = (p("ca.pem"), p("cert.pem"), p("key.pem"));
    let berth = |args: &[&str]| cli(&bin("berth"), &cfg, args, &[]);
    let docker = |args: &[&str]| cli(Path::new(DOCKER), &cfg, args, &[]);
    let create = |program: &dyn Fn(&[&str]) -> Out, name: &str, docker_opts: String| {
        let out = program(&["context", "create", name, "--docker", &docker_opts]);
        assert_eq!(out.ok(), format!("{name}\n"));
    };
    let os = |ctx: &str| berth(&["--context", ctx, "info", "--format", "{{.OSType}}"]);
    let h = &daemon.host;

    // The material, made by the docker CLI: verified, with the client's
    // certificate.
    create(
        &docker,
        "tls",
        format!("host={h},ca={ca},cert={cert},key={key}"),
    );
    assert_eq!(os("tls").ok(), "linux\n");
    berth(&["context", "use", "tls"]).ok();
    assert_eq!(
        berth(&["version", "--format", "{{.Server.Os}}"]).ok(),
        "linux\n"
    );
    berth(&["context", "use", "default"]).ok();
    // No material: plain HTTP, refused by the daemon.
    create(&docker, "bare", format!("host={h}"));
    let out = os("bare");
    assert_ne!(out.code, 0, "{out:?}");
    // A CA but no client certificate: refused in the handshake.
    create(&docker, "ca-only", format!("host={h},ca={ca}"));
    let out = os("ca-only");
    assert_ne!(out.code, 0, "{out:?}");
    // A client certificate and no CA: the server's certificate is checked
    // against the system's roots, which do not know the test CA...
    create(&docker, "no-ca", format!("host={h},cert={cert},key={key}"));
    let out = os("no-ca");
    assert_ne!(out.code, 0, "{out:?}");
    assert!(docker(&["--context", "no-ca", "version"]).code != 0);
    // ...unless the context skips verification.
    create(
        &docker,
        "skip",
        format!("host={h},cert={cert},key={key},skip-tls-verify=true"),
    );
    assert_eq!(os("skip").ok(), "linux\n");

    // Material stored by berth: the same files where docker keeps them,
    // and the docker CLI gets in with them.
    create(
        &berth,
        "by-berth",
        format!("host={h},ca={ca},cert={cert},key={key}"),
    );
    let inspect = berth(&["context", "inspect", "by-berth"]);
    let v: serde_json::Value = serde_json::from_str(inspect.ok()).unwrap();
    let tls_path = v[0]["Storage"]["TLSPath"].as_str().unwrap().to_string();
    for (f, orig) in [("ca.pem", &ca), ("cert.pem", &cert), ("key.pem", &key)] {
        assert_eq!(
            std::fs::read(Path::new(&tls_path).join("docker").join(f)).unwrap(),
            std::fs::read(orig).unwrap(),
            "{f}"
        );
    }
    let out = docker(&[
        "--context",
        "by-berth",
        "version",
        "--format",
        "{{.Server.Os}}",
    ]);
    assert_eq!(out.ok(), "linux\n");
    assert_eq!(os("by-berth").ok(), "linux\n");
    // A copy keeps the material.
    berth(&["context", "create", "copy", "--from", "tls"]).ok();
    assert_eq!(os("copy").ok(), "linux\n");

    // Both CLIs list and inspect the TLS contexts alike.
    let dh = [("DOCKER_HOST", h.as_str())];
    for args in [
        &["context", "ls"][..],
        &[
            "context", "inspect", "tls", "bare", "skip", "by-berth", "copy",
        ],
        &["context", "ls", "--format", "json"],
    ] {
        same(&cfg, args, &dh);
    }
    // Bad material is refused at create, as docker refuses it.
    for docker in [
        format!("host={h},ca={key}"),
        format!("host={h},ca=/nonexistent/ca.pem"),
        "host=tcp://h:1,nope=1".to_string(),
    ] {
        same(
            &cfg,
            &["context", "create", "bad", "--docker", &docker],
            &[],
        );
    }
    drop(daemon);
}

/// The context's TLS files in the store, by endpoint and name.
fn tls_files(cfg: &Path, name: &str) -> Vec<(String, Vec<u8>)> {
    use sha2::Digest;
    let id = format!("{:x}", sha2::Sha256::digest(name.as_bytes()));
    let dir = cfg.join("contexts/tls").join(id);
    let mut out = Vec::new();
    for ep in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        for f in std::fs::read_dir(ep.path()).unwrap().flatten() {
            out.push((
                format!(
                    "{}/{}",
                    ep.file_name().to_string_lossy(),
                    f.file_name().to_string_lossy()
                ),
                std::fs::read(f.path()).unwrap(),
            ));
        }
    }
    out.sort();
    out
}

/// `context update`, `export` and `import` as the docker CLI: the same
/// output on the same store, archives that either CLI imports from the
/// other (TLS material included, also through `-`), and archives with a
/// path outside the context's files or without metadata refused with the
/// docker CLI's words, nothing imported.
#[test]
fn context_update_export_and_import() {
    if !require(DOCKER) {
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("berth-ctx")
        .tempdir_in("/tmp")
        .unwrap();
    let cfg = dir.path().join("config");
    let certs = dir.path().join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    tls_certificates(&certs);
    let berth = |args: &[&str]| cli(&bin("berth"), &cfg, args, &[]);
    let docker = |args: &[&str]| cli(Path::new(DOCKER), &cfg, args, &[]);
    let inspect = |name: &str| {
        docker(&[
            "context",
            "inspect",
            name,
            "-f",
            "{{json .Endpoints}} {{json .TLSMaterial}}",
        ])
        .ok()
        .to_string()
    };
    docker(&[
        "context",
        "create",
        "aa",
        "--description",
        "one",
        "--docker",
        "host=unix:///tmp/aa.sock",
    ])
    .ok();

    // update: each CLI in turn, the same words.
    let out = same(
        &cfg,
        &["context", "update", "aa", "--description", "two"],
        &[],
    );
    assert_eq!(out.stdout, "aa\n");
    assert_eq!(out.stderr, "Successfully updated context \"aa\"\n");
    let ca = format!("ca={}", certs.join("ca.pem").display());
    let cert = format!("cert={}", certs.join("cert.pem").display());
    let key = format!("key={}", certs.join("key.pem").display());
    let tls = format!("host=tcp://127.0.0.1:2376,{ca},{cert},{key}");
    berth(&["context", "update", "aa", "--docker", &tls]).ok();
    assert_eq!(
        inspect("aa"),
        "{\"docker\":{\"Host\":\"tcp://127.0.0.1:2376\",\"SkipTLSVerify\":false}} {\"docker\":[\"ca.pem\",\"cert.pem\",\"key.pem\"]}\n"
    );
    let described = |name: &str| {
        docker(&["context", "ls", "--format", "{{.Name}}:{{.Description}}"])
            .ok()
            .lines()
            .any(|l| l == format!("{name}:two"))
    };
    assert!(described("aa"));
    let files = tls_files(&cfg, "aa");
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["docker/ca.pem", "docker/cert.pem", "docker/key.pem"]
    );
    assert_eq!(files[0].1, std::fs::read(certs.join("ca.pem")).unwrap());
    // A new endpoint without TLS drops the endpoint's files.
    berth(&[
        "context",
        "update",
        "aa",
        "--docker",
        "host=unix:///tmp/a2.sock",
    ])
    .ok();
    assert!(tls_files(&cfg, "aa").is_empty());
    berth(&["context", "update", "aa", "--docker", &tls]).ok();
    for args in [
        &["context", "update"][..],
        &["context", "update", "nosuch", "--description", "x"],
        &["context", "update", "aa", "--docker", "nokey"],
        &["context", "update", "aa", "--docker", "bogus=1"],
        &["context", "export"],
        &["context", "import", "bb"],
    ] {
        // The same, but for the program's name in usage errors.
        let (b, k) = (berth(args), docker(args));
        assert_ne!(k.code, 0, "{args:?}: {k:?}");
        assert_eq!(b.code, k.code, "{args:?}: {b:?} vs {k:?}");
        assert_eq!(b.stdout, k.stdout, "{args:?}");
        let named = b
            .stderr
            .replace("berth context", "docker context")
            .replace("berth: ", "docker: ");
        assert_eq!(named, k.stderr, "{args:?}");
    }

    // docker exports, berth imports; berth exports, docker imports.
    let cwd = |c: &mut Command| {
        c.current_dir(dir.path());
    };
    let mut c = Command::new(DOCKER);
    c.env("DOCKER_CONFIG", &cfg)
        .args(["context", "export", "aa"]);
    cwd(&mut c);
    let out = run(c, None, Duration::from_secs(60));
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stderr, "Written file \"aa.dockercontext\"\n");
    let mut c = Command::new(bin("berth"));
    c.env("DOCKER_CONFIG", &cfg)
        .args(["context", "export", "aa"]);
    cwd(&mut c);
    let b_out = run(c, None, Duration::from_secs(60));
    assert_eq!((b_out.code, &b_out.stdout), (0, &out.stdout), "{b_out:?}");
    assert_eq!(b_out.stderr, out.stderr);
    let archive = dir.path().join("aa.dockercontext");
    let from_docker = dir.path().join("d.dockercontext");
    docker(&["context", "export", "aa", from_docker.to_str().unwrap()]).ok();
    let from_berth = dir.path().join("b.dockercontext");
    berth(&["context", "export", "aa", from_berth.to_str().unwrap()]).ok();
    assert!(archive.exists());
    let out = berth(&["context", "import", "bd", from_docker.to_str().unwrap()]);
    assert_eq!(out.ok(), "bd\n");
    assert_eq!(out.stderr, "Successfully imported context \"bd\"\n");
    docker(&["context", "import", "db", from_berth.to_str().unwrap()]).ok();
    let want = inspect("aa");
    for n in ["bd", "db"] {
        assert_eq!(inspect(n), want, "{n}");
        assert!(described(n), "{n}");
        assert_eq!(tls_files(&cfg, n), tls_files(&cfg, "aa"), "{n}");
    }
    // Through a pipe, both ways.
    let pipe = |from: &Path, to: &Path, name: &str| {
        let mut c = Command::new("sh");
        c.env("DOCKER_CONFIG", &cfg).args([
            "-c",
            &format!(
                "{} context export aa - | {} context import {name} -",
                from.display(),
                to.display()
            ),
        ]);
        run(c, None, Duration::from_secs(60))
    };
    assert_eq!(pipe(&bin("berth"), Path::new(DOCKER), "p1").ok(), "p1\n");
    assert_eq!(pipe(Path::new(DOCKER), &bin("berth"), "p2").ok(), "p2\n");
    for n in ["p1", "p2"] {
        assert_eq!(inspect(n), want, "{n}");
        assert_eq!(tls_files(&cfg, n), tls_files(&cfg, "aa"), "{n}");
    }
    // An existing name is refused by both.
    same(
        &cfg,
        &["context", "import", "bd", from_docker.to_str().unwrap()],
        &[],
    );

    // Bad archives: the same refusal, nothing imported.
    let bad = |name: &str, entries: &[(&str, &[u8])]| {
        let mut b = tar::Builder::new(Vec::new());
        for (p, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            // Written raw: tar's path setter refuses `..`.
            h.as_old_mut().name[..p.len()].copy_from_slice(p.as_bytes());
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        let f = dir.path().join(name);
        std::fs::write(&f, b.into_inner().unwrap()).unwrap();
        f
    };
    let meta = br#"{"Name":"x","Metadata":{},"Endpoints":{"docker":{"Host":"unix:///x.sock","SkipTLSVerify":false}}}"#;
    for (i, archive) in [
        bad("escape.tar", &[("../evil", b"x"), ("meta.json", meta)]),
        bad("nometa.tar", &[("tls/docker/ca.pem", b"x")]),
        bad("unclean.tar", &[("tls/docker/../../x", b"x")]),
        bad("deep.tar", &[("tls/docker", b"x")]),
    ]
    .iter()
    .enumerate()
    {
        let name = format!("bad{i}");
        let out = same(
            &cfg,
            &["context", "import", &name, archive.to_str().unwrap()],
            &[],
        );
        assert_ne!(out.code, 0, "{archive:?}");
        assert!(tls_files(&cfg, &name).is_empty());
        assert_ne!(docker(&["context", "inspect", &name]).code, 0);
    }
}
