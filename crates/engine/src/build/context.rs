//! The build context: the tar the client sends (plain or compressed, or a
//! Dockerfile alone), read in one pass into an index of its entries and a
//! spool of their contents, each regular file hashed as it streams by.
//! Nothing is written out as files: COPY/ADD cache keys use the digests,
//! and a step that misses the cache streams the files it needs from the
//! spool straight into the step's container. A fully cached build touches
//! no disk for its context.
//!
//! The context is not a layer: no whiteouts, no devices, no ownership. No
//! entry may climb out with `..` or be written through a symlink. Symlinks
//! are followed inside the context only, as dockerd's scoped resolution
//! does: a link to `/etc` or `../..` stays within the context's root.

use base::{Error, Result};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};

/// The name a Dockerfile sent alone (not in a tar) gets in the context.
pub const STDIN_DOCKERFILE: &str = "Dockerfile";

/// A content digest of a file.
pub type FileDigest = [u8; 32];

/// Contents beyond this stay in a temporary file instead of memory.
const MEMORY_LIMIT: u64 = 512 << 20;
const CHUNK: usize = 4 << 20;

#[derive(Debug, Clone)]
pub enum Kind {
    Dir,
    File {
        off: u64,
        len: u64,
        digest: FileDigest,
    },
    Symlink(PathBuf),
}

#[derive(Debug, Clone)]
pub struct Node {
    pub kind: Kind,
    pub mode: u32,
    pub mtime: u64,
    pub uid: u64,
    pub gid: u64,
}

/// Where file contents live: memory chunks, then a temporary file.
struct Spool {
    /// Full chunks but the last, which holds `mem % CHUNK` bytes.
    chunks: Vec<memmap2::MmapMut>,
    mem: u64,
    file: Option<std::fs::File>,
    len: u64,
    tmp: PathBuf,
}

/// A memory chunk: an anonymous mapping, on huge pages where the kernel
/// gives them (tens of page faults for a 50 MB context instead of twelve
/// thousand). Chunks are kept for the next build for a while (see
/// [`ChunkPool`]): a fresh one costs the kernel's zeroing of every page,
/// which was a quarter of a fully cached build's time.
fn new_chunk() -> std::io::Result<memmap2::MmapMut> {
    if let Some(c) = POOL.take() {
        return Ok(c);
    }
    let m = memmap2::MmapMut::map_anon(CHUNK)?;
    let _ = m.advise(memmap2::Advice::HugePage);
    Ok(m)
}

/// Chunks of finished builds, for the next: at most [`ChunkPool::KEEP`]
/// of them, released once no build has taken one for [`ChunkPool::IDLE`],
/// so an idle daemon holds none.
struct ChunkPool {
    chunks: std::sync::Mutex<(Vec<memmap2::MmapMut>, std::time::Instant)>,
    reaper: std::sync::Once,
}

static POOL: std::sync::LazyLock<ChunkPool> = std::sync::LazyLock::new(|| ChunkPool {
    chunks: std::sync::Mutex::new((Vec::new(), std::time::Instant::now())),
    reaper: std::sync::Once::new(),
});

impl ChunkPool {
    const KEEP: usize = 16;
    const IDLE: std::time::Duration = std::time::Duration::from_secs(30);

    fn take(&self) -> Option<memmap2::MmapMut> {
        let mut g = self.chunks.lock().unwrap();
        g.1 = std::time::Instant::now();
        g.0.pop()
    }

    fn give(&'static self, chunks: Vec<memmap2::MmapMut>) {
        {
            let mut g = self.chunks.lock().unwrap();
            g.1 = std::time::Instant::now();
            let room = Self::KEEP.saturating_sub(g.0.len());
            g.0.extend(chunks.into_iter().take(room));
        }
        self.reaper.call_once(|| {
            std::thread::spawn(move || loop {
                std::thread::sleep(Self::IDLE);
                let mut g = self.chunks.lock().unwrap();
                if g.1.elapsed() >= Self::IDLE {
                    g.0.clear();
                }
            });
        });
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        if !self.chunks.is_empty() {
            POOL.give(std::mem::take(&mut self.chunks));
        }
    }
}

impl Spool {
    /// Appends all of `r`, hashing it into `h`. Reads straight into the
    /// memory chunks (a piece at a time, hashed while it is in the cache);
    /// past the memory limit, through a buffer into the temporary file.
    fn fill(&mut self, r: &mut dyn Read, h: &mut blake3::Hasher) -> std::io::Result<()> {
        const PIECE: usize = 256 * 1024;
        let mut buf = Vec::new();
        loop {
            let used = (self.mem % CHUNK as u64) as usize;
            if self.file.is_none() && (used != 0 || self.mem < MEMORY_LIMIT) {
                if used == 0 {
                    self.chunks.push(new_chunk()?);
                }
                let room = (CHUNK - used).min(PIECE);
                let chunk = self.chunks.last_mut().expect("a chunk");
                let piece = &mut chunk[used..used + room];
                let n = match r.read(piece) {
                    Ok(0) => return Ok(()),
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                h.update(&piece[..n]);
                self.mem += n as u64;
                self.len += n as u64;
                continue;
            }
            if self.file.is_none() {
                std::fs::create_dir_all(&self.tmp)?;
                let p = self
                    .tmp
                    .join(format!("spool-{}", &base::id::random_id()[..16]));
                let f = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create_new(true)
                    .open(&p)?;
                std::fs::remove_file(&p)?;
                self.file = Some(f);
            }
            if buf.is_empty() {
                buf = vec![0u8; PIECE];
            }
            let n = match r.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            h.update(&buf[..n]);
            self.file
                .as_mut()
                .expect("made above")
                .write_all(&buf[..n])?;
            self.len += n as u64;
        }
    }

    /// Copies `len` bytes from `off` to `w`.
    fn copy(&self, mut off: u64, mut len: u64, w: &mut dyn Write) -> std::io::Result<()> {
        while len > 0 && off < self.mem {
            let (i, o) = ((off / CHUNK as u64) as usize, (off % CHUNK as u64) as usize);
            let c = &self.chunks[i];
            let n = ((CHUNK - o) as u64).min(len).min(self.mem - off) as usize;
            w.write_all(&c[o..o + n])?;
            off += n as u64;
            len -= n as u64;
        }
        if len > 0 {
            use std::os::unix::fs::FileExt;
            let f = self
                .file
                .as_ref()
                .ok_or_else(|| std::io::Error::other("spool read past its end"))?;
            let mut buf = vec![0u8; 256 * 1024];
            let mut pos = off - self.mem;
            while len > 0 {
                let want = (buf.len() as u64).min(len) as usize;
                let n = f.read_at(&mut buf[..want], pos)?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                w.write_all(&buf[..n])?;
                pos += n as u64;
                len -= n as u64;
            }
        }
        Ok(())
    }
}

/// A build context (or files fetched from an image for `COPY --from`).
pub struct Context {
    /// Every entry by its path relative to the root (the root is "").
    nodes: BTreeMap<PathBuf, Node>,
    spool: Spool,
}

fn dir_node() -> Node {
    Node {
        kind: Kind::Dir,
        mode: 0o755,
        mtime: 0,
        uid: 0,
        gid: 0,
    }
}

impl Context {
    /// An empty context; `tmp` is where a large one spools its contents.
    pub fn empty(tmp: PathBuf) -> Context {
        let mut nodes = BTreeMap::new();
        nodes.insert(PathBuf::new(), dir_node());
        Context {
            nodes,
            spool: Spool {
                chunks: Vec::new(),
                mem: 0,
                file: None,
                len: 0,
                tmp,
            },
        }
    }

    /// Reads a context body: a tar (plain or compressed) or, as dockerd
    /// takes it, a Dockerfile alone. Blocking.
    pub fn unpack(body: impl Read, tmp: PathBuf) -> Result<Context> {
        let mut ctx = Context::empty(tmp);
        let mut br = BufReader::with_capacity(256 * 1024, body);
        let head = br
            .fill_buf()
            .map_err(|e| Error::io("read the build context", e))?;
        let compressed =
            head.starts_with(&[0x1f, 0x8b]) || head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]);
        if !compressed && !looks_like_tar(head) {
            let node = ctx.spool_file(&mut br, 0o644, 0)?;
            ctx.nodes.insert(PathBuf::from(STDIN_DOCKERFILE), node);
            return Ok(ctx);
        }
        let r = archive::decompress(br).map_err(|e| bad(e.message))?;
        // The docker CLI ends some contexts right after the last file's
        // data, without padding or end blocks (Go's tar reader takes that
        // as the end): zeros stand in for them. A file cut short is still
        // an error: every file's length is checked against its header.
        let data_end = std::rc::Rc::new(std::cell::Cell::new(0));
        let r = ZeroTail {
            inner: r,
            pos: 0,
            tail: 1536,
            data_end: data_end.clone(),
        };
        ctx.add_tar_at(r, Path::new(""), Some(&data_end))?;
        Ok(ctx)
    }

    /// Adds the entries of the tar `r` under `prefix`. Blocking.
    pub fn add_tar(&mut self, r: impl Read, prefix: &Path) -> Result<()> {
        self.add_tar_at(r, prefix, None)
    }

    /// [`Context::add_tar`], telling `data_end` where each file's data ends.
    fn add_tar_at(
        &mut self,
        r: impl Read,
        prefix: &Path,
        data_end: Option<&std::cell::Cell<u64>>,
    ) -> Result<()> {
        let mut ar = tar::Archive::new(r);
        for entry in ar.entries().map_err(|e| bad(e.to_string()))? {
            let mut entry = entry.map_err(|e| bad(e.to_string()))?;
            let raw = entry.path().map_err(|e| bad(e.to_string()))?.into_owned();
            let rel = prefix.join(clean(&raw)?);
            if rel.as_os_str().is_empty() {
                continue;
            }
            self.ensure_parents(&rel)?;
            let h = entry.header();
            let mode = h.mode().unwrap_or(0o644) & 0o7777;
            let mtime = h.mtime().unwrap_or(0);
            let (uid, gid) = (h.uid().unwrap_or(0), h.gid().unwrap_or(0));
            let kind = h.entry_type();
            let node = match kind {
                tar::EntryType::Directory => Node {
                    kind: Kind::Dir,
                    mode,
                    mtime,
                    uid,
                    gid,
                },
                tar::EntryType::Symlink => {
                    let target = entry
                        .link_name()
                        .map_err(|e| bad(e.to_string()))?
                        .ok_or_else(|| bad(format!("symlink {} without a target", rel.display())))?
                        .into_owned();
                    Node {
                        kind: Kind::Symlink(target),
                        mode: 0o777,
                        mtime,
                        uid,
                        gid,
                    }
                }
                tar::EntryType::Link => {
                    let target = entry
                        .link_name()
                        .map_err(|e| bad(e.to_string()))?
                        .ok_or_else(|| {
                            bad(format!("hard link {} without a target", rel.display()))
                        })?;
                    let target = prefix.join(clean(&target)?);
                    match self.nodes.get(&target) {
                        Some(
                            n @ Node {
                                kind: Kind::File { .. },
                                ..
                            },
                        ) => n.clone(),
                        _ => {
                            return Err(bad(format!(
                                "hard link {} to {}, which is not a file before it",
                                rel.display(),
                                target.display()
                            )))
                        }
                    }
                }
                k if k.is_file() => {
                    let size = entry.header().size().unwrap_or(0);
                    if let Some(end) = data_end {
                        end.set(entry.raw_file_position() + size);
                    }
                    let mut n = self.spool_file(&mut entry, mode, mtime)?;
                    if let Kind::File { len, .. } = n.kind {
                        if len != size {
                            return Err(bad(format!(
                                "{}: the archive ends inside the file",
                                rel.display()
                            )));
                        }
                    }
                    (n.uid, n.gid) = (uid, gid);
                    n
                }
                // Devices, fifos and the like have no place in a context.
                _ => continue,
            };
            // A directory entry over an existing directory keeps what is
            // below it; anything else replaces the old entry whole.
            if !matches!(node.kind, Kind::Dir)
                || !matches!(self.nodes.get(&rel).map(|n| &n.kind), Some(Kind::Dir))
            {
                self.remove_tree(&rel);
            }
            self.nodes.insert(rel, node);
        }
        Ok(())
    }

    /// Adds a regular file at `rel` with the content of `r`. Blocking.
    pub fn add_file(&mut self, rel: &Path, r: &mut dyn Read, mode: u32, mtime: u64) -> Result<()> {
        let rel = clean(rel)?;
        self.ensure_parents(&rel)?;
        let node = self.spool_file(r, mode, mtime)?;
        self.remove_tree(&rel);
        self.nodes.insert(rel, node);
        Ok(())
    }

    fn spool_file(&mut self, r: &mut dyn Read, mode: u32, mtime: u64) -> Result<Node> {
        let off = self.spool.len;
        let mut h = blake3::Hasher::new();
        self.spool
            .fill(r, &mut h)
            .map_err(|e| match base::error::host_failure(&e) {
                Some(why) => Error::internal(format!("spooling the build context: {why}")),
                None => bad(e.to_string()),
            })?;
        Ok(Node {
            kind: Kind::File {
                off,
                len: self.spool.len - off,
                digest: *h.finalize().as_bytes(),
            },
            mode,
            mtime,
            uid: 0,
            gid: 0,
        })
    }

    fn remove_tree(&mut self, rel: &Path) {
        let below: Vec<PathBuf> = self
            .nodes
            .range(rel.to_path_buf()..)
            .take_while(|(k, _)| k.starts_with(rel))
            .map(|(k, _)| k.clone())
            .collect();
        for k in below {
            self.nodes.remove(&k);
        }
    }

    /// Makes the parent directories of `rel`, refusing to pass through a
    /// symlink or a file.
    fn ensure_parents(&mut self, rel: &Path) -> Result<()> {
        let mut cur = PathBuf::new();
        let comps: Vec<_> = rel.components().collect();
        for c in &comps[..comps.len().saturating_sub(1)] {
            cur.push(c);
            match self.nodes.get(&cur) {
                Some(Node {
                    kind: Kind::Dir, ..
                }) => {}
                Some(_) => {
                    return Err(bad(format!(
                        "{}: a parent directory is a symlink or a file",
                        rel.display()
                    )))
                }
                None => {
                    self.nodes.insert(cur.clone(), dir_node());
                }
            }
        }
        Ok(())
    }

    /// The entry at `rel` (relative, already resolved).
    pub fn get(&self, rel: &Path) -> Option<&Node> {
        self.nodes.get(rel)
    }

    /// Every entry strictly below the directory `rel`, parents first.
    pub fn below<'a>(&'a self, rel: &'a Path) -> impl Iterator<Item = (&'a PathBuf, &'a Node)> {
        self.nodes
            .range(rel.to_path_buf()..)
            .filter(move |(k, _)| k.as_path() != rel)
            .take_while(move |(k, _)| k.starts_with(rel))
    }

    /// Every entry, parents first.
    pub fn entries(&self) -> impl Iterator<Item = (&PathBuf, &Node)> {
        self.nodes.iter().filter(|(k, _)| !k.as_os_str().is_empty())
    }

    /// Resolves `path` (as written in a COPY, relative to the root) inside
    /// the context, following symlinks within it (the last component's
    /// too when `follow_last`). `..` that would leave the root is an error,
    /// as dockerd's "forbidden path"; symlinks cannot leave it.
    pub fn resolve(&self, path: &str, follow_last: bool) -> Result<PathBuf> {
        let mut depth = 0i32;
        for c in Path::new(path).components() {
            match c {
                Component::ParentDir => depth -= 1,
                Component::Normal(_) => depth += 1,
                _ => {}
            }
            if depth < 0 {
                return Err(Error::invalid(format!(
                    "forbidden path outside the build context: {path} ()"
                )));
            }
        }
        let mut out = PathBuf::new();
        let mut todo: Vec<std::ffi::OsString> = Path::new(path)
            .components()
            .rev()
            .filter_map(|c| match c {
                Component::Normal(s) => Some(s.to_os_string()),
                Component::ParentDir => Some("..".into()),
                _ => None,
            })
            .collect();
        let mut links = 0;
        while let Some(c) = todo.pop() {
            if c == ".." {
                out.pop();
                continue;
            }
            let next = out.join(&c);
            let last = todo.is_empty();
            match self.nodes.get(&next) {
                Some(Node {
                    kind: Kind::Symlink(t),
                    ..
                }) if !last || follow_last => {
                    links += 1;
                    if links > 255 {
                        return Err(Error::invalid(format!(
                            "too many levels of symbolic links: {path}"
                        )));
                    }
                    if t.is_absolute() {
                        out = PathBuf::new();
                    }
                    for tc in t.components().rev() {
                        match tc {
                            Component::Normal(s) => todo.push(s.to_os_string()),
                            Component::ParentDir => todo.push("..".into()),
                            _ => {}
                        }
                    }
                }
                _ => out = next,
            }
        }
        Ok(out)
    }

    /// The content of the file at `rel` into `w`.
    pub fn copy_file(&self, node: &Node, w: &mut dyn Write) -> std::io::Result<()> {
        match node.kind {
            Kind::File { off, len, .. } => self.spool.copy(off, len, w),
            _ => Ok(()),
        }
    }

    /// The content of the file at `rel` (resolved), if it is one.
    pub fn read(&self, rel: &Path) -> Option<Vec<u8>> {
        let n = self.nodes.get(rel)?;
        let Kind::File { len, .. } = n.kind else {
            return None;
        };
        let mut out = Vec::with_capacity(len as usize);
        self.copy_file(n, &mut out).ok()?;
        Some(out)
    }

    /// Removes an entry (the Dockerfile or `.dockerignore` the context's own
    /// `.dockerignore` excludes, once read).
    pub fn remove(&mut self, rel: &Path) {
        self.remove_tree(rel);
    }

    /// A reader of a file's content.
    pub fn reader<'a>(&'a self, node: &'a Node) -> impl Read + 'a {
        let (off, len) = match node.kind {
            Kind::File { off, len, .. } => (off, len),
            _ => (0, 0),
        };
        SpoolReader {
            spool: &self.spool,
            off,
            left: len,
        }
    }
}

/// A reader that, when `inner` ends right after a file's data or on a
/// block boundary, gives `tail` zero bytes more (padding and end blocks).
struct ZeroTail<R> {
    inner: R,
    pos: u64,
    tail: usize,
    data_end: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for ZeroTail<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 || buf.is_empty() {
            self.pos += n as u64;
            return Ok(n);
        }
        let end = self.data_end.get();
        if self.pos != end && (!self.pos.is_multiple_of(512) || self.pos < end) {
            return Ok(0);
        }
        let n = self.tail.min(buf.len());
        buf[..n].fill(0);
        self.tail -= n;
        Ok(n)
    }
}

struct SpoolReader<'a> {
    spool: &'a Spool,
    off: u64,
    left: u64,
}

impl Read for SpoolReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.left) as usize;
        if n == 0 {
            return Ok(0);
        }
        let mut w = std::io::Cursor::new(&mut buf[..n]);
        self.spool.copy(self.off, n as u64, &mut w)?;
        self.off += n as u64;
        self.left -= n as u64;
        Ok(n)
    }
}

fn bad(why: impl std::fmt::Display) -> Error {
    Error::invalid(format!("invalid build context: {why}"))
}

/// An entry path as a relative path with no `..`.
fn clean(p: &Path) -> Result<PathBuf> {
    archive::relative_path(p)
        .ok_or_else(|| bad(format!("{}: the path leaves the context", p.display())))
}

/// Whether `head` starts with a tar header (its checksum is right).
pub(super) fn looks_like_tar(head: &[u8]) -> bool {
    if head.len() < 512 {
        // A short tar is all zeros (an empty archive) or nothing at all.
        return head.is_empty() || head.iter().all(|b| *b == 0);
    }
    let h = &head[..512];
    if h.iter().all(|b| *b == 0) {
        return true;
    }
    let s: String = h[148..156]
        .iter()
        .take_while(|b| **b != 0 && **b != b' ')
        .map(|b| *b as char)
        .collect();
    let Ok(want) = u32::from_str_radix(s.trim(), 8) else {
        return false;
    };
    let sum: u32 = h
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                b' ' as u32
            } else {
                *b as u32
            }
        })
        .sum();
    sum == want
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o640);
            h.set_mtime(1_000_000);
            h.set_cksum();
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn tmp() -> PathBuf {
        std::env::temp_dir()
    }

    #[test]
    fn files_are_indexed_and_hashed() {
        let body = tar_of(&[("Dockerfile", b"FROM x\n"), ("a/b/c.txt", b"hello")]);
        let ctx = Context::unpack(body.as_slice(), tmp()).unwrap();
        let p = ctx.resolve("a/b/c.txt", true).unwrap();
        assert_eq!(ctx.read(&p).unwrap(), b"hello");
        let n = ctx.get(&p).unwrap();
        assert_eq!(n.mode, 0o640);
        assert_eq!(n.mtime, 1_000_000);
        match n.kind {
            Kind::File { digest, .. } => assert_eq!(digest, *blake3::hash(b"hello").as_bytes()),
            _ => panic!("not a file"),
        }
        assert!(matches!(ctx.get(Path::new("a/b")).unwrap().kind, Kind::Dir));
        let below: Vec<_> = ctx.below(Path::new("a")).map(|(k, _)| k.clone()).collect();
        assert_eq!(below, [PathBuf::from("a/b"), PathBuf::from("a/b/c.txt")]);
        let mut s = String::new();
        ctx.reader(n).read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello");
    }

    #[test]
    fn a_large_context_spills_to_a_file() {
        let mut ctx = Context::empty(tmp());
        let big = vec![7u8; (MEMORY_LIMIT as usize) + 1000];
        let n1 = ctx.spool_file(&mut &b"small"[..], 0o644, 0).unwrap();
        let n2 = ctx.spool_file(&mut big.as_slice(), 0o644, 0).unwrap();
        assert!(ctx.spool.file.is_some());
        let mut out = Vec::new();
        ctx.copy_file(&n1, &mut out).unwrap();
        assert_eq!(out, b"small");
        let mut out = Vec::new();
        ctx.copy_file(&n2, &mut out).unwrap();
        assert!(out == big);
    }

    #[test]
    fn chunks_kept_from_an_earlier_context_hold_only_the_new_ones_bytes() {
        // 9 MB files span three chunks; the second context gets the first
        // one's chunks back from the pool, with its bytes still in them.
        let a: Vec<u8> = (0..9_000_000u32).map(|i| (i % 251) as u8).collect();
        let b: Vec<u8> = (0..9_000_100u32).map(|i| (i % 241) as u8).collect();
        let first = Context::unpack(tar_of(&[("f", &a)]).as_slice(), tmp()).unwrap();
        assert_eq!(first.read(Path::new("f")).unwrap(), a);
        drop(first);
        let ctx = Context::unpack(tar_of(&[("f", &b), ("g", b"tail")]).as_slice(), tmp()).unwrap();
        assert!(ctx.read(Path::new("f")).unwrap() == b);
        assert_eq!(ctx.read(Path::new("g")).unwrap(), b"tail");
        match ctx.get(Path::new("f")).unwrap().kind {
            Kind::File { digest, len, .. } => {
                assert_eq!(len, b.len() as u64);
                assert_eq!(digest, *blake3::hash(&b).as_bytes());
            }
            _ => panic!("not a file"),
        }
    }

    #[test]
    fn a_tar_without_end_blocks_is_read_and_a_cut_file_refused() {
        let full = tar_of(&[("Dockerfile", b"FROM x\n"), ("b", b"bbb")]);
        // Up to the end of b's data: no padding, no end blocks.
        let cut = &full[..512 + 512 + 512 + 3];
        let ctx = Context::unpack(cut, tmp()).unwrap();
        assert_eq!(ctx.read(Path::new("b")).unwrap(), b"bbb");
        let e = Context::unpack(&full[..512 + 512 + 512 + 2], tmp())
            .err()
            .unwrap();
        assert!(e.message.contains("ends inside the file"), "{}", e.message);
        // Cut on a block boundary inside a file's data.
        let big = vec![7u8; 1024];
        let full = tar_of(&[("big", &big)]);
        let e = Context::unpack(&full[..512 + 512], tmp()).err().unwrap();
        assert!(e.message.contains("ends inside the file"), "{}", e.message);
    }

    #[test]
    fn a_bare_dockerfile_is_the_context() {
        let ctx = Context::unpack(&b"FROM busybox\nRUN true\n"[..], tmp()).unwrap();
        assert_eq!(
            ctx.read(Path::new("Dockerfile")).unwrap(),
            b"FROM busybox\nRUN true\n"
        );
    }

    #[test]
    fn symlinks_resolve_inside_the_context() {
        let mut b = tar::Builder::new(Vec::new());
        for (name, target) in [("abs", "/etc"), ("up", "../../x"), ("f", "d/file")] {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            b.append_link(&mut h, name, target).unwrap();
        }
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_cksum();
        b.append_data(&mut h, "d/file", &b"x"[..]).unwrap();
        let ctx = Context::unpack(b.into_inner().unwrap().as_slice(), tmp()).unwrap();
        assert_eq!(
            ctx.resolve("abs/passwd", true).unwrap(),
            Path::new("etc/passwd")
        );
        assert_eq!(ctx.resolve("up", true).unwrap(), Path::new("x"));
        assert_eq!(ctx.resolve("f", true).unwrap(), Path::new("d/file"));
        assert_eq!(ctx.resolve("f", false).unwrap(), Path::new("f"));
        assert_eq!(
            ctx.resolve("/d/../d/file", true).unwrap(),
            Path::new("d/file")
        );
        let e = ctx.resolve("../x", true).unwrap_err();
        assert!(e
            .message
            .contains("forbidden path outside the build context"));
    }

    #[test]
    fn escapes_are_refused() {
        // `..` in a name (written raw: the tar crate refuses to make one).
        let mut body = tar_of(&[("xx/evil", b"x")]);
        body[..5].copy_from_slice(b"../ev");
        let mut h = tar::Header::from_byte_slice(&body[..512]).clone();
        h.set_cksum();
        body[..512].copy_from_slice(h.as_bytes());
        let e = Context::unpack(body.as_slice(), tmp()).err().unwrap();
        assert!(e.message.contains("leaves the context"), "{}", e.message);

        // A symlink, then a file written through it.
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, "out", "/tmp").unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_cksum();
        b.append_data(&mut h, "out/pwned", &b"x"[..]).unwrap();
        let body = b.into_inner().unwrap();
        let e = Context::unpack(body.as_slice(), tmp()).err().unwrap();
        assert!(e.message.contains("symlink"), "{}", e.message);
    }
}
