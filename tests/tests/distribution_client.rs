//! The `distribution` crate against the CNCF registry (Debian's
//! `docker-registry`, started per test on 127.0.0.1), seeded and checked with
//! skopeo; and against tiny fake HTTP servers for what a real registry will
//! not do: wrong bytes, a Bearer token server, redirects to storage.
//!
//! Images are built in the test (gzip tar layers, config, manifest, index)
//! and written as OCI layouts. Without `docker-registry`, `skopeo` or
//! `htpasswd` a test is skipped, except under `CI=true` where it fails.

use base::{Digest, ErrorKind, Reference};
use berth_tests::{free_port, CncfRegistry};
use bytes::Bytes;
use distribution::{
    manifest_reference, media_type, AuthConfig, Client, Config, Descriptor, Event, Platform,
    Progress, PushedBlob, Status,
};
use futures_util::StreamExt;
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn tmpdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("berth-dist")
        .tempdir_in("/tmp")
        .unwrap()
}

/// Whether the registry, skopeo and `extra` tools are installed (fails under CI).
fn tools(extra: &[&str]) -> bool {
    ["docker-registry", "skopeo"]
        .iter()
        .chain(extra)
        .all(|t| berth_tests::require(t))
}

/// The shared CNCF registry harness; `tools` checked that it is installed.
struct Registry;

impl Registry {
    fn start(htpasswd: Option<&str>) -> CncfRegistry {
        Registry::start_with(htpasswd, None)
    }

    /// With `tls` = (certificate, key), the registry serves HTTPS.
    fn start_with(htpasswd: Option<&str>, tls: Option<(&Path, &Path)>) -> CncfRegistry {
        CncfRegistry::start_with(htpasswd, tls).expect("docker-registry is installed")
    }
}

fn skopeo(args: &[&str]) -> String {
    let out = Command::new("skopeo")
        .arg("--insecure-policy")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run skopeo");
    assert!(
        out.status.success(),
        "skopeo {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

// ---- image fixtures ---------------------------------------------------------

#[derive(Clone)]
struct Blob {
    desc: Descriptor,
    data: Bytes,
}

impl Blob {
    fn new(media_type: &str, data: Vec<u8>) -> Blob {
        Blob {
            desc: Descriptor::of(media_type, &data),
            data: Bytes::from(data),
        }
    }

    fn reader(&self) -> std::io::Cursor<Bytes> {
        std::io::Cursor::new(self.data.clone())
    }
}

/// Deterministic, poorly compressible bytes.
fn noise(seed: &str, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    let mut block: [u8; 32] = Sha256::digest(seed.as_bytes()).into();
    while out.len() < len {
        out.extend_from_slice(&block);
        block = Sha256::digest(block).into();
    }
    out.truncate(len);
    out
}

/// A gzip tar layer holding one file; returns the blob and its diff id.
fn layer(name: &str, len: usize) -> (Blob, Digest) {
    let mut tar = tar::Builder::new(Vec::new());
    let data = noise(name, len);
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    tar.append_data(&mut h, name, &data[..]).unwrap();
    let tar = tar.into_inner().unwrap();
    let diff_id = Digest::of(&tar);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    (
        Blob::new(media_type::OCI_LAYER_GZIP, gz.finish().unwrap()),
        diff_id,
    )
}

#[derive(Clone)]
struct Image {
    config: Blob,
    layers: Vec<Blob>,
    manifest: Blob,
}

fn image_from(arch: &str, layers: Vec<(Blob, Digest)>) -> Image {
    let (variant, diff_ids): (Option<&str>, Vec<String>) = (
        (arch == "arm64").then_some("v8"),
        layers.iter().map(|(_, d)| d.to_string()).collect(),
    );
    let mut cfg = serde_json::json!({
        "architecture": arch,
        "os": "linux",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    });
    if let Some(v) = variant {
        cfg["variant"] = v.into();
    }
    let config = Blob::new(media_type::OCI_CONFIG, serde_json::to_vec(&cfg).unwrap());
    let layers: Vec<Blob> = layers.into_iter().map(|(b, _)| b).collect();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_MANIFEST,
        "config": config.desc,
        "layers": layers.iter().map(|l| &l.desc).collect::<Vec<_>>(),
    });
    let manifest = Blob::new(
        media_type::OCI_MANIFEST,
        serde_json::to_vec_pretty(&manifest).unwrap(),
    );
    Image {
        config,
        layers,
        manifest,
    }
}

/// An image of `n` layers of a few KiB each, distinct per `seed`.
fn image(arch: &str, seed: &str, n: usize) -> Image {
    image_from(
        arch,
        (0..n)
            .map(|i| layer(&format!("{seed}-{i}.bin"), 3000 + 2500 * i))
            .collect(),
    )
}

fn index_of(images: &[&Image]) -> Blob {
    let manifests: Vec<_> = images
        .iter()
        .map(|img| {
            let cfg: serde_json::Value = serde_json::from_slice(&img.config.data).unwrap();
            let mut platform =
                serde_json::json!({"architecture": cfg["architecture"], "os": "linux"});
            if let Some(v) = cfg.get("variant") {
                platform["variant"] = v.clone();
            }
            let mut d = serde_json::to_value(&img.manifest.desc).unwrap();
            d["platform"] = platform;
            d
        })
        .collect();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_INDEX,
        "manifests": manifests,
    });
    Blob::new(media_type::OCI_INDEX, serde_json::to_vec(&index).unwrap())
}

/// Writes an OCI layout holding `images` (and `index`, if any) tagged `tag`.
fn write_layout(dir: &Path, tag: &str, images: &[&Image], index: Option<&Blob>) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let mut put = |b: &Blob| std::fs::write(blobs.join(b.desc.digest.hex()), &b.data).unwrap();
    for img in images {
        put(&img.config);
        put(&img.manifest);
        img.layers.iter().for_each(&mut put);
    }
    let top = match index {
        Some(i) => {
            put(i);
            i
        }
        None => &images[0].manifest,
    };
    let mut d = serde_json::to_value(&top.desc).unwrap();
    d["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": tag});
    let idx = serde_json::json!({"schemaVersion": 2, "manifests": [d]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&idx).unwrap()).unwrap();
}

/// Pushes `images` to `host/repo:tag` with skopeo, digests preserved.
fn seed(
    host: &str,
    repo: &str,
    tag: &str,
    images: &[&Image],
    index: Option<&Blob>,
    creds: &[&str],
) {
    let dir = tmpdir();
    write_layout(dir.path(), tag, images, index);
    let src = format!("oci:{}:{tag}", dir.path().display());
    let dst = format!("docker://{host}/{repo}:{tag}");
    let mut args = vec![
        "copy",
        "--quiet",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
    ];
    args.extend_from_slice(creds);
    args.extend([src.as_str(), dst.as_str()]);
    skopeo(&args);
}

fn client() -> Client {
    Client::new(Config::default()).unwrap()
}

fn repo(c: &Client, name: &str, auth: &AuthConfig) -> distribution::Repository {
    c.repository(&Reference::parse(name).unwrap(), auth)
        .unwrap()
}

fn recorder() -> (Progress, Arc<Mutex<Vec<Event>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let e = events.clone();
    (Progress::new(move |ev| e.lock().unwrap().push(ev)), events)
}

fn statuses(events: &Mutex<Vec<Event>>, digest: &Digest) -> Vec<Status> {
    let mut s: Vec<Status> = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| &e.digest == digest)
        .map(|e| e.status.clone())
        .collect();
    s.dedup();
    s
}

async fn collect(mut s: distribution::BlobStream) -> Result<Vec<u8>, distribution::Error> {
    let mut v = Vec::new();
    while let Some(c) = s.next().await {
        v.extend_from_slice(&c?);
    }
    Ok(v)
}

// ---- against the CNCF registry ---------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_image_seeded_by_skopeo() {
    if !tools(&[]) {
        return;
    }
    let reg = Registry::start(None);
    let img = image("amd64", "pull", 3);
    seed(&reg.addr.clone(), "seed/app", "v1", &[&img], None, &[]);

    let c = client();
    let reference = Reference::parse(&format!("{}/seed/app:v1", reg.addr.clone())).unwrap();
    let repo = c.repository(&reference, &AuthConfig::default()).unwrap();
    let r = repo
        .resolve(
            &manifest_reference(&reference),
            &Platform::parse("linux/amd64").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.digest(), &img.manifest.desc.digest);
    assert_eq!(r.manifest.bytes, img.manifest.data);
    assert_eq!(r.manifest.media_type, media_type::OCI_MANIFEST);
    assert!(r.platform.is_none());
    assert_eq!(r.image.layers.len(), 3);

    // By digest: verified against the content.
    let m = repo
        .get_manifest(img.manifest.desc.digest.as_str())
        .await
        .unwrap();
    assert_eq!(m.bytes, img.manifest.data);

    assert_eq!(
        repo.fetch_blob_bytes(&r.image.config).await.unwrap(),
        img.config.data
    );

    // Layers in parallel, with progress.
    let (progress, events) = recorder();
    let tasks: Vec<_> = r
        .image
        .layers
        .iter()
        .cloned()
        .map(|d| {
            let (repo, p) = (repo.clone(), progress.clone());
            tokio::spawn(async move { collect(repo.fetch_blob(&d, &p).await?).await })
        })
        .collect();
    for (t, want) in tasks.into_iter().zip(&img.layers) {
        assert_eq!(t.await.unwrap().unwrap(), want.data);
        let s = statuses(&events, &want.desc.digest);
        assert_eq!(
            s,
            [
                Status::Downloading,
                Status::VerifyingChecksum,
                Status::DownloadComplete
            ]
        );
    }

    // Resume after half of a layer (the registry honours Range).
    let l = &img.layers[2];
    let half = l.data.len() / 2;
    let mut h = Sha256::new();
    h.update(&l.data[..half]);
    let s = repo
        .fetch_blob_from(&l.desc, half as u64, h, &Progress::none())
        .await
        .unwrap();
    assert_eq!(collect(s).await.unwrap(), l.data[half..]);

    // As an AsyncRead.
    let mut rd = repo
        .fetch_blob(&img.layers[0].desc, &Progress::none())
        .await
        .unwrap()
        .into_reader();
    let mut buf = Vec::new();
    rd.read_to_end(&mut buf).await.unwrap();
    assert_eq!(buf, img.layers[0].data);

    // Errors as Docker words them.
    let e = repo.get_manifest("nope").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(
        e.to_string(),
        format!(
            "manifest for {}/seed/app:nope not found: manifest unknown: manifest unknown",
            reg.addr.clone()
        )
    );
    let other = self::repo(
        &c,
        &format!("{}/no/such", reg.addr.clone()),
        &AuthConfig::default(),
    );
    let e = other.get_manifest("latest").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let absent = Descriptor::of(media_type::OCI_LAYER_GZIP, b"absent");
    let e = repo
        .fetch_blob(&absent, &Progress::none())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_then_read_back_with_skopeo() {
    if !tools(&[]) {
        return;
    }
    let reg = Registry::start(None);
    let host = reg.addr.clone();
    let base_img = image("amd64", "base", 2);
    seed(&host, "seed/app", "v1", &[&base_img], None, &[]);

    // Shares its first layer with the seeded image (mounted), has two new ones.
    let shared = (base_img.layers[0].clone(), {
        let cfg: serde_json::Value = serde_json::from_slice(&base_img.config.data).unwrap();
        Digest::parse(cfg["rootfs"]["diff_ids"][0].as_str().unwrap()).unwrap()
    });
    let img = image_from(
        "amd64",
        vec![
            shared,
            layer("new-a.bin", 20_000),
            layer("new-b.bin", 9_000),
        ],
    );
    let c = client();
    let chunked = Client::new(Config {
        chunk_size: Some(4096),
        ..Config::default()
    })
    .unwrap();
    let name = format!("{host}/pushed/app");
    let repo = self::repo(&c, &name, &AuthConfig::default());
    let (progress, events) = recorder();
    let from = vec!["seed/app".to_string()];

    let l = &img.layers;
    let got = repo
        .push_blob(&l[0].desc, l[0].reader(), &from, &progress)
        .await
        .unwrap();
    assert_eq!(
        got,
        PushedBlob::Mounted {
            from: "seed/app".into()
        }
    );
    assert_eq!(
        statuses(&events, &l[0].desc.digest),
        [Status::MountedFrom("seed/app".into())]
    );
    // Not in seed/app: the mount is answered with an upload session, used for the upload.
    let got = repo
        .push_blob(&l[1].desc, l[1].reader(), &from, &progress)
        .await
        .unwrap();
    assert_eq!(got, PushedBlob::Uploaded);
    assert_eq!(
        statuses(&events, &l[1].desc.digest),
        [Status::Pushing, Status::Pushed]
    );
    // Chunked: 9 kB in 4 KiB PATCHes.
    assert!(l[2].desc.size > 2 * 4096);
    let crepo = self::repo(&chunked, &name, &AuthConfig::default());
    let got = crepo
        .push_blob(&l[2].desc, l[2].reader(), &[], &progress)
        .await
        .unwrap();
    assert_eq!(got, PushedBlob::Uploaded);
    let pushing: Vec<u64> = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.digest == l[2].desc.digest && e.status == Status::Pushing)
        .map(|e| e.current)
        .collect();
    assert_eq!(
        pushing,
        [0, 4096, 8192, l[2].desc.size],
        "one event per chunk"
    );
    // Again: the registry has it.
    let got = repo
        .push_blob(&l[1].desc, l[1].reader(), &[], &progress)
        .await
        .unwrap();
    assert_eq!(got, PushedBlob::AlreadyExists);
    assert_eq!(
        events.lock().unwrap().last().unwrap().status,
        Status::LayerAlreadyExists
    );
    assert_eq!(
        repo.push_blob_bytes(&img.config.desc, img.config.data.clone())
            .await
            .unwrap(),
        PushedBlob::Uploaded
    );
    for b in img.layers.iter().chain([&img.config]) {
        assert_eq!(
            repo.blob_exists(&b.desc.digest).await.unwrap(),
            Some(b.desc.size)
        );
    }
    let digest = repo
        .put_manifest("v2", media_type::OCI_MANIFEST, img.manifest.data.clone())
        .await
        .unwrap();
    assert_eq!(digest, img.manifest.desc.digest);
    // Tagging is pushing the same manifest to another tag.
    repo.put_manifest(
        "latest",
        media_type::OCI_MANIFEST,
        img.manifest.data.clone(),
    )
    .await
    .unwrap();
    assert_eq!(repo.get_manifest("latest").await.unwrap().digest, digest);

    // skopeo sees exactly what was pushed.
    let src = format!("docker://{name}:v2");
    let raw = skopeo(&["inspect", "--raw", "--tls-verify=false", &src]);
    assert_eq!(raw.as_bytes(), &img.manifest.data[..]);
    let info: serde_json::Value =
        serde_json::from_str(&skopeo(&["inspect", "--tls-verify=false", &src])).unwrap();
    assert_eq!(info["Digest"], digest.as_str());
    let want_layers: Vec<&str> = img.layers.iter().map(|b| b.desc.digest.as_str()).collect();
    assert_eq!(info["Layers"], serde_json::json!(want_layers));
    let out = tmpdir();
    let dst = format!("oci:{}:v2", out.path().display());
    skopeo(&[
        "copy",
        "--quiet",
        "--preserve-digests",
        "--src-tls-verify=false",
        &src,
        &dst,
    ]);
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"][0]["digest"], digest.as_str());
    for b in img.layers.iter().chain([&img.config, &img.manifest]) {
        let data =
            std::fs::read(out.path().join("blobs/sha256").join(b.desc.digest.hex())).unwrap();
        assert_eq!(data, b.data, "{}", b.desc.digest);
    }

    // A digest reference must match the bytes.
    let e = repo
        .put_manifest(
            base_img.manifest.desc.digest.as_str(),
            media_type::OCI_MANIFEST,
            img.manifest.data.clone(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_arch_index_resolves_per_platform() {
    if !tools(&[]) {
        return;
    }
    let reg = Registry::start(None);
    let host = reg.addr.clone();
    let amd = image("amd64", "amd", 2);
    let arm = image("arm64", "arm", 2);
    let index = index_of(&[&amd, &arm]);
    seed(&host, "multi/app", "v1", &[&amd, &arm], Some(&index), &[]);

    let c = client();
    let repo = self::repo(&c, &format!("{host}/multi/app"), &AuthConfig::default());
    for (platform, want) in [
        ("linux/amd64", &amd),
        ("linux/arm64", &arm),
        ("linux/arm64/v8", &arm),
        ("linux/aarch64", &arm),
    ] {
        let r = repo
            .resolve("v1", &Platform::parse(platform).unwrap())
            .await
            .unwrap();
        assert_eq!(r.digest(), &index.desc.digest, "{platform}");
        assert_eq!(r.root.media_type, media_type::OCI_INDEX);
        assert_eq!(r.manifest.digest, want.manifest.desc.digest, "{platform}");
        assert_eq!(r.image.layers[0].digest, want.layers[0].desc.digest);
        assert!(r.platform.is_some());
    }
    let by_digest = repo
        .resolve(
            index.desc.digest.as_str(),
            &Platform::parse("linux/arm64").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(by_digest.manifest.digest, arm.manifest.desc.digest);

    let e = repo
        .resolve("v1", &Platform::parse("linux/s390x").unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(
        e.to_string(),
        "no matching manifest for linux/s390x in the manifest list entries (available: linux/amd64, linux/arm64/v8)"
    );

    // Copy the whole index to another repository with the crate: blobs
    // mounted, child manifests by digest, then the index under a tag.
    let copy = self::repo(&c, &format!("{host}/multi/copy"), &AuthConfig::default());
    let from = vec!["multi/app".to_string()];
    for img in [&amd, &arm] {
        for b in img.layers.iter().chain([&img.config]) {
            let got = copy
                .push_blob(&b.desc, b.reader(), &from, &Progress::none())
                .await
                .unwrap();
            assert_eq!(
                got,
                PushedBlob::Mounted {
                    from: "multi/app".into()
                }
            );
        }
        copy.put_manifest(
            img.manifest.desc.digest.as_str(),
            media_type::OCI_MANIFEST,
            img.manifest.data.clone(),
        )
        .await
        .unwrap();
    }
    let d = copy
        .put_manifest("v1", media_type::OCI_INDEX, index.data.clone())
        .await
        .unwrap();
    assert_eq!(d, index.desc.digest);
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{host}/multi/copy:v1"),
    ]);
    assert_eq!(raw.as_bytes(), &index.data[..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_with_htpasswd() {
    if !tools(&["htpasswd"]) {
        return;
    }
    let out = Command::new("htpasswd")
        .args(["-Bbn", "user", "pass"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let reg = Registry::start(Some(&String::from_utf8(out.stdout).unwrap()));
    let host = reg.addr.clone();
    let img = image("amd64", "auth", 2);
    seed(
        &host,
        "private/app",
        "v1",
        &[&img],
        None,
        &["--dest-creds", "user:pass"],
    );

    let c = client();
    let good = AuthConfig::basic("user", "pass");
    let bad = AuthConfig::basic("user", "wrong");

    let ok = c.check_login(&host, &good).await.unwrap();
    assert_eq!(ok.registry, host);
    // The address may come from serveraddress, with a scheme, as docker login sends it.
    let mut via_addr = good.clone();
    via_addr.serveraddress = format!("http://{host}");
    c.check_login("", &via_addr).await.unwrap();
    let e = c.check_login(&host, &bad).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthorized);
    assert_eq!(
        e.to_string(),
        format!("login attempt to http://{host}/v2/ failed with status: 401 Unauthorized")
    );
    let e = c
        .check_login(&host, &AuthConfig::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthorized);

    // Credentials from an X-Registry-Auth header.
    let from_header = AuthConfig::from_header(&good.to_header()).unwrap();
    let name = format!("{host}/private/app");
    let repo = self::repo(&c, &name, &from_header);
    let r = repo.resolve("v1", &Platform::host()).await.unwrap();
    assert_eq!(r.digest(), &img.manifest.desc.digest);
    assert_eq!(
        repo.fetch_blob_bytes(&r.image.config).await.unwrap(),
        img.config.data
    );

    let e = self::repo(&c, &name, &bad)
        .resolve("v1", &Platform::host())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthorized, "{e}");
    assert!(e.to_string().contains("unauthorized"), "{e}");
    let e = self::repo(&c, &name, &AuthConfig::default())
        .resolve("v1", &Platform::host())
        .await
        .unwrap_err();
    assert!(
        e.to_string().starts_with(&format!(
            "pull access denied for {name}, repository does not exist or may require 'docker login'"
        )),
        "{e}"
    );

    // Push with and without the right password.
    let other = self::repo(&c, &format!("{host}/private/other"), &good);
    let got = other
        .push_blob(
            &img.layers[0].desc,
            img.layers[0].reader(),
            &["private/app".into()],
            &Progress::none(),
        )
        .await
        .unwrap();
    assert_eq!(
        got,
        PushedBlob::Mounted {
            from: "private/app".into()
        }
    );
    let e = self::repo(&c, &format!("{host}/private/other"), &bad)
        .push_blob_bytes(&img.config.desc, img.config.data.clone())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthorized, "{e}");
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// HTTPS with a private CA from `certs.d`, through a Docker Hub mirror (a
/// loopback registry name would be plain HTTP, a mirror URL says https).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_mirror_trusted_through_certs_d() {
    if !tools(&["openssl"]) {
        return;
    }
    let pki = tmpdir();
    let p = pki.path();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509", "-days", "1", "-subj", "/CN=berth-test-ca"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.crt"]);
    openssl(p, &ca);
    let mut csr = vec!["req", "-subj", "/CN=127.0.0.1"];
    csr.extend(ec);
    csr.extend(["-keyout", "server.key", "-out", "server.csr"]);
    openssl(p, &csr);
    std::fs::write(
        p.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        p,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "ext.cnf",
            "-out",
            "server.crt",
        ],
    );
    let reg = Registry::start_with(None, Some((&p.join("server.crt"), &p.join("server.key"))));
    let host = reg.addr.clone();
    let img = image("amd64", "mirror", 1);
    seed(&host, "library/busybox", "latest", &[&img], None, &[]);

    let certs = tmpdir();
    std::fs::create_dir(certs.path().join(&host)).unwrap();
    std::fs::copy(p.join("ca.crt"), certs.path().join(&host).join("ca.crt")).unwrap();
    let c = Client::new(Config {
        registry_mirrors: vec![format!("https://{host}")],
        certs_dir: Some(certs.path().to_path_buf()),
        ..Config::default()
    })
    .unwrap();
    let hub = self::repo(&c, "busybox", &AuthConfig::default());
    assert_eq!(
        hub.pull_endpoints()[0].url.as_str(),
        format!("https://{host}/")
    );
    let r = hub
        .resolve("latest", &Platform::parse("linux/amd64").unwrap())
        .await
        .unwrap();
    assert_eq!(r.digest(), &img.manifest.desc.digest);
    let s = hub
        .fetch_blob(&img.layers[0].desc, &Progress::none())
        .await
        .unwrap();
    assert_eq!(collect(s).await.unwrap(), img.layers[0].data);
}

// ---- against fake servers ---------------------------------------------------

struct Req {
    method: String,
    target: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Req {
    fn path(&self) -> &str {
        self.target.split('?').next().unwrap()
    }

    fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn resp(status: u16, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Resp {
    Resp {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.into(),
    }
}

type Handler = Arc<dyn Fn(&Req) -> Resp + Send + Sync>;

/// A one-request-per-connection HTTP/1.1 server on 127.0.0.1; lives as long
/// as the test's runtime.
async fn serve(listener: tokio::net::TcpListener, handler: Handler) {
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let h = handler.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut tmp = [0u8; 4096];
                let head_end = loop {
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                    match sock.read(&mut tmp).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&tmp[..n]),
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let mut lines = head.split("\r\n");
                let mut first = lines.next().unwrap().split(' ');
                let (method, target) = (
                    first.next().unwrap().to_string(),
                    first.next().unwrap().to_string(),
                );
                let headers: HashMap<String, String> = lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                    .collect();
                let len: usize = headers
                    .get("content-length")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                let mut body = buf[head_end..].to_vec();
                while body.len() < len {
                    match sock.read(&mut tmp).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => body.extend_from_slice(&tmp[..n]),
                    }
                }
                let r = h(&Req {
                    method,
                    target,
                    headers,
                    body,
                });
                let mut out = format!("HTTP/1.1 {} X\r\nConnection: close\r\n", r.status);
                if !r
                    .headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                {
                    out.push_str(&format!("Content-Length: {}\r\n", r.body.len()));
                }
                for (k, v) in &r.headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                let _ = sock.write_all(out.as_bytes()).await;
                let _ = sock.write_all(&r.body).await;
                let _ = sock.shutdown().await;
            });
        }
    });
}

async fn bind() -> (tokio::net::TcpListener, u16) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_content_is_detected() {
    let good = Blob::new(media_type::OCI_LAYER, noise("good", 100_000));
    let short = Blob::new(media_type::OCI_LAYER, noise("short", 5000));
    let ignores_range = Blob::new(media_type::OCI_LAYER, noise("range", 7000));
    let img = image("amd64", "fake", 1);
    let bogus_digest = Digest::of(b"something else");
    let (l, port) = bind().await;
    let (g, s, ir, m, bd) = (
        good.clone(),
        short.clone(),
        ignores_range.clone(),
        img.manifest.clone(),
        bogus_digest.clone(),
    );
    serve(
        l,
        Arc::new(move |r: &Req| {
            let blob = |b: &Blob| format!("/v2/bad/app/blobs/{}", b.desc.digest);
            match r.path() {
                // Same length, other bytes.
                p if p == blob(&g) => resp(200, &[], noise("evil", g.data.len())),
                // Fewer bytes than the descriptor says.
                p if p == blob(&s) => resp(200, &[], s.data[..100].to_vec()),
                // Ignores Range: always the whole blob.
                p if p == blob(&ir) => resp(200, &[], ir.data.to_vec()),
                p if p == format!("/v2/bad/app/manifests/{bd}") => resp(
                    200,
                    &[("Content-Type", media_type::OCI_MANIFEST)],
                    m.data.to_vec(),
                ),
                "/v2/bad/app/manifests/broken" => resp(503, &[], "busy"),
                "/v2/bad/app/manifests/oops" => resp(
                    500,
                    &[("Content-Type", "application/json")],
                    r#"{"errors":[{"code":"UNKNOWN","message":"unknown error"}]}"#,
                ),
                _ => resp(404, &[], ""),
            }
        }),
    )
    .await;
    let c = client();
    let repo = self::repo(
        &c,
        &format!("127.0.0.1:{port}/bad/app"),
        &AuthConfig::default(),
    );

    // The chunks flow, then the stream ends with the mismatch.
    let mut s = repo
        .fetch_blob(&good.desc, &Progress::none())
        .await
        .unwrap();
    let mut n = 0;
    let err = loop {
        match s.next().await {
            Some(Ok(c)) => n += c.len(),
            Some(Err(e)) => break e,
            None => panic!("a wrong blob must not end cleanly"),
        }
    };
    assert_eq!(n, good.data.len());
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().starts_with("digest mismatch"), "{err}");
    assert!(s.next().await.is_none());
    // Through the AsyncRead adapter the error is recoverable.
    let mut rd = repo
        .fetch_blob(&good.desc, &Progress::none())
        .await
        .unwrap()
        .into_reader();
    let e = rd.read_to_end(&mut Vec::new()).await.unwrap_err();
    assert_eq!(
        distribution::Error::from_io(&e).unwrap().kind(),
        ErrorKind::InvalidArgument
    );

    let e = repo
        .fetch_blob(&short.desc, &Progress::none())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().starts_with("size mismatch"), "{e}");

    let e = repo.get_manifest(bogus_digest.as_str()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().starts_with("digest mismatch"), "{e}");

    // Resume against a server that ignores Range: the prefix is skipped.
    let half = 3000;
    let mut h = Sha256::new();
    h.update(&ignores_range.data[..half]);
    let s = repo
        .fetch_blob_from(&ignores_range.desc, half as u64, h, &Progress::none())
        .await
        .unwrap();
    assert_eq!(collect(s).await.unwrap(), ignores_range.data[half..]);

    let e = repo.get_manifest("broken").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    let e = repo.get_manifest("oops").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Internal, "{e}");
    assert!(e.to_string().ends_with("unknown: unknown error"), "{e}");

    // Nothing listening.
    let closed = self::repo(
        &c,
        &format!("127.0.0.1:{}/x", free_port()),
        &AuthConfig::default(),
    );
    let e = closed.get_manifest("latest").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_tokens_redirects_and_mirrors() {
    let img = image("amd64", "bearer", 1);
    let layer = img.layers[0].clone();

    // Storage that blob GETs are redirected to; refuses registry credentials.
    let (sl, storage_port) = bind().await;
    let ld = layer.data.clone();
    serve(
        sl,
        Arc::new(move |r: &Req| match r.header("authorization") {
            Some(_) => resp(400, &[], "credentials leaked to storage"),
            None => resp(200, &[], ld.to_vec()),
        }),
    )
    .await;

    let (l, port) = bind().await;
    let tokens = Arc::new(AtomicUsize::new(0));
    let (t, m, d) = (
        tokens.clone(),
        img.manifest.clone(),
        layer.desc.digest.clone(),
    );
    serve(
        l,
        Arc::new(move |r: &Req| {
            let challenge = format!(
                r#"Bearer realm="http://127.0.0.1:{port}/token",service="fake",scope="repository:bearer/app:pull""#
            );
            if r.path() == "/token" {
                t.fetch_add(1, Ordering::SeqCst);
                let q = if r.method == "POST" {
                    String::from_utf8_lossy(&r.body).to_string()
                } else {
                    r.query().to_string()
                };
                let basic_ok = r.header("authorization") == Some("Basic dXNlcjpwYXNz"); // user:pass
                let refresh_ok = q.contains("grant_type=refresh_token") && q.contains("refresh_token=rt-1");
                if !q.contains("service=fake") || !(basic_ok || refresh_ok) {
                    return resp(401, &[], r#"{"details":"incorrect username or password"}"#);
                }
                if !q.contains("scope=repository%3Abearer%2Fapp%3Apull") && !q.contains("offline_token=true") {
                    return resp(403, &[], "bad scope");
                }
                return resp(200, &[], r#"{"access_token":"tok-1","expires_in":300,"refresh_token":"rt-1"}"#);
            }
            if r.header("authorization") != Some("Bearer tok-1") {
                return resp(
                    401,
                    &[("WWW-Authenticate", challenge.as_str())],
                    r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
                );
            }
            match r.path() {
                "/v2/" => resp(200, &[], "{}"),
                "/v2/bearer/app/manifests/v1" => resp(
                    200,
                    &[("Content-Type", media_type::OCI_MANIFEST)],
                    m.data.to_vec(),
                ),
                p if p == format!("/v2/bearer/app/blobs/{d}") => resp(
                    307,
                    &[("Location", &format!("http://127.0.0.1:{storage_port}/data"))],
                    "",
                ),
                _ => resp(404, &[], ""),
            }
        }),
    )
    .await;
    let c = client();
    let name = format!("127.0.0.1:{port}/bearer/app");
    let repo = self::repo(&c, &name, &AuthConfig::basic("user", "pass"));
    let m = repo.get_manifest("v1").await.unwrap();
    assert_eq!(m.digest, img.manifest.desc.digest);
    let s = repo
        .fetch_blob(&layer.desc, &Progress::none())
        .await
        .unwrap();
    assert_eq!(collect(s).await.unwrap(), layer.data);
    repo.get_manifest("v1").await.unwrap();
    assert_eq!(
        tokens.load(Ordering::SeqCst),
        1,
        "the token is cached per scope"
    );

    let e = self::repo(&c, &name, &AuthConfig::basic("user", "nope"))
        .get_manifest("v1")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthorized);
    assert!(
        e.to_string().contains("incorrect username or password"),
        "{e}"
    );

    // Login through the token server yields an identity token, which then works.
    let out = c
        .check_login(
            &format!("127.0.0.1:{port}"),
            &AuthConfig::basic("user", "pass"),
        )
        .await
        .unwrap();
    assert_eq!(out.identity_token.as_deref(), Some("rt-1"));
    let identity = AuthConfig {
        identitytoken: "rt-1".into(),
        ..AuthConfig::default()
    };
    let m = self::repo(&c, &name, &identity)
        .get_manifest("v1")
        .await
        .unwrap();
    assert_eq!(m.digest, img.manifest.desc.digest);
    let e = c
        .check_login(
            &format!("127.0.0.1:{port}"),
            &AuthConfig::basic("user", "nope"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unauthorized);

    // Docker Hub names go to the mirrors first: a dead mirror is skipped,
    // a live one serves the pull (the origin is never reached here).
    let (ml, mirror_port) = bind().await;
    let m2 = img.manifest.clone();
    serve(
        ml,
        Arc::new(move |r: &Req| match r.path() {
            "/v2/library/busybox/manifests/latest" => resp(
                200,
                &[("Content-Type", media_type::OCI_MANIFEST)],
                m2.data.to_vec(),
            ),
            _ => resp(404, &[], ""),
        }),
    )
    .await;
    let mirrored = Client::new(Config {
        registry_mirrors: vec![
            format!("http://127.0.0.1:{}", free_port()),
            format!("http://127.0.0.1:{mirror_port}"),
        ],
        ..Config::default()
    })
    .unwrap();
    let hub = self::repo(&mirrored, "busybox", &AuthConfig::default());
    assert_eq!(hub.pull_endpoints().len(), 3);
    let m = hub.get_manifest("latest").await.unwrap();
    assert_eq!(m.digest, img.manifest.desc.digest);
}
