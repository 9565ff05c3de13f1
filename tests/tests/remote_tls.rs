//! Remote access (issue 14): berthd's TCP listener with mutual TLS, as
//! dockerd's `--tlsverify`. The real docker CLI with its client
//! certificate gets in (by flags and by DOCKER_TLS_VERIFY/DOCKER_CERT_PATH);
//! a client without a certificate, or with one the CA did not sign, is
//! refused in the handshake; plain TCP on an address that is not loopback
//! is refused at start without `--tls=false`.

use berth_tests::{bare_berthd, bin, free_port, require, run, tls_certificates, TlsBerthd, DOCKER};
use std::process::Command;
use std::time::Duration;

#[test]
fn mutual_tls_lets_in_only_signed_clients() {
    if !require(DOCKER) || !require("openssl") {
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("berth-ttls")
        .tempdir_in("/tmp")
        .unwrap();
    let d = dir.path();
    tls_certificates(d);
    let daemon = TlsBerthd::start(d);
    let host = daemon.host.clone();
    let port = host.rsplit(':').next().unwrap().to_string();
    let p = |n: &str| d.join(n).to_str().unwrap().to_string();
    let docker = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = Command::new(DOCKER);
        c.env_remove("DOCKER_HOST")
            .env("DOCKER_CONFIG", d.join("docker-config"))
            .args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        run(c, None, Duration::from_secs(30))
    };
    let version = ["version", "--format", "{{.Server.Os}}"];
    // By flags.
    let (cert, key, ca) = (p("cert.pem"), p("key.pem"), p("ca.pem"));
    let mut args = vec![
        "--tlsverify",
        "--tlscacert",
        &ca,
        "--tlscert",
        &cert,
        "--tlskey",
        &key,
        "-H",
        &host,
    ];
    args.extend(version);
    assert_eq!(docker(&args, &[]).ok().trim(), "linux");
    // By the environment, as the docker CLI reads it.
    let path = d.to_str().unwrap();
    let out = docker(
        &version,
        &[
            ("DOCKER_HOST", &host),
            ("DOCKER_TLS_VERIFY", "1"),
            ("DOCKER_CERT_PATH", path),
        ],
    );
    assert_eq!(out.ok().trim(), "linux");
    // Without a certificate, and with one the CA did not sign: refused.
    let mut no_cert = vec!["--tlsverify", "--tlscacert", &ca, "-H", &host];
    no_cert.extend(version);
    let out = docker(&no_cert, &[]);
    assert_ne!(out.code, 0, "{out:?}");
    let (rogue, rogue_key) = (p("rogue.pem"), p("rogue-key.pem"));
    let mut rogue_args = vec![
        "--tlsverify",
        "--tlscacert",
        &ca,
        "--tlscert",
        &rogue,
        "--tlskey",
        &rogue_key,
        "-H",
        &host,
    ];
    rogue_args.extend(version);
    let out = docker(&rogue_args, &[]);
    assert_ne!(out.code, 0, "{out:?}");
    // The handshake itself refuses a client without a certificate (curl:
    // the docker CLI may stop before connecting when its files are missing).
    let curl = |extra: &[&str]| {
        let mut c = Command::new("curl");
        c.args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--cacert",
            &ca,
        ])
        .args(extra)
        .arg(format!("https://127.0.0.1:{port}/_ping"));
        run(c, None, Duration::from_secs(30))
    };
    let ok = curl(&["--cert", &cert, "--key", &key]);
    assert_eq!(ok.stdout, "200", "{ok:?}");
    let refused = curl(&[]);
    assert_ne!(refused.code, 0, "{refused:?}");
    assert_eq!(refused.stdout, "000", "no HTTP answer at all: {refused:?}");
    let refused = curl(&["--cert", &rogue, "--key", &rogue_key]);
    assert_eq!(refused.stdout, "000", "{refused:?}");
    // Plain HTTP gets nothing either.
    let mut plain = vec!["-H", &host[..]];
    plain.extend(version);
    assert_ne!(docker(&plain, &[]).code, 0);
    // berth, as the docker CLI: by flags, by the environment; refused
    // without its certificate.
    let berth = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = Command::new(bin("berth"));
        c.env_remove("DOCKER_HOST")
            .env_remove("BERTH_HOST")
            .env("DOCKER_CONFIG", d.join("docker-config"))
            .args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        run(c, None, Duration::from_secs(30))
    };
    let out = berth(
        &args[..args.len() - version.len()]
            .iter()
            .copied()
            .chain(["info", "--format", "{{.OSType}}"])
            .collect::<Vec<_>>(),
        &[],
    );
    assert_eq!(out.ok().trim(), "linux");
    let out = berth(
        &["info", "--format", "{{.OSType}}"],
        &[
            ("DOCKER_HOST", &host),
            ("DOCKER_TLS_VERIFY", "1"),
            ("DOCKER_CERT_PATH", path),
        ],
    );
    assert_eq!(out.ok().trim(), "linux");
    let out = berth(
        &["--tlsverify", "--tlscacert", &ca, "-H", &host, "info"],
        &[],
    );
    assert_ne!(out.code, 0, "{out:?}");
    drop(daemon);
}

#[test]
fn plain_tcp_beyond_loopback_needs_tls_false() {
    let dir = tempfile::Builder::new()
        .prefix("berth-ttls")
        .tempdir_in("/tmp")
        .unwrap();
    // Refused before anything is bound (the address is never listened on).
    let out = run(
        bare_berthd(dir.path(), &["-H", "tcp://10.255.255.1:2375"]),
        None,
        Duration::from_secs(20),
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("refusing to listen on tcp://10.255.255.1:2375 without TLS")
            && out.stderr.contains("--tls=false"),
        "{out:?}"
    );
    // A TLS setting without usable certificates is an error at start too.
    let out = run(
        bare_berthd(
            dir.path(),
            &[
                "--tlsverify",
                "--tlscacert",
                "/nonexistent/ca.pem",
                "-H",
                "tcp://127.0.0.1:1",
            ],
        ),
        None,
        Duration::from_secs(20),
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("could not load X509 key pair"),
        "{out:?}"
    );
}

/// berth against a real dockerd that requires client certificates.
#[test]
fn berth_against_a_dockerd_with_tlsverify() {
    if !require(DOCKER) || !require("openssl") {
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("berth-ttls")
        .tempdir_in("/tmp")
        .unwrap();
    let d = dir.path();
    tls_certificates(d);
    let port = free_port();
    let host = format!("tcp://127.0.0.1:{port}");
    let p = |n: &str| d.join(n).to_str().unwrap().to_string();
    let (ca, cert, key) = (p("ca.pem"), p("cert.pem"), p("key.pem"));
    let server = berth_tests::tls_server_args(d, &host);
    let server: Vec<&str> = server.iter().map(String::as_str).collect();
    let Some(dockerd) = berth_tests::Dockerd::start_with(&server) else {
        return;
    };
    let berth = |args: &[&str]| {
        let mut c = Command::new(bin("berth"));
        c.env_remove("DOCKER_HOST")
            .env_remove("BERTH_HOST")
            .args(args);
        run(c, None, Duration::from_secs(30))
    };
    let out = berth(&[
        "--tlsverify",
        "--tlscacert",
        &ca,
        "--tlscert",
        &cert,
        "--tlskey",
        &key,
        "-H",
        &host,
        "info",
        "--format",
        "{{.OSType}}",
    ]);
    assert_eq!(out.ok().trim(), "linux", "{}", dockerd.log());
    let out = berth(&["--tlsverify", "--tlscacert", &ca, "-H", &host, "info"]);
    assert_ne!(out.code, 0, "{out:?}");
}
