//! berth-registry with skopeo: copy in and out byte-identically, inspect,
//! list-tags; htpasswd Basic auth (`--creds`); TLS; gc.
//!
//! Skips when skopeo (or htpasswd/openssl for their tests) is missing,
//! except under `CI=true`. Needs `target/debug/berth-registry`.

mod registry_support;

use registry_support::*;
use std::process::Command;
use std::time::Duration;

#[test]
fn skopeo_copy_roundtrip_inspect_list_tags() {
    if !berth_tests::require("skopeo") {
        return;
    }
    let reg = Reg::start();
    let work = tempdir();
    let src = work.path().join("src");
    let layers: Vec<Vec<u8>> = (0..4).map(|i| random_layer(50_000 + i * 30_000)).collect();
    let manifest = oci_layout(&src, &layers);
    let src_ref = format!("oci:{}:latest", src.display());
    let dst = format!("docker://{}/acme/app", reg.addr);
    skopeo(&[
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        &src_ref,
        &format!("{dst}:v1"),
    ]);
    skopeo(&[
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        &src_ref,
        &format!("{dst}:v2"),
    ]);

    let inspect: serde_json::Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--tls-verify=false",
        &format!("{dst}:v1"),
    ]))
    .unwrap();
    assert_eq!(inspect["Digest"], manifest.as_str());
    let want_layers: Vec<String> = layers.iter().map(|l| sha256(l)).collect();
    assert_eq!(inspect["Layers"], serde_json::json!(want_layers));
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("{dst}:v1"),
    ]);
    assert_eq!(sha256(raw.as_bytes()), manifest);

    let tags: serde_json::Value = serde_json::from_str(&skopeo(&[
        "list-tags",
        "--tls-verify=false",
        &format!("docker://{}/acme/app", reg.addr),
    ]))
    .unwrap();
    assert_eq!(tags["Tags"], serde_json::json!(["v1", "v2"]));

    let back = work.path().join("back");
    skopeo(&[
        "copy",
        "--preserve-digests",
        "--src-tls-verify=false",
        &format!("{dst}:v2"),
        &format!("oci:{}:latest", back.display()),
    ]);
    assert_eq!(layout_blobs(&back), layout_blobs(&src));
    for d in layout_blobs(&src) {
        let p = |dir: &std::path::Path| dir.join("blobs/sha256").join(&d[7..]);
        assert_eq!(
            std::fs::read(p(&back)).unwrap(),
            std::fs::read(p(&src)).unwrap(),
            "{d}"
        );
    }
    // The manifest is also reachable by digest, with the right type.
    let m = reg.req(
        "GET",
        &format!("/v2/acme/app/manifests/{manifest}"),
        &[],
        b"",
    );
    assert_eq!(m.status, 200);
    assert_eq!(m.header("content-type"), Some(OCI_MANIFEST));
    assert_eq!(m.header("docker-content-digest"), Some(manifest.as_str()));
}

#[test]
fn htpasswd_basic_auth_with_skopeo_creds() {
    if !berth_tests::require("skopeo") || !berth_tests::require("htpasswd") {
        return;
    }
    let dir = tempdir();
    let htpasswd = dir.path().join("htpasswd");
    let (code, _, err) = run(
        Command::new("htpasswd")
            .args(["-Bbc"])
            .arg(&htpasswd)
            .args(["alice", "s3cret"]),
        Duration::from_secs(30),
    );
    assert_eq!(code, 0, "htpasswd: {err}");
    let reg = Reg::start_with(Some(&format!(
        "[auth.htpasswd]\npath = \"{}\"\nrealm = \"berth test\"\n",
        htpasswd.display()
    )));
    // Anonymous: 401 with a Basic challenge and the spec's error body.
    for path in ["/v2/", "/v2/x/tags/list", "/v2/_catalog"] {
        let r = reg.req("GET", path, &[], b"");
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(
            r.header("www-authenticate"),
            Some("Basic realm=\"berth test\"")
        );
        assert_eq!(r.code(), "UNAUTHORIZED");
    }
    let bad = reg.req(
        "GET",
        "/v2/",
        &[("Authorization", "Basic YWxpY2U6bm9wZQ==")],
        b"",
    );
    assert_eq!(bad.status, 401);
    let good = reg.req(
        "GET",
        "/v2/",
        &[("Authorization", "Basic YWxpY2U6czNjcmV0")],
        b"",
    );
    assert_eq!(good.status, 200);

    let src = dir.path().join("src");
    let manifest = oci_layout(&src, &[random_layer(40_000), random_layer(20_000)]);
    let dst = format!("docker://{}/private/app:v1", reg.addr);
    let src_ref = format!("oci:{}:latest", src.display());
    let (code, _, err) = run(
        Command::new("skopeo").args(["copy", "--dest-tls-verify=false", &src_ref, &dst]),
        Duration::from_secs(60),
    );
    assert_ne!(code, 0, "push without credentials must fail");
    assert!(err.contains("unauthorized") || err.contains("401"), "{err}");
    skopeo(&[
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        "--dest-creds",
        "alice:s3cret",
        &src_ref,
        &dst,
    ]);
    let inspect = skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--creds",
        "alice:s3cret",
        &dst,
    ]);
    assert!(inspect.contains(&manifest), "{inspect}");
}

#[test]
fn tls_with_cert_and_key() {
    if !berth_tests::require("skopeo") || !berth_tests::require("openssl") {
        return;
    }
    let dir = tempdir();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let (code, _, err) = run(
        Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-days",
                "1",
            ])
            .args([
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert),
        Duration::from_secs(30),
    );
    assert_eq!(code, 0, "openssl: {err}");
    let reg = Reg::start_with(Some(&format!(
        "[http.tls]\ncert = \"{}\"\nkey = \"{}\"\n",
        cert.display(),
        key.display()
    )));
    // Plain HTTP is not spoken on a TLS listener.
    let mut s = std::net::TcpStream::connect(&reg.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    send_head(&mut s, &reg.addr, "GET", "/v2/", &[], 0);
    let mut buf = [0u8; 16];
    let n = std::io::Read::read(&mut s, &mut buf).unwrap_or(0);
    assert!(!buf[..n].starts_with(b"HTTP/1.1 200"));
    // skopeo over TLS, verifying our certificate through --dest-cert-dir.
    let certs = dir.path().join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::copy(&cert, certs.join("ca.crt")).unwrap();
    let src = dir.path().join("src");
    let manifest = oci_layout(&src, &[random_layer(30_000)]);
    let dst = format!("docker://{}/tls/app:v1", reg.addr);
    skopeo(&[
        "copy",
        "--preserve-digests",
        "--dest-cert-dir",
        certs.to_str().unwrap(),
        &format!("oci:{}:latest", src.display()),
        &dst,
    ]);
    let inspect = skopeo(&["inspect", "--cert-dir", certs.to_str().unwrap(), &dst]);
    assert!(inspect.contains(&manifest), "{inspect}");
}

#[test]
fn gc_removes_unreferenced_blobs_only_when_stopped() {
    let mut reg = Reg::start();
    let keep = push_image(&reg, "gc/app", "v1", &[random(3000), random(4000)]);
    let orphan = push_blob(&reg, "gc/app", &random(5000), &[]);
    let root = reg.root();
    let gc = |extra: &[&str]| {
        let mut c = Command::new(registry_bin());
        c.args(["gc", "--root"]).arg(&root).args(extra);
        run(&mut c, Duration::from_secs(30))
    };
    // Refused while the registry holds the root.
    let (code, _, err) = gc(&[]);
    assert_ne!(code, 0);
    assert!(err.contains("in use"), "{err}");
    reg.kill9();
    let (code, out, err) = gc(&["--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("would remove {orphan}")), "{out}");
    let (code, out, err) = gc(&[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("removed {orphan}")), "{out}");
    assert!(out.contains("removed 1 blobs"), "{out}");
    reg.restart();
    let m = reg.req("GET", "/v2/gc/app/manifests/v1", &[], b"");
    assert_eq!(m.status, 200);
    assert_eq!(m.header("docker-content-digest"), Some(keep.as_str()));
    let gone = reg.req("HEAD", &format!("/v2/gc/app/blobs/{orphan}"), &[], b"");
    assert_eq!(gone.status, 404);
}
