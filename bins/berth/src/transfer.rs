//! Moving images and filesystems in and out: pull, push (with registry
//! credentials), save, load and export.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use api_client::{Body, Client, HttpMethod as Method};
use serde_json::{Map, Value};
use tokio::io::AsyncWriteExt;

use crate::auth;
use crate::cli::{ExportArgs, LoadArgs, PullArgs, PushArgs, SaveArgs};
use crate::fmtutil::go_io_error;
use crate::progress::{self, Target};
use crate::refs::Named;
use crate::{CmdResult, Failure};

const AUTH_HEADER: &str = "X-Registry-Auth";

fn fail(msg: impl Into<String>) -> Failure {
    Failure::new(1, msg)
}

/// docker's `NewVersionError`: `feature` needs API `required`.
async fn require_api(client: &Client, required: &str, feature: &str) -> Result<(), Failure> {
    let v = client.api_version().await?;
    if api_client::compare_versions(&v, required) == std::cmp::Ordering::Less {
        return Err(fail(format!(
            "\"{feature}\" requires API version {required}, but the Docker daemon API version is {v}"
        )));
    }
    Ok(())
}

/// The daemon's architecture names for this host (GOARCH).
fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// Parse `os[/arch[/variant]]` like containerd's `platforms.Parse` (with its
/// normalization) into the OCI platform JSON the API takes.
pub fn parse_platform(spec: &str) -> Result<Value, String> {
    let invalid = |why: &str| format!("{spec:?}: {why}: invalid argument");
    let parts: Vec<String> = spec.split('/').map(|p| p.to_lowercase()).collect();
    if parts.iter().any(|p| {
        p.is_empty()
            || !p
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
    }) {
        return Err(invalid("invalid platform specifier"));
    }
    let normalize_arch = |arch: &str, variant: &str| -> (String, String) {
        match arch {
            "i386" => ("386".into(), String::new()),
            "x86_64" | "x86-64" | "amd64" => (
                "amd64".into(),
                if variant == "v1" { "" } else { variant }.into(),
            ),
            "aarch64" | "arm64" => (
                "arm64".into(),
                match variant {
                    "8" | "v8" | "v8.0" => "",
                    other => other,
                }
                .into(),
            ),
            "armhf" => ("arm".into(), "v7".into()),
            "armel" => ("arm".into(), "v6".into()),
            "arm" => (
                "arm".into(),
                match variant {
                    "" | "7" => "v7",
                    "5" | "6" | "8" => return ("arm".into(), format!("v{variant}")),
                    other => other,
                }
                .into(),
            ),
            other => (other.into(), variant.into()),
        }
    };
    let known_os = |os: &str| {
        matches!(
            os,
            "aix"
                | "android"
                | "darwin"
                | "dragonfly"
                | "freebsd"
                | "hurd"
                | "illumos"
                | "ios"
                | "js"
                | "linux"
                | "nacl"
                | "netbsd"
                | "openbsd"
                | "plan9"
                | "solaris"
                | "windows"
                | "zos"
        )
    };
    let (os, arch, variant) = match parts.as_slice() {
        [one] if known_os(one) => {
            let (a, v) = normalize_arch(host_arch(), "");
            (one.clone(), a, v)
        }
        [one]
            if matches!(
                one.as_str(),
                "386"
                    | "i386"
                    | "amd64"
                    | "x86_64"
                    | "x86-64"
                    | "arm"
                    | "armhf"
                    | "armel"
                    | "arm64"
                    | "aarch64"
                    | "ppc64le"
                    | "s390x"
                    | "riscv64"
                    | "mips64le"
                    | "loong64"
            ) =>
        {
            let (a, v) = normalize_arch(one, "");
            ("linux".into(), a, v)
        }
        [_] => return Err(invalid("unknown operating system or architecture")),
        [os, arch] => {
            let (a, v) = normalize_arch(arch, "");
            (os.clone(), a, v)
        }
        [os, arch, variant] => {
            let (a, v) = normalize_arch(arch, variant);
            (os.clone(), a, v)
        }
        _ => return Err(invalid("cannot parse platform specifier")),
    };
    let os = if os == "macos" { "darwin".into() } else { os };
    let mut m = Map::new();
    m.insert("architecture".into(), Value::String(arch));
    m.insert("os".into(), Value::String(os));
    if !variant.is_empty() {
        m.insert("variant".into(), Value::String(variant));
    }
    Ok(Value::Object(m))
}

/// `platform` query values for save/load (API >= 1.48), deduplicated.
async fn platform_query(client: &Client, specs: &[String]) -> Result<Vec<String>, Failure> {
    let mut out: Vec<String> = Vec::new();
    for s in specs.iter().filter(|s| !s.is_empty()) {
        let p = parse_platform(s).map_err(|e| fail(format!("invalid platform: {e}")))?;
        let p = p.to_string();
        if !out.contains(&p) {
            out.push(p);
        }
    }
    if !out.is_empty() {
        require_api(client, "1.48", "platform").await?;
    }
    Ok(out)
}

// ------------------------------------------------------------------ pull / push

/// Pull `named` (a tag, digest, or with `all` every tag), sending the stored
/// credentials for its registry, and print the progress to `target`.
pub async fn pull_image(
    client: &Client,
    named: &Named,
    all: bool,
    platform: Option<&str>,
    target: Target,
) -> Result<(), String> {
    let auth = auth::registry_auth_header(&named.domain)?;
    let name = named.name();
    let tag = named.api_tag();
    let platform = platform.map(str::to_lowercase);
    let mut q: Vec<(&str, &str)> = vec![("fromImage", &name)];
    if !all {
        q.push(("tag", &tag));
    }
    if let Some(p) = platform.as_deref().filter(|p| !p.is_empty()) {
        q.push(("platform", p));
    }
    let resp = client
        .stream_with_headers(
            Method::POST,
            "/images/create",
            &q,
            &[(AUTH_HEADER, &auth)],
            Body::empty(),
        )
        .await
        .map_err(|e| e.to_string())?;
    progress::consume(resp, target).await.map(|_| ())
}

pub async fn pull(client: &Client, a: PullArgs) -> CmdResult {
    let mut named = Named::parse(&a.image).map_err(fail)?;
    if a.all_tags && !named.is_name_only() {
        return Err(fail("tag can't be used with --all-tags/-a"));
    }
    if !a.all_tags && named.is_name_only() {
        named = named.with_default_tag();
        if !a.quiet {
            println!("Using default tag: latest");
        }
    }
    let target = if a.quiet {
        Target::Discard
    } else {
        Target::Stdout
    };
    pull_image(client, &named, a.all_tags, a.platform.as_deref(), target)
        .await
        .map_err(fail)?;
    println!("{}", named.full());
    Ok(0)
}

/// docker's "Info ->" note, as printed on a non-terminal.
fn print_note(text: &str) {
    let header = " Info -> ";
    let mut out = format!("\n{header}");
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push_str(&" ".repeat(header.len()));
        }
        out.push_str(line);
        out.push('\n');
    }
    print!("{out}");
}

pub async fn push(client: &Client, a: PushArgs) -> CmdResult {
    let mut platform = None;
    if let Some(p) = a.platform.as_deref().filter(|p| !p.is_empty()) {
        let parsed = parse_platform(p).map_err(|e| {
            eprint!("Invalid platform {p}");
            fail(e)
        })?;
        platform = Some(parsed.to_string());
        print_note(
            "Using --platform pushes only the specified platform manifest of a multi-platform image index.\n\
             Other components, like attestations, will not be included.\n\
             To push the complete multi-platform image, remove the --platform flag.\n",
        );
    }
    let mut named = Named::parse(&a.image).map_err(fail)?;
    if a.all_tags && !named.is_name_only() {
        return Err(fail("tag can't be used with --all-tags/-a"));
    }
    if !a.all_tags && named.is_name_only() {
        named = named.with_default_tag();
        if !a.quiet {
            println!("Using default tag: latest");
        }
    }
    if named.digest.is_some() {
        return Err(fail("cannot push a digest reference"));
    }
    let auth = auth::registry_auth_header(&named.domain).map_err(fail)?;
    let tag = named.tag.clone().unwrap_or_default();
    let mut q: Vec<(&str, &str)> = Vec::new();
    if !a.all_tags {
        q.push(("tag", &tag));
    }
    if let Some(p) = &platform {
        require_api(client, "1.46", "platform").await?;
        q.push(("platform", p));
    }
    let resp = client
        .stream_with_headers(
            Method::POST,
            &format!("/images/{}/push", named.name()),
            &q,
            &[(AUTH_HEADER, &auth)],
            Body::empty(),
        )
        .await?;
    let target = if a.quiet {
        Target::Discard
    } else {
        Target::Stdout
    };
    let messages = progress::consume(resp, target).await.map_err(fail)?;
    for m in &messages {
        let aux = &m["aux"];
        if aux["ManifestPushedInsteadOfIndex"].as_bool() == Some(true) {
            print_note(&format!(
                "Not all multiplatform-content is present and only the available single-platform image was pushed\n{} -> {}",
                aux["OriginalIndex"]["digest"].as_str().unwrap_or(""),
                aux["SelectedManifest"]["digest"].as_str().unwrap_or("")
            ));
        }
    }
    if a.quiet {
        println!("{}", named.full());
    }
    Ok(0)
}

// ------------------------------------------------------------------ tar output

/// A file written under a temporary name and renamed into place only when
/// something was written without error (moby's `atomicwriter`, mode 0600).
struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    file: tokio::fs::File,
    written: bool,
}

fn validate_destination(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("file name is empty".into());
    }
    let p = Path::new(path);
    if let Some(dir) = p.parent().filter(|d| {
        let d = d.as_os_str();
        !d.is_empty() && d != "." && d != ".."
    }) {
        match std::fs::metadata(dir) {
            Err(e) => {
                return Err(format!(
                    "invalid output path: stat {}: {}",
                    dir.display(),
                    go_io_error(&e)
                ))
            }
            Ok(m) if !m.is_dir() => {
                return Err(format!(
                    "invalid output path: stat {}: not a directory",
                    dir.display()
                ))
            }
            Ok(_) => {}
        }
    }
    use std::os::unix::fs::FileTypeExt;
    match std::fs::symlink_metadata(p) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!(
            "failed to stat output path: lstat {path}: {}",
            go_io_error(&e)
        )),
        Ok(m) => {
            let t = m.file_type();
            let why = if t.is_file() {
                return Ok(());
            } else if t.is_dir() {
                "a directory"
            } else if t.is_symlink() {
                "a symbolic link directly"
            } else if t.is_fifo() {
                "a named pipe (FIFO)"
            } else if t.is_socket() {
                "a socket"
            } else if t.is_char_device() {
                "a character device file"
            } else {
                "a block device file"
            };
            Err(format!("cannot write to {why}"))
        }
    }
}

impl AtomicFile {
    fn create(path: &str) -> Result<AtomicFile, String> {
        use std::os::unix::fs::OpenOptionsExt;
        validate_destination(path)?;
        let dest = std::path::absolute(path).map_err(|e| e.to_string())?;
        let dir = dest.parent().unwrap_or(Path::new("/")).to_path_buf();
        let base = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for n in 0..100u32 {
            let tmp = dir.join(format!(".tmp-{base}{}{n}", std::process::id()));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)
            {
                Ok(f) => {
                    return Ok(AtomicFile {
                        tmp,
                        dest,
                        file: tokio::fs::File::from_std(f),
                        written: false,
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(format!("open {}: {}", tmp.display(), go_io_error(&e))),
            }
        }
        Err(format!(
            "could not create a temporary file in {}",
            dir.display()
        ))
    }

    /// Keep the file (when anything was written) or drop the temporary.
    async fn finish(self, ok: bool) -> Result<(), String> {
        let res = async {
            self.file.sync_all().await?;
            if ok && self.written {
                tokio::fs::set_permissions(
                    &self.tmp,
                    std::os::unix::fs::PermissionsExt::from_mode(0o600),
                )
                .await?;
                tokio::fs::rename(&self.tmp, &self.dest).await?;
            }
            Ok::<(), std::io::Error>(())
        }
        .await;
        let _ = tokio::fs::remove_file(&self.tmp).await;
        res.map_err(|e| go_io_error(&e))
    }
}

/// Where a tar stream goes: a file (`-o`) or stdout.
enum Sink {
    Stdout(tokio::io::Stdout),
    File(AtomicFile),
}

impl Sink {
    /// `-o FILE`, or stdout unless it is a terminal.
    fn open(output: Option<&str>, what: &str) -> Result<Sink, Failure> {
        match output.filter(|o| !o.is_empty()) {
            None => {
                if std::io::stdout().is_terminal() {
                    return Err(fail(
                        "cowardly refusing to save to a terminal. Use the -o flag or redirect",
                    ));
                }
                Ok(Sink::Stdout(tokio::io::stdout()))
            }
            Some(path) => AtomicFile::create(path)
                .map(Sink::File)
                .map_err(|e| fail(format!("failed to {what}: {e}"))),
        }
    }

    /// Copy the response body into the sink and complete it.
    async fn copy_from(self, mut resp: api_client::Response) -> Result<(), Failure> {
        match self {
            Sink::Stdout(mut out) => {
                let res = tokio::io::copy(&mut resp, &mut out).await;
                let _ = out.flush().await;
                res.map(|_| ())
                    .map_err(|e| fail(format!("write /dev/stdout: {}", go_io_error(&e))))
            }
            Sink::File(mut f) => {
                let mut res = Ok(());
                loop {
                    match resp.chunk().await {
                        Ok(Some(data)) => {
                            if let Err(e) = f.file.write_all(&data).await {
                                res = Err(go_io_error(&e));
                                break;
                            }
                            f.written |= !data.is_empty();
                        }
                        Ok(None) => break,
                        Err(e) => {
                            res = Err(e.to_string());
                            break;
                        }
                    }
                }
                let ok = res.is_ok();
                let finished = f.finish(ok).await;
                res.and(finished).map_err(fail)
            }
        }
    }

    async fn discard(self) {
        if let Sink::File(f) = self {
            let _ = f.finish(false).await;
        }
    }

    /// Writes a streamed response into the sink, or discards the sink (no
    /// partial file) when the request failed.
    async fn fill(self, resp: api_client::Result<api_client::Response>) -> CmdResult {
        match resp {
            Ok(resp) => self.copy_from(resp).await.map(|_| 0),
            Err(e) => {
                self.discard().await;
                Err(e.into())
            }
        }
    }
}

pub async fn save(client: &Client, a: SaveArgs) -> CmdResult {
    let platforms = platform_query(client, &a.platform).await?;
    let sink = Sink::open(a.output.as_deref(), "save image")?;
    let mut q: Vec<(&str, &str)> = a.images.iter().map(|n| ("names", n.as_str())).collect();
    q.extend(platforms.iter().map(|p| ("platform", p.as_str())));
    let resp = client
        .stream(Method::GET, "/images/get", &q, Body::empty())
        .await;
    sink.fill(resp).await
}

pub async fn export(client: &Client, a: ExportArgs) -> CmdResult {
    let sink = Sink::open(a.output.as_deref(), "export container")?;
    let resp = client
        .stream(
            Method::GET,
            &format!("/containers/{}/export", a.container),
            &[],
            Body::empty(),
        )
        .await;
    sink.fill(resp).await
}

pub async fn load(client: &Client, a: LoadArgs) -> CmdResult {
    let body = match a.input.as_deref().filter(|i| !i.is_empty()) {
        None => {
            if std::io::stdin().is_terminal() {
                return Err(fail("requested load from stdin, but stdin is empty"));
            }
            Body::reader(tokio::io::stdin(), "application/x-tar")
        }
        Some(path) => {
            let f = tokio::fs::File::open(path)
                .await
                .map_err(|e| fail(format!("open {path}: {}", go_io_error(&e))))?;
            Body::reader(f, "application/x-tar")
        }
    };
    let quiet = a.quiet || !std::io::stdout().is_terminal();
    let platforms = platform_query(client, &a.platform).await?;
    let mut q: Vec<(&str, &str)> = vec![("quiet", if quiet { "1" } else { "0" })];
    q.extend(platforms.iter().map(|p| ("platform", p.as_str())));
    let mut resp = client
        .stream(Method::POST, "/images/load", &q, body)
        .await?;
    let is_json = resp
        .header("content-type")
        .is_some_and(|ct| ct.split(';').next().map(str::trim) == Some("application/json"));
    if is_json {
        progress::consume(resp, Target::Stdout)
            .await
            .map_err(fail)?;
    } else {
        let mut out = std::io::stdout().lock();
        while let Some(chunk) = resp.chunk().await? {
            out.write_all(&chunk)?;
        }
        out.flush()?;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn platforms() {
        assert_eq!(
            parse_platform("linux/arm64/v8").unwrap(),
            json!({"architecture": "arm64", "os": "linux"})
        );
        assert_eq!(
            parse_platform("linux/arm").unwrap(),
            json!({"architecture": "arm", "os": "linux", "variant": "v7"})
        );
        assert_eq!(
            parse_platform("Linux/x86_64").unwrap().to_string(),
            r#"{"architecture":"amd64","os":"linux"}"#
        );
        assert_eq!(parse_platform("linux").unwrap()["os"], "linux");
        assert_eq!(
            parse_platform("a/b/c/d").unwrap_err(),
            "\"a/b/c/d\": cannot parse platform specifier: invalid argument"
        );
        assert!(parse_platform("linux//x").is_err());
        assert!(parse_platform("nonsense").is_err());
    }

    #[test]
    fn output_paths() {
        assert_eq!(
            validate_destination("/nonexistent-berth/x.tar").unwrap_err(),
            "invalid output path: stat /nonexistent-berth: no such file or directory"
        );
        assert_eq!(
            validate_destination("/tmp").unwrap_err(),
            "cannot write to a directory"
        );
        assert!(validate_destination("/tmp/berth-tcli-new-file.tar").is_ok());
    }
}
