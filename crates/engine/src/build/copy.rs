//! COPY and ADD: which context entries a step copies and where they land
//! (dockerd's rules: wildcards, directory contents, `dest/` for several
//! sources, local archives that ADD extracts), the cache key part of them,
//! and the tar that puts them into the step's container.

use super::context::{Context, Kind, Node};
use base::{Error, Result};
use builder::glob;
use std::io::Read;
use std::path::{Path, PathBuf};

/// What a COPY or ADD puts into the image.
#[derive(Debug)]
pub(super) enum Item {
    /// A context entry, at `dst` (absolute).
    Entry { src: PathBuf, dst: String },
    /// A local archive that ADD extracts into the directory `dst`.
    Archive { src: PathBuf, dst: String },
}

/// Resolves COPY/ADD `sources` in `ctx` to the items they copy. `workdir`
/// makes a relative `dest` absolute; `extract` is ADD's archive rule.
pub(super) fn sources(
    ctx: &Context,
    sources: &[String],
    dest: &str,
    workdir: &str,
    extract: bool,
    what: &str,
) -> Result<Vec<Item>> {
    let dest_abs = if dest.starts_with('/') {
        dest.to_string()
    } else {
        let wd = if workdir.is_empty() { "/" } else { workdir };
        format!("{}/{dest}", wd.trim_end_matches('/'))
    };
    let dest_is_dir = dest.ends_with('/') || dest == "." || dest.ends_with("/.");
    let dest_base = clean_abs(&dest_abs);
    // (path in the context, name it is copied under).
    let mut found: Vec<(PathBuf, String)> = Vec::new();
    for s in sources {
        if glob::has_wildcards(s) {
            let pattern = s.trim_start_matches("./").trim_start_matches('/');
            let mut skip: Option<PathBuf> = None;
            let before = found.len();
            for (k, n) in ctx.entries() {
                if skip.as_ref().is_some_and(|d| k.starts_with(d)) {
                    continue;
                }
                let rel = k.to_string_lossy();
                if glob::path_match(pattern, &rel)
                    .map_err(|e| Error::invalid(format!("{what} failed: {e}: {s}")))?
                {
                    if matches!(n.kind, Kind::Dir) {
                        skip = Some(k.clone());
                    }
                    let name = k
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    found.push((k.clone(), name));
                }
            }
            if found.len() == before {
                return Err(Error::invalid(format!(
                    "{what} failed: no source files were specified"
                )));
            }
        } else {
            let key = ctx.resolve(s, true)?;
            if ctx.get(&key).is_none() {
                let shown = key.display().to_string();
                return Err(Error::invalid(format!(
                    "{what} failed: file not found in build context or excluded by .dockerignore: stat {shown}: file does not exist"
                )));
            }
            let name = Path::new(s)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            found.push((key, name));
        }
    }
    if found.len() > 1 && !dest_is_dir {
        return Err(Error::invalid(format!(
            "When using {what} with more than one source file, the destination must be a directory and end with a /"
        )));
    }
    let mut out = Vec::new();
    for (key, name) in found {
        let node = ctx.get(&key).expect("found above");
        match node.kind {
            Kind::Dir => {
                out.push(Item::Entry {
                    src: key.clone(),
                    dst: dest_base.clone(),
                });
                for (k, _) in ctx.below(&key) {
                    let rel = k.strip_prefix(&key).expect("below the directory");
                    out.push(Item::Entry {
                        src: k.clone(),
                        dst: join(&dest_base, &rel.to_string_lossy()),
                    });
                }
            }
            Kind::File { .. } if extract && is_archive(ctx, node)? => {
                out.push(Item::Archive {
                    src: key,
                    dst: dest_base.clone(),
                });
            }
            _ => {
                let dst = if dest_is_dir {
                    join(&dest_base, &name)
                } else {
                    dest_base.clone()
                };
                out.push(Item::Entry { src: key, dst });
            }
        }
    }
    Ok(out)
}

/// `/a/./b/` as `/a/b`.
fn clean_abs(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

fn join(dir: &str, name: &str) -> String {
    format!("{}/{name}", dir.trim_end_matches('/'))
}

/// Whether a file is an archive ADD extracts, by content as dockerd decides
/// (a tar, plain or compressed).
fn is_archive(ctx: &Context, node: &Node) -> Result<bool> {
    let mut head = [0u8; 8];
    let n = read_up_to(&mut ctx.reader(node), &mut head);
    let head = &head[..n];
    if head.starts_with(b"BZh") || head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        return Err(Error::invalid(
            "ADD of a bzip2 or xz archive is not supported by berth's builder yet",
        ));
    }
    let Ok(r) = archive::decompress(ctx.reader(node)) else {
        return Ok(false);
    };
    let mut block = [0u8; 512];
    let mut r = r;
    let n = read_up_to(&mut r, &mut block);
    Ok(n == 512 && super::context::looks_like_tar(&block))
}

fn read_up_to(r: &mut dyn Read, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    n
}

/// The cache key part of copied items: where they go, their modes and
/// contents (the digests taken as the context streamed in).
pub(super) fn digest(ctx: &Context, items: &[Item]) -> String {
    let mut h = blake3::Hasher::new();
    for item in items {
        let (src, dst, tag) = match item {
            Item::Entry { src, dst } => (src, dst, b'e'),
            Item::Archive { src, dst } => (src, dst, b'a'),
        };
        h.update(&[tag]);
        h.update(dst.as_bytes());
        h.update(b"\0");
        if let Some(n) = ctx.get(src) {
            h.update(&n.mode.to_le_bytes());
            match &n.kind {
                Kind::Dir => h.update(b"d"),
                Kind::File { digest, .. } => h.update(b"f").update(digest),
                Kind::Symlink(t) => h.update(b"l").update(t.as_os_str().as_encoded_bytes()),
            };
        }
    }
    h.finalize().to_hex().to_string()
}

/// The items as a tar rooted at `/`: owned by root (or `--chown`), with
/// `--chmod` when given, as dockerd's COPY. Archives are extracted into
/// their destination keeping their owners unless `--chown` is given.
/// Missing parents of the destinations are made by the unpacking (root,
/// 0755); existing ones are left as they are.
pub(super) fn write_tar(
    ctx: &Context,
    items: &[Item],
    owner: Option<(u32, u32)>,
    mode: Option<u32>,
    out: impl std::io::Write,
) -> Result<()> {
    let io = |e: std::io::Error| Error::io("writing the copied files", e);
    let mut b = tar::Builder::new(std::io::BufWriter::with_capacity(256 * 1024, out));
    let (uid, gid) = owner.unwrap_or((0, 0));
    for item in items {
        match item {
            Item::Entry { src, dst } => {
                let Some(n) = ctx.get(src) else { continue };
                let name = dst.trim_start_matches('/');
                if name.is_empty() {
                    // A directory copied to `/`: its contents go, `/` stays.
                    continue;
                }
                let mut h = tar::Header::new_gnu();
                h.set_mtime(n.mtime);
                h.set_uid(uid as u64);
                h.set_gid(gid as u64);
                h.set_mode(mode.unwrap_or(n.mode));
                match &n.kind {
                    Kind::Dir => {
                        h.set_entry_type(tar::EntryType::Directory);
                        h.set_size(0);
                        b.append_data(&mut h, name, std::io::empty()).map_err(io)?;
                    }
                    Kind::Symlink(t) => {
                        h.set_entry_type(tar::EntryType::Symlink);
                        h.set_size(0);
                        b.append_link(&mut h, name, t).map_err(io)?;
                    }
                    Kind::File { len, .. } => {
                        h.set_entry_type(tar::EntryType::Regular);
                        h.set_size(*len);
                        b.append_data(&mut h, name, ctx.reader(n)).map_err(io)?;
                    }
                }
            }
            Item::Archive { src, dst } => {
                let Some(n) = ctx.get(src) else { continue };
                let r = archive::decompress(ctx.reader(n)).map_err(|e| {
                    Error::invalid(format!("ADD failed: {}: {}", src.display(), e.message))
                })?;
                let mut ar = tar::Archive::new(r);
                let bad = |e: std::io::Error| {
                    Error::invalid(format!(
                        "ADD failed: invalid archive {}: {e}",
                        src.display()
                    ))
                };
                for entry in ar.entries().map_err(bad)? {
                    let mut entry = entry.map_err(bad)?;
                    let path = entry.path().map_err(bad)?.into_owned();
                    let Some(rel) = inside(&path) else {
                        return Err(Error::invalid(format!(
                            "ADD failed: archive {} has an entry that leaves its destination: {}",
                            src.display(),
                            path.display()
                        )));
                    };
                    if rel.is_empty() {
                        continue;
                    }
                    let name = format!(
                        "{}/{rel}",
                        dst.trim_start_matches('/').trim_end_matches('/')
                    );
                    let name = name.trim_start_matches('/').to_string();
                    let mut h = entry.header().clone();
                    if owner.is_some() {
                        h.set_uid(uid as u64);
                        h.set_gid(gid as u64);
                    }
                    let kind = h.entry_type();
                    if kind.is_hard_link() || kind.is_symlink() {
                        let target = entry
                            .link_name()
                            .map_err(bad)?
                            .unwrap_or_default()
                            .into_owned();
                        let target = if kind.is_hard_link() {
                            let Some(t) = inside(&target) else {
                                return Err(Error::invalid(format!(
                                    "ADD failed: archive {} has a hard link that leaves its destination",
                                    src.display()
                                )));
                            };
                            PathBuf::from(format!(
                                "{}/{t}",
                                dst.trim_start_matches('/').trim_end_matches('/')
                            ))
                        } else {
                            target
                        };
                        h.set_size(0);
                        b.append_link(&mut h, &name, &target).map_err(io)?;
                    } else if kind.is_pax_global_extensions()
                        || kind.is_pax_local_extensions()
                        || kind.is_gnu_longname()
                        || kind.is_gnu_longlink()
                    {
                        // The tar crate folds these into the entries they describe.
                        continue;
                    } else {
                        let size = h.size().unwrap_or(0);
                        h.set_size(size);
                        b.append_data(&mut h, &name, &mut entry).map_err(io)?;
                    }
                }
            }
        }
    }
    let w = b.into_inner().map_err(io)?;
    w.into_inner().map_err(|e| io(e.into_error())).map(|_| ())
}

/// An archive entry's path relative to the extraction point, or None if it
/// climbs out with `..`.
fn inside(p: &Path) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            std::path::Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            std::path::Component::ParentDir => {
                parts.pop()?;
            }
            _ => {}
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx_of(files: &[(&str, &[u8])]) -> Context {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *data).unwrap();
        }
        Context::unpack(b.into_inner().unwrap().as_slice(), std::env::temp_dir()).unwrap()
    }

    fn dsts(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                Item::Entry { dst, .. } => dst.clone(),
                Item::Archive { dst, .. } => format!("extract:{dst}"),
            })
            .collect()
    }

    #[test]
    fn sources_land_where_dockerd_puts_them() {
        let ctx = ctx_of(&[
            ("a.txt", b"a"),
            ("b.txt", b"b"),
            ("c.md", b"c"),
            ("dir/x", b"x"),
            ("dir/sub/y", b"y"),
        ]);
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let got = sources(&ctx, &s(&["a.txt"]), "/dst", "/", false, "COPY").unwrap();
        assert_eq!(dsts(&got), ["/dst"]);
        let got = sources(&ctx, &s(&["a.txt"]), "rel/", "/wd", false, "COPY").unwrap();
        assert_eq!(dsts(&got), ["/wd/rel/a.txt"]);
        let got = sources(&ctx, &s(&["*.txt"]), "/d/", "/", false, "COPY").unwrap();
        assert_eq!(dsts(&got), ["/d/a.txt", "/d/b.txt"]);
        let got = sources(&ctx, &s(&["dir"]), "/app", "/", false, "COPY").unwrap();
        assert_eq!(dsts(&got), ["/app", "/app/sub", "/app/sub/y", "/app/x"]);
        let e = sources(&ctx, &s(&["*.txt"]), "/d", "/", false, "COPY").unwrap_err();
        assert!(e.message.contains("must be a directory and end with a /"));
        let e = sources(&ctx, &s(&["*.none"]), "/d/", "/", false, "COPY").unwrap_err();
        assert!(e.message.contains("no source files were specified"));
        let e = sources(&ctx, &s(&["nope"]), "/d/", "/", false, "COPY").unwrap_err();
        assert!(e.message.contains("file not found in build context"));
        let e = sources(&ctx, &s(&["../x"]), "/d/", "/", false, "COPY").unwrap_err();
        assert!(e
            .message
            .contains("forbidden path outside the build context"));
        // An absolute source is a path in the context.
        let got = sources(&ctx, &s(&["/c.md"]), "/d/", "/", false, "COPY").unwrap();
        assert_eq!(dsts(&got), ["/d/c.md"]);
    }

    #[test]
    fn add_extracts_a_local_tar() {
        let mut inner = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(2);
        h.set_mode(0o600);
        h.set_uid(7);
        h.set_cksum();
        inner.append_data(&mut h, "in/side", &b"hi"[..]).unwrap();
        let inner = inner.into_inner().unwrap();
        let ctx = ctx_of(&[("t.tar", &inner), ("plain.tar", b"not a tar at all")]);
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let got = sources(&ctx, &s(&["t.tar", "plain.tar"]), "/x/", "/", true, "ADD").unwrap();
        assert_eq!(dsts(&got), ["extract:/x", "/x/plain.tar"]);
        let mut out = Vec::new();
        write_tar(&ctx, &got, None, None, &mut out).unwrap();
        let mut ar = tar::Archive::new(out.as_slice());
        let names: Vec<(String, u64)> = ar
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().display().to_string(),
                    e.header().uid().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [("x/in/side".to_string(), 7), ("x/plain.tar".to_string(), 0)]
        );
    }
}
