//! `docker save` / `docker load` archives: Docker's `manifest.json` format
//! with an OCI image layout beside it (`oci-layout`, `index.json`,
//! `blobs/sha256/...`), which both dockerd and berthd read.

use crate::images::{ImageRecord, ImageService, LayerBlob, MEDIA_LAYER_TAR};
use api_types::ImageConfigBlob;
use base::{Digest, Error, ErrorKind, Reference, Result};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::Path;

const MEDIA_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const MEDIA_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const MEDIA_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

fn tar_err(e: std::io::Error) -> Error {
    Error::internal(format!("write archive: {e}"))
}

fn append_bytes<W: Write>(b: &mut tar::Builder<W>, path: &str, data: &[u8]) -> Result<()> {
    let mut h = tar::Header::new_ustar();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, path, data).map_err(tar_err)
}

/// Writes the images named by `names` (references or ids) as one archive. Blocking.
pub fn save(images: &ImageService, names: &[String], out: impl Write) -> Result<()> {
    let mut b = tar::Builder::new(out);
    let mut written = std::collections::HashSet::new();
    let mut manifest_json = Vec::new();
    let mut index = Vec::new();
    let blob = |b: &mut tar::Builder<_>,
                written: &mut std::collections::HashSet<String>,
                digest: &str|
     -> Result<()> {
        if !written.insert(digest.to_string()) {
            return Ok(());
        }
        let d = Digest::parse(digest)?;
        let path = images.content().path(&d);
        let mut f =
            std::fs::File::open(&path).map_err(|e| Error::io(format!("open blob {digest}"), e))?;
        b.append_file(format!("blobs/sha256/{}", d.hex()), &mut f)
            .map_err(tar_err)
    };
    for name in names {
        let img = images.resolve(name)?;
        if img.record.layers.len() != img.config.rootfs.diff_ids.len() {
            return Err(Error::not_implemented(format!(
                "image {name} has layers without stored blobs; it cannot be saved"
            )));
        }
        let repo_tags: Vec<String> = match Reference::parse_tagged(name) {
            Ok(r)
                if !name.starts_with("sha256:")
                    && images.repo_tags(&img.record.id)?.contains(&r.familiar()) =>
            {
                vec![r.familiar()]
            }
            _ if name.starts_with("sha256:") || base::id::is_hex_prefix(name) => vec![],
            _ => images.repo_tags(&img.record.id)?,
        };
        blob(&mut b, &mut written, &img.record.id)?;
        for l in &img.record.layers {
            blob(&mut b, &mut written, &l.digest)?;
        }
        let config_size = std::fs::metadata(images.content().path(&Digest::parse(&img.record.id)?))
            .map(|m| m.len())
            .unwrap_or(0);
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": MEDIA_MANIFEST,
            "config": {"mediaType": MEDIA_CONFIG, "digest": img.record.id, "size": config_size},
            "layers": img.record.layers.iter().map(|l| json!({"mediaType": l.media_type, "digest": l.digest, "size": l.size})).collect::<Vec<_>>(),
        });
        let mbytes = serde_json::to_vec(&manifest).map_err(|e| Error::internal(e.to_string()))?;
        let mdigest = Digest::of(&mbytes);
        if written.insert(mdigest.to_string()) {
            append_bytes(&mut b, &format!("blobs/sha256/{}", mdigest.hex()), &mbytes)?;
        }
        let mut desc = json!({"mediaType": MEDIA_MANIFEST, "digest": mdigest.to_string(), "size": mbytes.len()});
        if let Some(t) = repo_tags.first() {
            let r = Reference::parse_tagged(t)?;
            desc["annotations"] = json!({
                "io.containerd.image.name": r.to_string(),
                "org.opencontainers.image.ref.name": r.tag.clone().unwrap_or_default(),
            });
        }
        index.push(desc);
        manifest_json.push(json!({
            "Config": format!("blobs/sha256/{}", &img.record.id[7..]),
            "RepoTags": repo_tags,
            "Layers": img.record.layers.iter().map(|l| format!("blobs/sha256/{}", &l.digest[7..])).collect::<Vec<_>>(),
        }));
    }
    let idx = json!({"schemaVersion": 2, "mediaType": MEDIA_INDEX, "manifests": index});
    append_bytes(
        &mut b,
        "index.json",
        &serde_json::to_vec(&idx).unwrap_or_default(),
    )?;
    append_bytes(
        &mut b,
        "manifest.json",
        &serde_json::to_vec(&manifest_json).unwrap_or_default(),
    )?;
    append_bytes(&mut b, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    b.into_inner().map_err(tar_err)?.flush().map_err(tar_err)
}

/// One image found in an archive.
struct Entry {
    config: String,
    layers: Vec<String>,
    tags: Vec<String>,
}

fn read_json(dir: &Path, rel: &str) -> Result<Value> {
    let p = crate::user::resolve_in_root(dir, Path::new(rel));
    let bytes =
        std::fs::read(&p).map_err(|e| Error::invalid(format!("invalid archive: {rel}: {e}")))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| Error::invalid(format!("invalid archive: {rel}: {e}")))
}

fn blob_path(digest: &str) -> Result<String> {
    Ok(format!("blobs/sha256/{}", Digest::parse(digest)?.hex()))
}

/// Finds the images of an extracted archive (Docker's manifest.json, else OCI index.json).
fn entries(dir: &Path) -> Result<Vec<Entry>> {
    if dir.join("manifest.json").exists() {
        let m = read_json(dir, "manifest.json")?;
        let list = m
            .as_array()
            .ok_or_else(|| Error::invalid("invalid archive: manifest.json is not a list"))?;
        return list
            .iter()
            .map(|e| {
                Ok(Entry {
                    config: e["Config"]
                        .as_str()
                        .ok_or_else(|| Error::invalid("invalid archive: entry without Config"))?
                        .to_string(),
                    layers: e["Layers"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|l| l.as_str().map(String::from))
                        .collect(),
                    tags: e["RepoTags"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|l| l.as_str().map(String::from))
                        .collect(),
                })
            })
            .collect();
    }
    if !dir.join("index.json").exists() {
        return Err(Error::invalid(
            "invalid archive: no manifest.json or index.json found",
        ));
    }
    let idx = read_json(dir, "index.json")?;
    let mut out = Vec::new();
    for desc in idx["manifests"].as_array().into_iter().flatten() {
        let m = read_json(
            dir,
            &blob_path(desc["digest"].as_str().unwrap_or_default())?,
        )?;
        let tag = desc["annotations"]["io.containerd.image.name"]
            .as_str()
            .map(String::from);
        out.push(Entry {
            config: blob_path(m["config"]["digest"].as_str().unwrap_or_default())?,
            layers: m["layers"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|l| blob_path(l["digest"].as_str().unwrap_or_default()))
                .collect::<Result<_>>()?,
            tags: tag.into_iter().collect(),
        });
    }
    Ok(out)
}

/// Loads every image of an archive read from `r`; returns Docker's progress
/// lines (`Loaded image: ...`). Blocking. `scratch` is an empty directory
/// the archive is unpacked into (safely) and which the caller removes.
/// With `platforms` (the API's `platform`), only the archive's images of
/// one of them are loaded, and an archive with none is an error.
pub fn load(
    images: &ImageService,
    r: impl Read,
    scratch: &Path,
    platforms: &[distribution::Platform],
) -> Result<Vec<String>> {
    archive::apply_layer(r, scratch).map_err(|e| match e.kind {
        ErrorKind::InvalidArgument => Error::invalid(format!("invalid archive: {}", e.message)),
        // The host's trouble (a full disk), not the archive's.
        _ => e.context("loading archive"),
    })?;
    let mut lines = Vec::new();
    let mut wanted = Vec::new();
    for e in entries(scratch)? {
        let cfg_path = crate::user::resolve_in_root(scratch, Path::new(&e.config));
        let config_bytes = std::fs::read(&cfg_path)
            .map_err(|err| Error::invalid(format!("invalid archive: {}: {err}", e.config)))?;
        let config: ImageConfigBlob = serde_json::from_slice(&config_bytes)
            .map_err(|err| Error::invalid(format!("invalid archive: image config: {err}")))?;
        if !platforms.is_empty() {
            let have = distribution::Platform::new(
                &config.os,
                &config.architecture,
                config.variant.as_deref(),
            );
            if !platforms.iter().any(|p| p.match_rank(&have).is_some()) {
                continue;
            }
        }
        wanted.push((e, config, config_bytes));
    }
    if wanted.is_empty() && !platforms.is_empty() {
        let names: Vec<String> = platforms
            .iter()
            .map(|p| p.normalize().to_string())
            .collect();
        return Err(Error::not_found(format!(
            "the archive holds no image for the specified platform ({})",
            names.join(", ")
        )));
    }
    for (e, config, config_bytes) in wanted {
        if config.rootfs.diff_ids.len() != e.layers.len() {
            return Err(Error::invalid(
                "invalid archive: layer count does not match the image config",
            ));
        }
        let mut parent: Option<Digest> = None;
        let mut blobs = Vec::new();
        let mut size = 0i64;
        for (layer_path, want) in e.layers.iter().zip(&config.rootfs.diff_ids) {
            let want = Digest::parse(want)?;
            let chain = match &parent {
                Some(p) => Digest::of(format!("{p} {want}").as_bytes()),
                None => want.clone(),
            };
            let stored = images.content().exists(&want);
            if images.has_layer(&chain) && stored {
                let len = std::fs::metadata(images.content().path(&want))
                    .map(|m| m.len() as i64)
                    .unwrap_or(0);
                blobs.push(LayerBlob {
                    digest: want.to_string(),
                    media_type: MEDIA_LAYER_TAR.into(),
                    size: len,
                });
                parent = Some(chain);
                continue;
            }
            let p = crate::user::resolve_in_root(scratch, Path::new(layer_path));
            let f = std::fs::File::open(&p)
                .map_err(|err| Error::invalid(format!("invalid archive: {layer_path}: {err}")))?;
            let (layer, blob) = images.apply_layer(parent.as_ref(), f)?;
            if layer.diff_id != want {
                return Err(Error::invalid(format!(
                    "invalid archive: layer {layer_path} has diff id {}, the image config says {want}",
                    layer.diff_id
                )));
            }
            size += layer.size as i64;
            blobs.push(blob);
            parent = Some(layer.chain_id);
        }
        let tags: Vec<Reference> = e
            .tags
            .iter()
            .map(|t| Reference::parse_tagged(t))
            .collect::<Result<_>>()?;
        let record = ImageRecord {
            id: String::new(),
            created: config
                .created
                .clone()
                .unwrap_or_else(|| "1970-01-01T00:00:00Z".into()),
            size,
            top_layer: parent.map(|p| p.to_string()),
            repo_digests: vec![],
            layers: blobs,
            manifest: None,
            parent: None,
        };
        let id = images.register(&config_bytes, record, &tags.iter().collect::<Vec<_>>())?;
        if tags.is_empty() {
            lines.push(format!("Loaded image ID: {id}"));
        }
        for t in &tags {
            lines.push(format!("Loaded image: {}", t.familiar()));
        }
    }
    Ok(lines)
}
