//! berth-registry over raw HTTP: the spec's negative cases with their
//! status and error code, the push/pull endpoints' headers, content
//! discovery, deletion, the token flow with a client that follows the
//! challenge, and crash safety (kill -9 during a chunked upload, a full
//! disk).
//!
//! Needs only `target/debug/berth-registry`.

mod registry_support;

use registry_support::*;
use std::io::Write;

#[test]
fn negative_cases_have_the_spec_codes() {
    let reg = Reg::start();
    let name = "neg/app";
    push_image(&reg, name, "v1", &[random(1000)]);
    let data = random(2000);
    let good = sha256(&data);
    let wrong = sha256(b"something else");

    // Wrong digest on PUT: 400 DIGEST_INVALID, and nothing stored.
    let post = reg.req("POST", &format!("/v2/{name}/blobs/uploads/"), &[], b"");
    let loc = post.header("location").unwrap().to_string();
    let r = reg.req("PUT", &format!("{loc}?digest={wrong}"), &[], &data);
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "DIGEST_INVALID"),
        "{r:?}"
    );
    assert_eq!(
        reg.req("HEAD", &format!("/v2/{name}/blobs/{wrong}"), &[], b"")
            .status,
        404
    );
    // Malformed and unsupported digests: 400 DIGEST_INVALID.
    for d in ["sha256:xyz", "md5:d41d8cd98f00b204e9800998ecf8427e"] {
        let r = reg.req(
            "POST",
            &format!("/v2/{name}/blobs/uploads/?digest={d}"),
            &[],
            b"x",
        );
        assert_eq!(
            (r.status, r.code().as_str()),
            (400, "DIGEST_INVALID"),
            "{d}"
        );
    }
    // Unknown blob: 404 BLOB_UNKNOWN (GET), 404 without body (HEAD).
    let r = reg.req("GET", &format!("/v2/{name}/blobs/{good}"), &[], b"");
    assert_eq!((r.status, r.code().as_str()), (404, "BLOB_UNKNOWN"));
    assert_eq!(
        reg.req("HEAD", &format!("/v2/{name}/blobs/{good}"), &[], b"")
            .status,
        404
    );
    // Unknown manifest and repository.
    let r = reg.req("GET", &format!("/v2/{name}/manifests/nope"), &[], b"");
    assert_eq!((r.status, r.code().as_str()), (404, "MANIFEST_UNKNOWN"));
    let r = reg.req("GET", "/v2/no/such/repo/manifests/latest", &[], b"");
    assert_eq!((r.status, r.code().as_str()), (404, "NAME_UNKNOWN"));
    let r = reg.req("GET", "/v2/no/such/repo/tags/list", &[], b"");
    assert_eq!((r.status, r.code().as_str()), (404, "NAME_UNKNOWN"));
    // Invalid manifests: 400 MANIFEST_INVALID.
    let mt = [("Content-Type", OCI_MANIFEST)];
    for body in [
        &b"{not json"[..],
        br#"{"schemaVersion":2,"layers":[]}"#,
        br#"{"schemaVersion":1}"#,
    ] {
        let r = reg.req("PUT", &format!("/v2/{name}/manifests/bad"), &mt, body);
        assert_eq!(
            (r.status, r.code().as_str()),
            (400, "MANIFEST_INVALID"),
            "{r:?}"
        );
    }
    // A manifest pushed by digest must match it.
    let m = image_manifest(b"{}", &[]);
    let r = reg.req("PUT", &format!("/v2/{name}/manifests/{wrong}"), &mt, &m);
    assert_eq!((r.status, r.code().as_str()), (400, "DIGEST_INVALID"));
    // Missing referenced blob: 400 MANIFEST_BLOB_UNKNOWN naming it.
    let missing = random(100);
    let m = image_manifest(b"{}", std::slice::from_ref(&missing));
    let r = reg.req("PUT", &format!("/v2/{name}/manifests/v2"), &mt, &m);
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "MANIFEST_BLOB_UNKNOWN"),
        "{r:?}"
    );
    let detail = r.json()["errors"][0]["detail"]["digest"].clone();
    assert!(detail == sha256(b"{}").as_str() || detail == sha256(&missing).as_str());
    // An index naming an unknown manifest.
    let idx = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": wrong, "size": 10}]}))
    .unwrap();
    let r = reg.req(
        "PUT",
        &format!("/v2/{name}/manifests/idx"),
        &[("Content-Type", "application/vnd.oci.image.index.v1+json")],
        &idx,
    );
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "MANIFEST_BLOB_UNKNOWN")
    );
    // Out-of-order chunk: 416 with the current Range.
    let post = reg.req("POST", &format!("/v2/{name}/blobs/uploads/"), &[], b"");
    let loc = post.header("location").unwrap().to_string();
    let r = reg.req("PATCH", &loc, &[("Content-Range", "0-9")], &data[..10]);
    assert_eq!(r.status, 202);
    assert_eq!(r.header("range"), Some("0-9"));
    let r = reg.req("PATCH", &loc, &[("Content-Range", "20-29")], &data[20..30]);
    assert_eq!((r.status, r.code().as_str()), (416, "BLOB_UPLOAD_INVALID"));
    assert_eq!(r.header("range"), Some("0-9"));
    let r = reg.req("GET", &loc, &[], b"");
    assert_eq!((r.status, r.header("range")), (204, Some("0-9")));
    // Unknown upload: 404 BLOB_UPLOAD_UNKNOWN.
    let r = reg.req(
        "PATCH",
        &format!("/v2/{name}/blobs/uploads/00000000-0000-4000-8000-000000000000"),
        &[],
        b"x",
    );
    assert_eq!((r.status, r.code().as_str()), (404, "BLOB_UPLOAD_UNKNOWN"));
    // Bad names: 400 NAME_INVALID.
    for bad in [
        "/v2/UPPER/tags/list",
        "/v2/a..b/manifests/x",
        "/v2/a/-b/blobs/uploads/",
    ] {
        let r = reg.req(
            if bad.ends_with('/') { "POST" } else { "GET" },
            bad,
            &[],
            b"",
        );
        assert_eq!(
            (r.status, r.code().as_str()),
            (400, "NAME_INVALID"),
            "{bad}"
        );
    }
    // Bad tag.
    let r = reg.req(
        "PUT",
        &format!("/v2/{name}/manifests/-bad"),
        &mt,
        &image_manifest(b"{}", &[]),
    );
    assert_eq!(r.status, 400);
    // A malformed tag or digest in a GET or HEAD names no manifest: 404
    // MANIFEST_UNKNOWN (as distribution; OCI conformance v1.1.1).
    for (method, reference) in [("GET", "-bad"), ("HEAD", "sha256:nothex"), ("GET", "a:b:c")] {
        let r = reg.req(
            method,
            &format!("/v2/{name}/manifests/{reference}"),
            &[],
            b"",
        );
        assert_eq!(r.status, 404, "{method} {reference}");
        if method == "GET" {
            assert_eq!(r.code(), "MANIFEST_UNKNOWN", "{reference}");
        }
    }
    // Unsatisfiable range.
    let small = push_blob(&reg, name, b"tiny", &[]);
    let r = reg.req(
        "GET",
        &format!("/v2/{name}/blobs/{small}"),
        &[("Range", "bytes=10-20")],
        b"",
    );
    assert_eq!(
        (r.status, r.header("content-range")),
        (416, Some("bytes */4"))
    );
    // Methods that do not exist on an endpoint.
    let r = reg.req("POST", &format!("/v2/{name}/tags/list"), &[], b"");
    assert_eq!((r.status, r.code().as_str()), (405, "UNSUPPORTED"));
}

#[test]
fn push_pull_endpoints_and_headers() {
    let reg = Reg::start();
    let name = "proto/app";
    let r = reg.req("GET", "/v2/", &[], b"");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("docker-distribution-api-version"),
        Some("registry/2.0")
    );
    // Single POST upload.
    let data = random(100_000);
    let d = sha256(&data);
    let r = reg.req(
        "POST",
        &format!("/v2/{name}/blobs/uploads/?digest={d}"),
        &[],
        &data,
    );
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(
        r.header("location"),
        Some(format!("/v2/{name}/blobs/{d}").as_str())
    );
    assert_eq!(r.header("docker-content-digest"), Some(d.as_str()));
    // HEAD and GET, whole and ranged.
    let r = reg.req("HEAD", &format!("/v2/{name}/blobs/{d}"), &[], b"");
    assert_eq!(
        (r.status, r.header("content-length")),
        (200, Some("100000"))
    );
    assert_eq!(r.header("docker-content-digest"), Some(d.as_str()));
    let r = reg.req("GET", &format!("/v2/{name}/blobs/{d}"), &[], b"");
    assert_eq!(r.body, data);
    let r = reg.req(
        "GET",
        &format!("/v2/{name}/blobs/{d}"),
        &[("Range", "bytes=1000-1999")],
        b"",
    );
    assert_eq!(r.status, 206);
    assert_eq!(r.header("content-range"), Some("bytes 1000-1999/100000"));
    assert_eq!(r.body, &data[1000..2000]);
    let r = reg.req(
        "GET",
        &format!("/v2/{name}/blobs/{d}"),
        &[("Range", "bytes=-10")],
        b"",
    );
    assert_eq!(r.body, &data[data.len() - 10..]);
    // Chunked upload with the headers the spec asks for, final chunk in PUT.
    let blob = random(30_000);
    let bd = sha256(&blob);
    let post = reg.req("POST", &format!("/v2/{name}/blobs/uploads/"), &[], b"");
    assert_eq!(post.status, 202);
    let id = post.header("docker-upload-uuid").unwrap().to_string();
    let loc = post.header("location").unwrap().to_string();
    assert!(loc.ends_with(&id));
    let r = reg.req(
        "PATCH",
        &loc,
        &[
            ("Content-Range", "0-9999"),
            ("Content-Type", "application/octet-stream"),
        ],
        &blob[..10_000],
    );
    assert_eq!((r.status, r.header("range")), (202, Some("0-9999")));
    let loc = r.header("location").unwrap().to_string();
    let r = reg.req("PATCH", &loc, &[], &blob[10_000..20_000]); // streamed, no Content-Range
    assert_eq!(r.header("range"), Some("0-19999"));
    let r = reg.req(
        "PUT",
        &format!("{loc}?digest={bd}"),
        &[("Content-Range", "20000-29999")],
        &blob[20_000..],
    );
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(
        reg.req("GET", &format!("/v2/{name}/blobs/{bd}"), &[], b"")
            .body,
        blob
    );
    // Cancel.
    let post = reg.req("POST", &format!("/v2/{name}/blobs/uploads/"), &[], b"");
    let loc = post.header("location").unwrap().to_string();
    assert_eq!(reg.req("DELETE", &loc, &[], b"").status, 204);
    assert_eq!(reg.req("GET", &loc, &[], b"").status, 404);
    // sha512 blobs.
    let d512 = base::Digest::of_with(base::digest::Algorithm::Sha512, &blob).to_string();
    let post = reg.req(
        "POST",
        &format!("/v2/{name}/blobs/uploads/?digest-algorithm=sha512"),
        &[],
        b"",
    );
    let loc = post.header("location").unwrap().to_string();
    let r = reg.req("PUT", &format!("{loc}?digest={d512}"), &[], &blob);
    assert_eq!(
        (r.status, r.header("docker-content-digest")),
        (201, Some(d512.as_str()))
    );
    assert_eq!(
        reg.req("GET", &format!("/v2/{name}/blobs/{d512}"), &[], b"")
            .body,
        blob
    );
    // Cross-repository mount: 201 when the source has it, 202 otherwise.
    let r = reg.req(
        "POST",
        &format!("/v2/other/app/blobs/uploads/?mount={d}&from={name}"),
        &[],
        b"",
    );
    assert_eq!(
        (r.status, r.header("docker-content-digest")),
        (201, Some(d.as_str()))
    );
    assert_eq!(
        reg.req("HEAD", &format!("/v2/other/app/blobs/{d}"), &[], b"")
            .status,
        200
    );
    let r = reg.req(
        "POST",
        &format!("/v2/third/blobs/uploads/?mount={d}&from=nowhere"),
        &[],
        b"",
    );
    assert_eq!(r.status, 202);
    assert!(r.header("location").is_some());
    // Manifests: by tag and digest, content negotiation, extra tags.
    let config = br#"{"os":"linux"}"#.to_vec();
    push_blob(&reg, name, &config, &[]);
    let m = image_manifest(&config, std::slice::from_ref(&data));
    let md = sha256(&m);
    let r = reg.req(
        "PUT",
        &format!("/v2/{name}/manifests/{md}?tag=a&tag=b"),
        &[("Content-Type", OCI_MANIFEST)],
        &m,
    );
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.header("oci-tag"), Some("a, b"));
    assert_eq!(
        r.header("location"),
        Some(format!("/v2/{name}/manifests/{md}").as_str())
    );
    for reference in ["a", "b", md.as_str()] {
        let r = reg.req("GET", &format!("/v2/{name}/manifests/{reference}"),
            &[("Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")], b"");
        assert_eq!(
            (r.status, r.header("content-type")),
            (200, Some(OCI_MANIFEST))
        );
        assert_eq!(r.body, m);
        assert_eq!(r.header("docker-content-digest"), Some(md.as_str()));
    }
    let r = reg.req("HEAD", &format!("/v2/{name}/manifests/a"), &[], b"");
    assert_eq!(
        r.header("content-length"),
        Some(m.len().to_string().as_str())
    );
    let r = reg.req(
        "GET",
        &format!("/v2/{name}/manifests/a"),
        &[(
            "Accept",
            "application/vnd.docker.distribution.manifest.v2+json",
        )],
        b"",
    );
    assert_eq!(
        r.status, 404,
        "an OCI manifest is not served to a client that refuses it"
    );
    // A Docker schema 2 manifest keeps its type.
    let docker = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": sha256(&config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": d, "size": data.len()}]})).unwrap();
    let r = reg.req(
        "PUT",
        &format!("/v2/{name}/manifests/docker"),
        &[(
            "Content-Type",
            "application/vnd.docker.distribution.manifest.v2+json",
        )],
        &docker,
    );
    assert_eq!(r.status, 201, "{r:?}");
    let r = reg.req("GET", &format!("/v2/{name}/manifests/docker"), &[], b"");
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.docker.distribution.manifest.v2+json")
    );
    // Tags with pagination and Link.
    let r = reg.req("GET", &format!("/v2/{name}/tags/list?n=2"), &[], b"");
    assert_eq!(r.json()["tags"], serde_json::json!(["a", "b"]));
    assert_eq!(
        r.header("link"),
        Some(format!("</v2/{name}/tags/list?n=2&last=b>; rel=\"next\"").as_str())
    );
    let r = reg.req("GET", &format!("/v2/{name}/tags/list?n=2&last=b"), &[], b"");
    assert_eq!(r.json()["tags"], serde_json::json!(["docker"]));
    assert_eq!(r.header("link"), None);
    let r = reg.req("GET", &format!("/v2/{name}/tags/list?n=0"), &[], b"");
    assert_eq!(
        (r.json()["tags"].as_array().unwrap().len(), r.header("link")),
        (0, None)
    );
    // Catalog with pagination.
    let r = reg.req("GET", "/v2/_catalog?n=1", &[], b"");
    assert_eq!(r.json()["repositories"], serde_json::json!(["other/app"]));
    assert!(r.header("link").unwrap().contains("last=other%2Fapp"));
    let r = reg.req("GET", "/v2/_catalog", &[], b"");
    assert_eq!(
        r.json()["repositories"],
        serde_json::json!(["other/app", "proto/app"]),
        "a repository with only an upload is not listed"
    );
    // Deletion: tag, manifest, blob.
    assert_eq!(
        reg.req("DELETE", &format!("/v2/{name}/manifests/a"), &[], b"")
            .status,
        202
    );
    assert_eq!(
        reg.req("GET", &format!("/v2/{name}/manifests/a"), &[], b"")
            .status,
        404
    );
    assert_eq!(
        reg.req("GET", &format!("/v2/{name}/manifests/b"), &[], b"")
            .status,
        200
    );
    assert_eq!(
        reg.req("DELETE", &format!("/v2/{name}/manifests/{md}"), &[], b"")
            .status,
        202
    );
    assert_eq!(
        reg.req("GET", &format!("/v2/{name}/manifests/b"), &[], b"")
            .status,
        404
    );
    assert_eq!(
        reg.req("GET", &format!("/v2/{name}/manifests/{md}"), &[], b"")
            .status,
        404
    );
    assert_eq!(
        reg.req("DELETE", &format!("/v2/{name}/blobs/{bd}"), &[], b"")
            .status,
        202
    );
    assert_eq!(
        reg.req("HEAD", &format!("/v2/{name}/blobs/{bd}"), &[], b"")
            .status,
        404
    );
    let r = reg.req("DELETE", &format!("/v2/{name}/blobs/{bd}"), &[], b"");
    assert_eq!((r.status, r.code().as_str()), (404, "BLOB_UNKNOWN"));
    // Metrics count what happened.
    let metrics = String::from_utf8(reg.req("GET", "/metrics", &[], b"").body).unwrap();
    assert!(
        metrics.contains("berth_registry_requests_total{method=\"PUT\",status=\"201\"}"),
        "{metrics}"
    );
    assert!(reg.log().contains("duration_ms"));
}

#[test]
fn deletion_can_be_disabled() {
    let reg = Reg::start_with(Some("[storage]\ndelete_enabled = false\n"));
    let md = push_image(&reg, "ro", "v1", &[random(100)]);
    for path in [
        "/v2/ro/manifests/v1".to_string(),
        format!("/v2/ro/manifests/{md}"),
    ] {
        let r = reg.req("DELETE", &path, &[], b"");
        assert_eq!((r.status, r.code().as_str()), (405, "UNSUPPORTED"));
    }
    assert_eq!(reg.req("GET", "/v2/ro/manifests/v1", &[], b"").status, 200);
}

#[test]
fn token_flow_follows_the_challenge() {
    let dir = tempdir();
    let htpasswd = dir.path().join("htpasswd");
    let hash = bcrypt::hash("pw", 4).unwrap();
    std::fs::write(&htpasswd, format!("bob:{hash}\n")).unwrap();
    let reg = Reg::start_with(Some(&format!(
        "[auth.htpasswd]\npath = \"{}\"\n[auth.token]\nanonymous_pull = true\nservice = \"berth-test\"\n",
        htpasswd.display()
    )));
    let name = "tok/app";
    let blob = random(5000);
    let d = sha256(&blob);
    let basic = "Basic Ym9iOnB3"; // bob:pw

    // A client that follows the challenge: request, 401, token, retry.
    let client = |method: &str, path: &str, creds: Option<&str>, body: &[u8]| -> Resp {
        let r = reg.req(method, path, &[], body);
        if r.status != 401 {
            return r;
        }
        let ch = r.header("www-authenticate").expect("challenge").to_string();
        assert!(ch.starts_with("Bearer "), "{ch}");
        let param = |k: &str| {
            ch.split(&format!("{k}=\""))
                .nth(1)
                .map(|v| v.split('"').next().unwrap().to_string())
        };
        let realm = param("realm").unwrap();
        assert_eq!(realm, format!("http://{}/token", reg.addr));
        assert_eq!(param("service").as_deref(), Some("berth-test"));
        let mut url = format!("/token?service={}", param("service").unwrap());
        if let Some(scope) = param("scope") {
            url.push_str(&format!("&scope={}", scope.replace(' ', "%20")));
        }
        let auth: Vec<(&str, &str)> = creds.map(|c| ("Authorization", c)).into_iter().collect();
        let t = reg.req("GET", &url, &auth, b"");
        assert_eq!(t.status, 200, "{t:?}");
        let token = t.json()["token"].as_str().unwrap().to_string();
        assert_eq!(t.json()["access_token"], token.as_str());
        let bearer = format!("Bearer {token}");
        let r = reg.req(method, path, &[("Authorization", &bearer)], body);
        if method == "POST" && r.status == 202 {
            // Carry the token on to the upload location.
            let loc = r.header("location").unwrap().to_string();
            return reg.req(
                "PUT",
                &format!("{loc}?digest={d}"),
                &[("Authorization", &bearer)],
                &blob,
            );
        }
        r
    };
    // Anonymous: /v2/ needs a token; pull scope is granted, push is not.
    let r = reg.req("GET", "/v2/", &[], b"");
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "UNAUTHORIZED");
    let r = reg.req("POST", &format!("/v2/{name}/blobs/uploads/"), &[], b"");
    assert!(r
        .header("www-authenticate")
        .unwrap()
        .contains(&format!("scope=\"repository:{name}:pull,push\"")));
    let r = client("POST", &format!("/v2/{name}/blobs/uploads/"), None, b"");
    assert_eq!(r.status, 401, "anonymous push must be refused");
    assert!(r
        .header("www-authenticate")
        .unwrap()
        .contains("insufficient_scope"));
    // Wrong password: the token endpoint says 401.
    let t = reg.req(
        "GET",
        "/token?service=berth-test&scope=repository:x:pull",
        &[("Authorization", "Basic Ym9iOm5v")],
        b"",
    );
    assert_eq!(t.status, 401);
    // bob pushes with a token, anyone pulls.
    let r = client(
        "POST",
        &format!("/v2/{name}/blobs/uploads/"),
        Some(basic),
        b"",
    );
    assert_eq!(r.status, 201, "{r:?}");
    let r = client("GET", &format!("/v2/{name}/blobs/{d}"), None, b"");
    assert_eq!((r.status, r.body == blob), (200, true));
    // A forged or foreign token is refused.
    let r = reg.req(
        "GET",
        &format!("/v2/{name}/blobs/{d}"),
        &[("Authorization", "Bearer a.b.c")],
        b"",
    );
    assert_eq!(r.status, 401);
    assert!(r
        .header("www-authenticate")
        .unwrap()
        .contains("invalid_token"));
}

#[test]
fn kill9_during_chunked_upload_then_restart() {
    let mut reg = Reg::start();
    let earlier_layers = vec![random(20_000), random(30_000)];
    let earlier = push_image(&reg, "crash/app", "v1", &earlier_layers);
    let big = random(8 << 20);
    let d = sha256(&big);
    // First chunk accepted, then a second chunk broken off mid-body by kill -9.
    let post = reg.req("POST", "/v2/crash/app/blobs/uploads/", &[], b"");
    let loc = post.header("location").unwrap().to_string();
    let r = reg.req(
        "PATCH",
        &loc,
        &[("Content-Range", "0-1048575")],
        &big[..1 << 20],
    );
    assert_eq!(r.status, 202);
    let mut s = std::net::TcpStream::connect(&reg.addr).unwrap();
    let rest = &big[1 << 20..];
    let range = format!("{}-{}", 1 << 20, big.len() - 1);
    send_head(
        &mut s,
        &reg.addr,
        "PATCH",
        &loc,
        &[("Content-Range", &range)],
        rest.len(),
    );
    s.write_all(&rest[..3 << 20]).unwrap();
    s.flush().unwrap();
    // Wait until the registry has written part of it, then kill it.
    let data_dir = reg.root().join("repositories/crash/app/_uploads");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let size = std::fs::read_dir(&data_dir)
            .unwrap()
            .filter_map(|e| std::fs::metadata(e.unwrap().path().join("data")).ok())
            .map(|m| m.len())
            .max()
            .unwrap_or(0);
        if size > (1 << 20) || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    reg.kill9();
    drop(s);
    reg.restart();
    // Nothing partial is visible; earlier pushes are intact.
    assert_eq!(
        reg.req("HEAD", &format!("/v2/crash/app/blobs/{d}"), &[], b"")
            .status,
        404
    );
    let m = reg.req("GET", "/v2/crash/app/manifests/v1", &[], b"");
    assert_eq!(
        (m.status, m.header("docker-content-digest")),
        (200, Some(earlier.as_str()))
    );
    for l in &earlier_layers {
        let r = reg.req(
            "GET",
            &format!("/v2/crash/app/blobs/{}", sha256(l)),
            &[],
            b"",
        );
        assert_eq!(&r.body, l);
    }
    // The broken session says where it stands (at most what was sent).
    let st = reg.req("GET", &loc, &[], b"");
    assert_eq!(st.status, 204, "{st:?}");
    let end: usize = st.header("range").unwrap()[2..].parse().unwrap();
    assert!(((1 << 20) - 1..4 << 20).contains(&end), "range end {end}");
    // The client can resume where it stands and finish ...
    let r = reg.req(
        "PATCH",
        &loc,
        &[("Content-Range", &format!("{}-{}", end + 1, big.len() - 1))],
        &big[end + 1..],
    );
    assert_eq!(r.status, 202, "{r:?}");
    let r = reg.req("PUT", &format!("{loc}?digest={d}"), &[], b"");
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(
        reg.req("GET", &format!("/v2/crash/app/blobs/{d}"), &[], b"")
            .body,
        big
    );
    // ... or simply retry from scratch.
    let again = random(2 << 20);
    push_blob(&reg, "crash/app", &again, &[]);
    assert_eq!(
        reg.req(
            "HEAD",
            &format!("/v2/crash/app/blobs/{}", sha256(&again)),
            &[],
            b""
        )
        .status,
        200
    );
}

#[test]
fn full_disk_fails_the_upload_and_loses_nothing() {
    let reg = Reg::start_on_tmpfs(16);
    let layers = vec![random(100_000), random(50_000)];
    let earlier = push_image(&reg, "full/app", "v1", &layers);
    // A 24 MiB blob in 1 MiB chunks cannot fit in 16 MiB: some chunk gets
    // a 500 in the spec's error form, naming the cause.
    let big = random(24 << 20);
    let d = sha256(&big);
    let post = reg.req("POST", "/v2/full/app/blobs/uploads/", &[], b"");
    let loc = post.header("location").unwrap().to_string();
    let mut failed = None;
    for (i, chunk) in big.chunks(1 << 20).enumerate() {
        let start = i << 20;
        let range = format!("{start}-{}", start + chunk.len() - 1);
        let r = reg.req("PATCH", &loc, &[("Content-Range", &range)], chunk);
        if r.status != 202 {
            failed = Some(r);
            break;
        }
    }
    let r = failed.expect("a 24 MiB upload fit in a 16 MiB disk");
    assert_eq!((r.status, r.code().as_str()), (500, "UNKNOWN"), "{r:?}");
    let msg = r.json()["errors"][0]["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(msg.contains("No space left on device"), "{msg}");
    // The failed upload is gone, space and all; nothing partial is visible.
    let st = reg.req("GET", &loc, &[], b"");
    assert_eq!(
        (st.status, st.code().as_str()),
        (404, "BLOB_UPLOAD_UNKNOWN")
    );
    let uploads = reg.root().join("repositories/full/app/_uploads");
    let left: Vec<_> = std::fs::read_dir(&uploads)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "upload data left behind: {left:?}");
    assert_eq!(
        reg.req("HEAD", &format!("/v2/full/app/blobs/{d}"), &[], b"")
            .status,
        404
    );
    // What was committed before is intact.
    let m = reg.req("GET", "/v2/full/app/manifests/v1", &[], b"");
    assert_eq!(
        (m.status, m.header("docker-content-digest")),
        (200, Some(earlier.as_str()))
    );
    for l in &layers {
        let r = reg.req(
            "GET",
            &format!("/v2/full/app/blobs/{}", sha256(l)),
            &[],
            b"",
        );
        assert_eq!(&r.body, l);
    }
    // The registry goes on serving, and a push that fits succeeds.
    let fits = random(8 << 20);
    push_blob(&reg, "full/app", &fits, &[]);
    let r = reg.req(
        "GET",
        &format!("/v2/full/app/blobs/{}", sha256(&fits)),
        &[],
        b"",
    );
    assert_eq!((r.status, r.body == fits), (200, true));
}
