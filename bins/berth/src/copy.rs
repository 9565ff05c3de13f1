//! `berth cp`: copies between a container and the local filesystem over
//! `HEAD|GET|PUT /containers/{id}/archive`, with the docker CLI's rules:
//!
//! | source | destination | result |
//! |---|---|---|
//! | file | missing path | a file of that name (its parent must exist) |
//! | file | existing file | overwritten |
//! | file | existing directory | copied into it |
//! | directory | missing path | created with the source's contents |
//! | directory | existing directory | copied into it, or its contents if the source ends in `/.` |
//! | directory | existing file | error |
//!
//! `-` as the source reads a tar from stdin; as the destination, writes one
//! to stdout. Extraction on this side refuses entries that leave the
//! destination (`..`, absolute names, symlinked parents).

use crate::cli::CpArgs;
use crate::{CmdResult, Failure};
use api_client::{Body, Client, HttpMethod as Method};
use base64::Engine as _;
use serde::Deserialize;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

fn fail(msg: impl Into<String>) -> Failure {
    Failure::new(1, msg)
}

/// `X-Docker-Container-Path-Stat`.
#[derive(Debug, Deserialize)]
struct PathStat {
    name: String,
    mode: u32,
    #[serde(rename = "linkTarget", default)]
    link_target: String,
}

impl PathStat {
    fn is_dir(&self) -> bool {
        self.mode & (1 << 31) != 0
    }
}

fn decode_stat(v: Option<&str>) -> Result<PathStat, Failure> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(v.unwrap_or_default())
        .map_err(|e| fail(format!("invalid path stat from the daemon: {e}")))?;
    serde_json::from_slice(&raw)
        .map_err(|e| fail(format!("invalid path stat from the daemon: {e}")))
}

/// `CONTAINER:PATH` → (container, path); a local path → None.
fn split_container(arg: &str) -> Option<(&str, &str)> {
    // Like the docker CLI: a path that starts like one is local.
    if arg.starts_with('/') || arg.starts_with('.') {
        return None;
    }
    let (c, p) = arg.split_once(':')?;
    (!c.is_empty()).then_some((c, p))
}

/// The last element of a path (`.` for one ending in `/.`).
fn base_name(path: &str) -> String {
    let t = path.trim_end_matches('/');
    t.rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("/")
        .to_string()
}

fn parent_of(path: &str) -> String {
    let t = path.trim_end_matches('/');
    match t.rsplit_once('/') {
        Some(("", _)) => "/".into(),
        Some((p, _)) => p.to_string(),
        None => ".".into(),
    }
}

pub async fn cp(client: &Client, a: CpArgs) -> CmdResult {
    match (split_container(&a.src), split_container(&a.dst)) {
        (Some(_), Some(_)) => Err(fail("copying between containers is not supported")),
        (None, None) => Err(fail("must specify at least one container source")),
        (Some((c, p)), None) => from_container(client, c, p, &a.dst, a.follow_link).await,
        (None, Some((c, p))) => to_container(client, &a.src, c, p, &a).await,
    }
}

async fn stat(client: &Client, container: &str, path: &str) -> Result<PathStat, Failure> {
    let resp = client
        .request(
            Method::HEAD,
            &format!("/containers/{container}/archive"),
            &[("path", path)],
            Body::empty(),
        )
        .await
        .map_err(|e| match e.status() {
            Some(404) => fail(format!("No such container:path: {container}:{path}")),
            _ => Failure::from(e),
        })?;
    decode_stat(resp.header("x-docker-container-path-stat"))
}

async fn from_container(
    client: &Client,
    container: &str,
    path: &str,
    dst: &str,
    follow: bool,
) -> CmdResult {
    if path.is_empty() {
        return Err(fail("Path cannot be empty"));
    }
    // -L: copy what a symlink leads to, under the symlink's own name.
    let mut src = path.to_string();
    let mut rename = None;
    if follow {
        let st = stat(client, container, path).await?;
        if st.mode & (1 << 27) != 0 && !st.link_target.is_empty() {
            src = st.link_target.clone();
            rename = Some(st.name);
        }
    }
    let mut resp = client
        .stream(
            Method::GET,
            &format!("/containers/{container}/archive"),
            &[("path", &src)],
            Body::empty(),
        )
        .await
        .map_err(|e| match e.status() {
            Some(404) => fail(format!("Error response from daemon: {}", e.message())),
            _ => Failure::from(e),
        })?;
    let st = decode_stat(resp.header("x-docker-container-path-stat"))?;
    if dst == "-" {
        let mut out = std::io::stdout().lock();
        while let Some(chunk) = resp.chunk().await? {
            out.write_all(&chunk)?;
        }
        out.flush()?;
        return Ok(0);
    }
    // Where the source's top entry lands.
    let dst_path = Path::new(dst);
    let dst_meta = std::fs::metadata(dst_path).ok();
    let contents_only = src.ends_with("/.");
    let shown = rename.unwrap_or_else(|| st.name.clone());
    let root = match &dst_meta {
        Some(m) if m.is_dir() && !(st.is_dir() && contents_only) => dst_path.join(&shown),
        Some(m) if m.is_dir() => dst_path.to_path_buf(),
        Some(_) if st.is_dir() => return Err(fail("cannot copy a directory to a file")),
        Some(_) => dst_path.to_path_buf(),
        None => {
            if dst.ends_with('/') && !st.is_dir() {
                return Err(fail(format!("destination directory {dst} does not exist")));
            }
            let parent = dst_path.parent().filter(|p| !p.as_os_str().is_empty());
            if let Some(p) = parent {
                if !p.is_dir() {
                    return Err(fail(format!(
                        "destination directory {} does not exist",
                        p.display()
                    )));
                }
            }
            dst_path.to_path_buf()
        }
    };
    // The tar arrives over the network; unpack it on a blocking thread.
    let (tx, rx) = std::sync::mpsc::sync_channel::<bytes::Bytes>(16);
    let top = st.name.clone();
    let unpack = tokio::task::spawn_blocking(move || extract(ChannelReader::new(rx), &top, &root));
    while let Some(chunk) = resp.chunk().await? {
        if tx.send(chunk).is_err() {
            break;
        }
    }
    drop(tx);
    unpack
        .await
        .map_err(|e| fail(e.to_string()))?
        .map_err(fail)?;
    Ok(0)
}

/// A blocking reader over chunks sent from the async side.
struct ChannelReader {
    rx: std::sync::mpsc::Receiver<bytes::Bytes>,
    cur: bytes::Bytes,
}

impl ChannelReader {
    fn new(rx: std::sync::mpsc::Receiver<bytes::Bytes>) -> ChannelReader {
        ChannelReader {
            rx,
            cur: bytes::Bytes::new(),
        }
    }
}

impl std::io::Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.cur.is_empty() {
            match self.rx.recv() {
                Ok(b) => self.cur = b,
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur.split_to(n));
        Ok(n)
    }
}

/// Unpacks a tar whose top entry is `top` so that `top` becomes `root`.
fn extract(r: impl std::io::Read, top: &str, root: &Path) -> Result<(), String> {
    let mut ar = tar::Archive::new(r);
    ar.set_preserve_permissions(true);
    ar.set_preserve_mtime(true);
    ar.set_overwrite(true);
    for entry in ar
        .entries()
        .map_err(|e| format!("reading the archive: {e}"))?
    {
        let mut entry = entry.map_err(|e| format!("reading the archive: {e}"))?;
        let name = entry
            .path()
            .map_err(|e| format!("reading the archive: {e}"))?
            .into_owned();
        let mut parts = name
            .components()
            .filter(|c| !matches!(c, Component::CurDir));
        let first = parts.next();
        let ok_top = match first {
            Some(Component::Normal(s)) => s == top,
            None => top == ".",
            _ => false,
        };
        let rest: PathBuf = if top == "." {
            name.components()
                .filter(|c| !matches!(c, Component::CurDir))
                .collect()
        } else {
            parts.collect()
        };
        if !(ok_top || top == ".")
            || rest
                .components()
                .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err(format!(
                "invalid archive entry {:?}",
                name.display().to_string()
            ));
        }
        let dest = if rest.as_os_str().is_empty() {
            root.to_path_buf()
        } else {
            root.join(&rest)
        };
        // No symlink on the way from `root` to the entry.
        let mut cur = root.to_path_buf();
        for c in rest.parent().into_iter().flat_map(|p| p.components()) {
            cur.push(c);
            match std::fs::symlink_metadata(&cur) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(format!(
                        "invalid archive entry {:?}: {} is a symlink",
                        name.display().to_string(),
                        cur.display()
                    ))
                }
                Ok(_) => {}
                Err(_) => std::fs::create_dir_all(&cur)
                    .map_err(|e| format!("create {}: {e}", cur.display()))?,
            }
        }
        if entry.header().entry_type().is_dir() && dest.is_dir() {
            continue;
        }
        entry
            .unpack(&dest)
            .map_err(|e| format!("extracting {}: {e}", dest.display()))?;
    }
    Ok(())
}

async fn to_container(
    client: &Client,
    src: &str,
    container: &str,
    path: &str,
    a: &CpArgs,
) -> CmdResult {
    let follow = a.follow_link;
    if path.is_empty() {
        return Err(fail("Path cannot be empty"));
    }
    if src == "-" {
        // A tar on stdin, extracted into the directory `path`.
        let body = Body::reader(tokio::io::stdin(), "application/x-tar");
        put(client, container, path, body, a.archive).await?;
        return Ok(0);
    }
    let src_path = Path::new(src);
    let meta = if follow {
        std::fs::metadata(src_path)
    } else {
        std::fs::symlink_metadata(src_path)
    }
    .map_err(|e| fail(format!("stat {src}: {}", crate::fmtutil::go_io_error(&e))))?;
    let contents_only = meta.is_dir() && src.ends_with("/.");
    // Where to extract, and the name the source's top entry gets there.
    let (dir, name) = match stat(client, container, path).await {
        Ok(st) if st.is_dir() => (path.to_string(), base_name(src)),
        Ok(_) if meta.is_dir() => return Err(fail("cannot copy a directory to a file")),
        Ok(_) => (parent_of(path), base_name(path)),
        Err(_) if path.ends_with('/') => {
            return Err(fail(format!(
                "destination directory {container}:{path} does not exist"
            )))
        }
        Err(_) => (parent_of(path), base_name(path)),
    };
    let top = if contents_only { None } else { Some(name) };
    let (reader, writer) = std::io::pipe()?;
    let source = src_path.to_path_buf();
    let maker = std::thread::spawn(move || make_tar(writer, &source, top.as_deref(), follow));
    let reader = tokio::fs::File::from_std(std::fs::File::from(std::os::fd::OwnedFd::from(reader)));
    let body = Body::reader(reader, "application/x-tar");
    let sent = put(client, container, &dir, body, a.archive).await;
    let made = maker.join().map_err(|_| fail("archiving failed"))?;
    sent?;
    made.map_err(|e| fail(format!("archiving {src}: {e}")))?;
    Ok(0)
}

async fn put(
    client: &Client,
    container: &str,
    dir: &str,
    body: Body,
    copy_uid_gid: bool,
) -> Result<(), Failure> {
    let mut q = vec![("path", dir), ("noOverwriteDirNonDir", "true")];
    if copy_uid_gid {
        q.push(("copyUIDGID", "true"));
    }
    client
        .request(
            Method::PUT,
            &format!("/containers/{container}/archive"),
            &q,
            body,
        )
        .await?;
    Ok(())
}

/// Writes a tar of `src` whose top entry is `top` (or, with None, the
/// directory's contents at the top).
fn make_tar(w: impl Write, src: &Path, top: Option<&str>, follow: bool) -> std::io::Result<()> {
    let mut b = tar::Builder::new(std::io::BufWriter::with_capacity(256 * 1024, w));
    b.follow_symlinks(follow);
    let meta = if follow {
        std::fs::metadata(src)?
    } else {
        std::fs::symlink_metadata(src)?
    };
    let prefix = top.map(PathBuf::from).unwrap_or_default();
    if meta.is_dir() {
        if let Some(t) = top {
            b.append_dir(t, src)?;
        }
        let mut stack = vec![PathBuf::new()];
        while let Some(rel) = stack.pop() {
            let mut names: Vec<_> = std::fs::read_dir(src.join(&rel))?
                .filter_map(|e| e.ok())
                .map(|e| e.file_name())
                .collect();
            names.sort();
            for n in names {
                let r = rel.join(&n);
                let full = src.join(&r);
                let m = std::fs::symlink_metadata(&full)?;
                b.append_path_with_name(&full, prefix.join(&r))?;
                if m.is_dir() {
                    stack.push(r);
                }
            }
        }
    } else {
        b.append_path_with_name(src, top.unwrap_or("."))?;
    }
    b.into_inner()?.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_paths_and_names() {
        assert_eq!(split_container("box:/etc"), Some(("box", "/etc")));
        assert_eq!(split_container("./a:b"), None);
        assert_eq!(split_container("/abs:x"), None);
        assert_eq!(split_container("plain"), None);
        assert_eq!(base_name("/etc/passwd"), "passwd");
        assert_eq!(base_name("/etc/"), "etc");
        assert_eq!(base_name("dir/."), ".");
        assert_eq!(parent_of("/etc/passwd"), "/etc");
        assert_eq!(parent_of("/file"), "/");
        assert_eq!(parent_of("rel"), ".");
    }

    #[test]
    fn extraction_stays_in_the_destination() {
        let d = tempfile::tempdir().unwrap();
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.as_old_mut().name[..12].copy_from_slice(b"top/../../x\0");
        h.set_cksum();
        b.append(&h, &b"x"[..]).unwrap();
        let tar = b.into_inner().unwrap();
        let err = extract(&tar[..], "top", &d.path().join("out")).unwrap_err();
        assert!(err.contains("invalid archive entry"), "{err}");
        assert!(!d.path().join("x").exists());
    }
}
