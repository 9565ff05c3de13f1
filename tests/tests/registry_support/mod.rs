//! Helpers for the berth-registry suites: a registry process per test (own
//! temp root under /tmp/berth-reg*, port 0, killed by PID on drop), a tiny
//! blocking HTTP/1.1 client, and an OCI layout builder.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The registry binary, built beforehand (never built from a test).
pub fn registry_bin() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug/berth-registry");
    assert!(
        p.exists(),
        "{} is missing: build it first (cargo build -p berth-registry)",
        p.display()
    );
    p
}

/// A unique temporary directory, removed on drop.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("berth-reg")
        .tempdir_in("/tmp")
        .unwrap()
}

/// A running berth-registry.
pub struct Reg {
    pub dir: tempfile::TempDir,
    pub addr: String,
    config: Option<PathBuf>,
    child: Option<Child>,
    /// The root is a tmpfs of this test's (unmounted on drop).
    tmpfs_root: bool,
}

impl Reg {
    /// Starts a registry on a fresh root with no configuration.
    pub fn start() -> Reg {
        Reg::start_with(None)
    }

    /// Starts a registry with a TOML configuration.
    pub fn start_with(config: Option<&str>) -> Reg {
        Reg::start_opts(config, None)
    }

    /// Starts a registry whose root is a tmpfs of `mib` MiB: a disk that
    /// fills up.
    pub fn start_on_tmpfs(mib: u64) -> Reg {
        Reg::start_opts(None, Some(mib))
    }

    fn start_opts(config: Option<&str>, tmpfs_mib: Option<u64>) -> Reg {
        let dir = tempdir();
        let config = config.map(|c| {
            let p = dir.path().join("config.toml");
            std::fs::write(&p, c).unwrap();
            p
        });
        let mut r = Reg {
            dir,
            addr: String::new(),
            config,
            child: None,
            tmpfs_root: false,
        };
        if let Some(mib) = tmpfs_mib {
            std::fs::create_dir(r.root()).unwrap();
            nix::mount::mount(
                Some("berth-reg-full"),
                &r.root(),
                Some("tmpfs"),
                nix::mount::MsFlags::empty(),
                Some(format!("size={mib}m").as_str()),
            )
            .expect("mount a tmpfs root");
            r.tmpfs_root = true;
        }
        r.spawn();
        r
    }

    /// The storage root.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn spawn(&mut self) {
        let mut cmd = Command::new(registry_bin());
        cmd.args(["serve", "--addr", "127.0.0.1:0", "--root"])
            .arg(self.root());
        if let Some(c) = &self.config {
            cmd.arg("--config").arg(c);
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("registry.log"))
            .unwrap();
        let mut child = cmd
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("spawn berth-registry");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line.trim().rsplit(' ').next().unwrap_or("").to_string();
        self.child = Some(child);
        assert!(
            addr.starts_with("127.0.0.1:"),
            "registry did not start: {line:?}\n{}",
            self.log()
        );
        self.addr = addr;
    }

    /// The registry's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// PID of the running process.
    pub fn pid(&self) -> i32 {
        self.child.as_ref().expect("running").id() as i32
    }

    /// SIGKILL, then reap.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: signalling the registry process we started, by PID.
            unsafe { libc::kill(c.id() as i32, libc::SIGKILL) };
            let _ = c.wait();
        }
    }

    /// Starts again on the same root (a new port).
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    /// One HTTP request to this registry.
    pub fn req(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        http(&self.addr, method, path, headers, body)
    }
}

impl Drop for Reg {
    fn drop(&mut self) {
        self.kill9();
        if self.tmpfs_root {
            let _ = nix::mount::umount2(&self.root(), nix::mount::MntFlags::MNT_DETACH);
        }
    }
}

/// An HTTP response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    /// A header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not json ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The first spec error code of the body.
    pub fn code(&self) -> String {
        self.json()["errors"][0]["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }
}

/// Writes a request head; the caller writes the body.
pub fn send_head(
    s: &mut TcpStream,
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    len: usize,
) {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-length"))
    {
        head.push_str(&format!("Content-Length: {len}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
}

/// One request over a fresh connection (`Connection: close`).
pub fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    send_head(&mut s, addr, method, path, headers, body.len());
    s.write_all(body).unwrap();
    read_response(&mut s, method == "HEAD")
}

/// Reads a response until the server closes the connection.
pub fn read_response(s: &mut TcpStream, head_only: bool) -> Resp {
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked && !head_only {
        body = dechunk(&body);
    }
    Resp {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&b[..eol])
                .split(';')
                .next()
                .unwrap()
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
}

/// `sha256:<hex>` of data.
pub fn sha256(data: &[u8]) -> String {
    base::Digest::of(data).to_string()
}

/// Random bytes.
pub fn random(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    getrandom::fill(&mut v).unwrap();
    v
}

/// A gzip stream of random bytes (skopeo keeps gzip layers as they are).
pub fn random_layer(n: usize) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
    e.write_all(&random(n)).unwrap();
    e.finish().unwrap()
}

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// An image manifest for a config and layers (as they would be stored).
pub fn image_manifest(config: &[u8], layers: &[Vec<u8>]) -> Vec<u8> {
    let layers: Vec<serde_json::Value> = layers
        .iter()
        .map(|l| serde_json::json!({"mediaType": OCI_LAYER_GZIP, "digest": sha256(l), "size": l.len()}))
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": config.len()},
        "layers": layers,
    }))
    .unwrap()
}

/// Writes an OCI image layout with one image tagged `latest`; returns the
/// manifest digest.
pub fn oci_layout(dir: &Path, layers: &[Vec<u8>]) -> String {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |b: &[u8]| {
        let d = sha256(b);
        std::fs::write(blobs.join(&d[7..]), b).unwrap();
        d
    };
    let diff_ids: Vec<String> = layers.iter().map(|l| sha256(l)).collect();
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap();
    put(&config);
    for l in layers {
        put(l);
    }
    let m = image_manifest(&config, layers);
    let md = put(&m);
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": md, "size": m.len(),
                       "annotations": {"org.opencontainers.image.ref.name": "latest"}}],
    });
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    md
}

/// Every blob digest of an OCI layout (sorted).
pub fn layout_blobs(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("blobs/sha256"))
        .unwrap()
        .map(|e| format!("sha256:{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    v.sort();
    v
}

/// Pushes a blob monolithically (POST, then PUT ?digest=).
pub fn push_blob(r: &Reg, name: &str, data: &[u8], auth: &[(&str, &str)]) -> String {
    let d = sha256(data);
    let post = r.req("POST", &format!("/v2/{name}/blobs/uploads/"), auth, b"");
    assert_eq!(post.status, 202, "{post:?}");
    let loc = post.header("location").unwrap().to_string();
    let put = r.req("PUT", &format!("{loc}?digest={d}"), auth, data);
    assert_eq!(put.status, 201, "{put:?}");
    d
}

/// Pushes a small image (config + layers + manifest under `tag`); returns
/// the manifest digest.
pub fn push_image(r: &Reg, name: &str, tag: &str, layers: &[Vec<u8>]) -> String {
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","n":{}}}"#,
        layers.len()
    )
    .into_bytes();
    push_blob(r, name, &config, &[]);
    for l in layers {
        push_blob(r, name, l, &[]);
    }
    let m = image_manifest(&config, layers);
    let put = r.req(
        "PUT",
        &format!("/v2/{name}/manifests/{tag}"),
        &[("Content-Type", OCI_MANIFEST)],
        &m,
    );
    assert_eq!(put.status, 201, "{put:?}");
    sha256(&m)
}

/// Runs a command with a timeout, returning (exit code, stdout, stderr).
pub fn run(cmd: &mut Command, timeout: Duration) -> (i32, String, String) {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let pid = child.id() as i32;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let d2 = done.clone();
    let watchdog = std::thread::spawn(move || {
        let deadline = Instant::now() + timeout;
        while !d2.load(std::sync::atomic::Ordering::Relaxed) {
            if Instant::now() > deadline {
                // SAFETY: killing the child we spawned, by PID.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    });
    let out = child.wait_with_output().unwrap();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let timed_out = watchdog.join().unwrap();
    assert!(!timed_out, "{cmd:?} timed out after {timeout:?}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs skopeo and asserts success; returns stdout.
pub fn skopeo(args: &[&str]) -> String {
    let (code, out, err) = run(Command::new("skopeo").args(args), Duration::from_secs(120));
    assert_eq!(code, 0, "skopeo {args:?} failed:\n{err}");
    out
}
