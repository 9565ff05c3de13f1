//! Pull and push: moving images between the stores and registries, with
//! Docker's JSON progress stream.
//!
//! Pull resolves first (errors then are plain API errors, as dockerd's are
//! before it writes anything), then downloads the missing layers in
//! parallel, each streamed straight into both the content store (the blob
//! as the registry has it) and a staged snapshot (decompressed and
//! extracted on the fly, digests verified as the bytes pass), and finally
//! commits the staged layers in chain order.

use crate::images::{ImageRecord, ImageService, LayerBlob};
use api_types::ImageConfigBlob;
use base::{Digest, Error, Reference, Result};
use bytes::Bytes;
use distribution::{
    manifest_reference, media_type, AuthConfig, Descriptor, Platform, Progress, Status,
};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::io::Read;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Where progress lines go (one JSON object per line, Docker's format).
pub type ProgressTx = mpsc::Sender<Bytes>;

/// Layers downloaded at the same time.
const PARALLEL: usize = 4;

fn line(v: Value) -> Bytes {
    let mut s = v.to_string();
    s.push_str("\r\n");
    Bytes::from(s)
}

/// Go's units.HumanSize with decimal units, as Docker's progress shows.
fn human(n: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1000.0 && i < units.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    format!("{:.4}", v)
        .trim_end_matches('0')
        .trim_end_matches('.')
        .chars()
        .take(5)
        .collect::<String>()
        .trim_end_matches('.')
        .to_string()
        + units[i]
}

fn bar(current: u64, total: u64) -> String {
    if total == 0 {
        return String::new();
    }
    let width = 50u64;
    let filled = (current.min(total) * width / total).min(width);
    let arrow = if filled < width { ">" } else { "" };
    let pad = width.saturating_sub(filled + arrow.len() as u64);
    format!(
        "[{}{}{}] {:>8}/{}",
        "=".repeat(filled as usize),
        arrow,
        " ".repeat(pad as usize),
        human(current),
        human(total)
    )
}

/// A progress event as Docker's JSON message.
fn event_json(e: &distribution::Event) -> Value {
    let with_bytes = matches!(
        e.status,
        Status::Downloading | Status::Pushing | Status::Extracting
    );
    let mut v = json!({"status": e.status.to_string(), "progressDetail": {}, "id": e.id()});
    if with_bytes {
        v["progressDetail"] = json!({"current": e.current, "total": e.total});
        v["progress"] = json!(bar(e.current, e.total));
    }
    v
}

/// Forwards registry progress events to the client, at most every 100 ms
/// per layer for byte counts.
fn progress_to(out: ProgressTx) -> Progress {
    let last = Arc::new(std::sync::Mutex::new(std::collections::HashMap::<
        String,
        std::time::Instant,
    >::new()));
    Progress::new(move |e| {
        if matches!(e.status, Status::Downloading | Status::Pushing) && e.current < e.total {
            let mut m = last.lock().unwrap();
            let now = std::time::Instant::now();
            let id = e.id().to_string();
            if m.get(&id)
                .is_some_and(|t| now.duration_since(*t).as_millis() < 100)
            {
                return;
            }
            m.insert(id, now);
        }
        let _ = out.try_send(line(event_json(&e)));
    })
}

/// Sends an error in the progress stream.
pub fn error_line(e: &Error) -> Bytes {
    line(json!({"errorDetail": {"message": e.message}, "error": e.message}))
}

/// What a resolved pull will do.
pub struct PullPlan {
    reference: Reference,
    repo: distribution::Repository,
    resolved: distribution::Resolved,
}

/// A blocking `Read` over chunks arriving from an async task, copying every
/// chunk into the content store's blob writer as it passes.
struct TeeReader {
    rx: mpsc::Receiver<Bytes>,
    cur: Bytes,
    blob: store::content::BlobWriter,
}

impl Read for TeeReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.cur.is_empty() {
            match self.rx.blocking_recv() {
                Some(b) => {
                    std::io::Write::write_all(&mut self.blob, &b)?;
                    self.cur = b;
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur.split_to(n));
        Ok(n)
    }
}

impl ImageService {
    /// Resolves `image[:tag]` (or `@digest`) for `platform`; errors here are
    /// plain API errors (nothing has been streamed yet).
    pub async fn pull_resolve(
        &self,
        image: &str,
        tag: &str,
        platform: Option<&str>,
        auth: &AuthConfig,
    ) -> Result<PullPlan> {
        let name = if tag.is_empty() || image.contains('@') {
            image.to_string()
        } else if tag.starts_with("sha256:") {
            format!("{image}@{tag}")
        } else {
            format!("{image}:{tag}")
        };
        let reference = Reference::parse_tagged(&name)?;
        let platform = match platform.filter(|p| !p.is_empty()) {
            Some(p) => Platform::parse(p).map_err(base::Error::from)?,
            None => Platform::host(),
        };
        let repo = self
            .registry
            .repository(&reference, auth)
            .map_err(base::Error::from)?;
        let resolved = repo
            .resolve(&manifest_reference(&reference), &platform)
            .await
            .map_err(base::Error::from)?;
        Ok(PullPlan {
            reference,
            repo,
            resolved,
        })
    }

    /// Downloads and unpacks what the plan names, streaming progress.
    pub async fn pull_run(self: &Arc<Self>, plan: PullPlan, out: ProgressTx) -> Result<String> {
        let PullPlan {
            reference,
            repo,
            resolved,
        } = plan;
        let shown = reference.tag.clone().unwrap_or_else(|| {
            reference
                .digest
                .as_ref()
                .map(|d| d.to_string())
                .unwrap_or_default()
        });
        let _ = out
            .send(line(
                json!({"status": format!("Pulling from {}", repo.familiar_name()), "id": shown}),
            ))
            .await;
        let config_bytes = repo
            .fetch_blob_bytes(&resolved.image.config)
            .await
            .map_err(base::Error::from)?;
        let config: ImageConfigBlob = serde_json::from_slice(&config_bytes)
            .map_err(|e| Error::invalid(format!("invalid image config: {e}")))?;
        let layers = &resolved.image.layers;
        if config.rootfs.diff_ids.len() != layers.len() {
            return Err(Error::invalid(
                "invalid image: the manifest and the config disagree on the number of layers",
            ));
        }
        let diff_ids: Vec<Digest> = config
            .rootfs
            .diff_ids
            .iter()
            .map(|d| Digest::parse(d))
            .collect::<Result<_>>()?;
        let image_id = Digest::of(&config_bytes).to_string();
        let already = self.tagged(&reference)?.is_some_and(|id| id == image_id)
            && self.resolve(&image_id).is_ok();
        let progress = progress_to(out.clone());
        // Which layers are missing?
        let mut todo = Vec::new();
        let chains = base::digest::chain_ids(&diff_ids);
        for (i, desc) in layers.iter().enumerate() {
            let chain = chains[i].clone();
            if self.has_layer(&chain) && self.content().exists(&desc.digest) {
                progress.emit(&desc.digest, Status::AlreadyExists, 0, desc.size);
            } else {
                progress.emit(&desc.digest, Status::PullingFsLayer, 0, desc.size);
                todo.push(i);
            }
        }
        let sem = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
        let mut tasks = Vec::new();
        for &i in &todo {
            let desc = layers[i].clone();
            if todo.len() > PARALLEL {
                progress.emit(&desc.digest, Status::Waiting, 0, desc.size);
            }
            let (svc, repo, progress, sem) =
                (self.clone(), repo.clone(), progress.clone(), sem.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = sem
                    .acquire_owned()
                    .await
                    .map_err(|_| Error::internal("pull cancelled"))?;
                svc.fetch_layer(&repo, &desc, &progress).await
            }));
        }
        let mut staged = std::collections::HashMap::new();
        let mut first_err = None;
        for (task, &i) in tasks.into_iter().zip(&todo) {
            match task
                .await
                .map_err(|e| Error::internal(e.to_string()))
                .and_then(|r| r)
            {
                Ok(s) => {
                    staged.insert(i, s);
                }
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_err {
            return Err(e);
        }
        // Commit in chain order, checking each layer's diff id.
        let mut parent: Option<Digest> = None;
        let mut blobs = Vec::new();
        let mut size = 0i64;
        for (i, desc) in layers.iter().enumerate() {
            let chain = chains[i].clone();
            if let Some(s) = staged.remove(&i) {
                if s.diff_id != diff_ids[i] {
                    return Err(Error::invalid(format!(
                        "invalid layer {}: its content has diff id {}, the image config says {}",
                        desc.digest, s.diff_id, diff_ids[i]
                    )));
                }
                let snaps = self.snapshots().clone();
                let p = parent.clone();
                let layer = tokio::task::spawn_blocking(move || snaps.commit_staged(s, p.as_ref()))
                    .await
                    .map_err(|e| Error::internal(e.to_string()))??;
                size += layer.size as i64;
                progress.emit(&desc.digest, Status::PullComplete, desc.size, desc.size);
            } else {
                size += self.snapshots().layer_size(&chain) as i64;
            }
            blobs.push(LayerBlob {
                digest: desc.digest.to_string(),
                media_type: desc.media_type.clone(),
                size: desc.size as i64,
            });
            parent = Some(chain);
        }
        self.content().put(&resolved.manifest.bytes)?;
        let record = ImageRecord {
            id: String::new(),
            created: config
                .created
                .clone()
                .unwrap_or_else(|| "1970-01-01T00:00:00Z".into()),
            size,
            top_layer: parent.map(|p| p.to_string()),
            repo_digests: vec![format!(
                "{}@{}",
                reference.familiar_name(),
                resolved.digest()
            )],
            layers: blobs,
            manifest: Some(resolved.manifest.digest.to_string()),
            parent: None,
        };
        let tag_ref = if reference.tag.is_some() {
            vec![&reference]
        } else {
            vec![]
        };
        let id = self.register(&config_bytes, record, &tag_ref)?;
        let _ = out
            .send(line(
                json!({"status": format!("Digest: {}", resolved.digest())}),
            ))
            .await;
        let status = if already {
            format!("Status: Image is up to date for {}", reference.familiar())
        } else {
            format!(
                "Status: Downloaded newer image for {}",
                reference.familiar()
            )
        };
        let _ = out.send(line(json!({"status": status}))).await;
        Ok(id)
    }

    /// Streams one layer blob into the content store and a staged snapshot.
    async fn fetch_layer(
        self: Arc<Self>,
        repo: &distribution::Repository,
        desc: &Descriptor,
        progress: &Progress,
    ) -> Result<store::snapshot::Staged> {
        let mut stream = repo
            .fetch_blob(desc, progress)
            .await
            .map_err(base::Error::from)?;
        let (tx, rx) = mpsc::channel::<Bytes>(64);
        let blob = self.content().writer()?;
        let svc = self.clone();
        let want = desc.digest.clone();
        let extract = tokio::task::spawn_blocking(move || -> Result<store::snapshot::Staged> {
            let mut reader = TeeReader {
                rx,
                cur: Bytes::new(),
                blob,
            };
            let staged = svc.snapshots().stage_layer(&mut |dir| {
                let a = archive::apply_layer(&mut reader, dir)?;
                Ok((a.diff_id, a.size))
            });
            // Keep reading to the end so the stored blob is complete.
            let mut sink = [0u8; 64 * 1024];
            while reader
                .read(&mut sink)
                .map_err(|e| Error::io("read layer", e))?
                > 0
            {}
            let staged = staged?;
            reader.blob.commit(Some(&want))?;
            Ok(staged)
        });
        let mut feed_err = None;
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(b) => {
                    if tx.send(b).await.is_err() {
                        break;
                    }
                }
                Err(e) => {
                    feed_err = Some(base::Error::from(e));
                    break;
                }
            }
        }
        drop(tx);
        let staged = extract.await.map_err(|e| Error::internal(e.to_string()))?;
        if let Some(e) = feed_err {
            return Err(e);
        }
        staged
    }

    /// Pushes `name` (`tag` empty: every tag of the repository), streaming progress.
    pub async fn push(
        self: &Arc<Self>,
        name: &str,
        tag: &str,
        auth: &AuthConfig,
        out: ProgressTx,
    ) -> Result<()> {
        let repo_ref = Reference::parse(name)?;
        let targets: Vec<(Reference, String)> = if tag.is_empty() && repo_ref.tag.is_none() {
            self.tags_in_repo(&repo_ref.name())?
        } else {
            let r = Reference::parse_tagged(&if tag.is_empty() {
                name.to_string()
            } else {
                format!("{}:{tag}", repo_ref.name())
            })?;
            let id = self
                .tagged(&r)?
                .ok_or_else(|| Error::not_found(format!("tag does not exist: {}", r.familiar())))?;
            vec![(r, id)]
        };
        if targets.is_empty() {
            return Err(Error::not_found(format!(
                "An image does not exist locally with the tag: {}",
                repo_ref.familiar_name()
            )));
        }
        let _ = out.send(line(json!({"status": format!("The push refers to repository [{}]", repo_ref.familiar_name())}))).await;
        for (r, id) in targets {
            self.push_one(&r, &id, auth, &out).await?;
        }
        Ok(())
    }

    async fn push_one(
        self: &Arc<Self>,
        r: &Reference,
        id: &str,
        auth: &AuthConfig,
        out: &ProgressTx,
    ) -> Result<()> {
        let img = self.resolve(id)?;
        if img.record.layers.len() != img.config.rootfs.diff_ids.len() {
            return Err(Error::not_implemented(
                "this image has layers without stored blobs and cannot be pushed",
            ));
        }
        let repo = self
            .registry
            .repository(r, auth)
            .map_err(base::Error::from)?;
        let progress = progress_to(out.clone());
        // Mount candidates: other repositories of this registry holding the image.
        let mounts: Vec<String> = img
            .record
            .repo_digests
            .iter()
            .filter_map(|d| Reference::parse(d.split('@').next()?).ok())
            .filter(|o| o.domain == r.domain && o.path != r.path)
            .map(|o| o.path)
            .collect();
        let descs: Vec<Descriptor> = img
            .record
            .layers
            .iter()
            .map(|l| -> Result<Descriptor> {
                Ok(Descriptor {
                    media_type: l.media_type.clone(),
                    digest: Digest::parse(&l.digest)?,
                    size: l.size as u64,
                    ..Descriptor::of("", b"")
                })
            })
            .collect::<Result<_>>()?;
        for d in descs.iter().rev() {
            progress.emit(&d.digest, Status::Preparing, 0, d.size);
        }
        let sem = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
        let mut tasks = Vec::new();
        for d in descs.iter().rev().cloned() {
            let (repo, progress, sem, mounts) =
                (repo.clone(), progress.clone(), sem.clone(), mounts.clone());
            let path = self.content().path(&d.digest);
            tasks.push(tokio::spawn(async move {
                let _p = sem
                    .acquire_owned()
                    .await
                    .map_err(|_| Error::internal("push cancelled"))?;
                let f = tokio::fs::File::open(&path)
                    .await
                    .map_err(|e| Error::io(format!("open layer {}", d.digest), e))?;
                repo.push_blob(&d, f, &mounts, &progress)
                    .await
                    .map_err(base::Error::from)
                    .map(|_| ())
            }));
        }
        for t in tasks {
            t.await.map_err(|e| Error::internal(e.to_string()))??;
        }
        let config = Bytes::from(self.content().get(&Digest::parse(&img.record.id)?)?);
        let config_desc = Descriptor::of(media_type::OCI_CONFIG, &config);
        repo.push_blob_bytes(&config_desc, config)
            .await
            .map_err(base::Error::from)?;
        // The manifest the image was pulled with, unchanged, when it still describes it.
        let stored = img
            .record
            .manifest
            .as_ref()
            .and_then(|m| Digest::parse(m).ok())
            .and_then(|d| self.content().get(&d).ok());
        let (mt, bytes) = match stored.and_then(|b| {
            let v: Value = serde_json::from_slice(&b).ok()?;
            (v["config"]["digest"] == img.record.id).then(|| {
                (
                    v["mediaType"]
                        .as_str()
                        .unwrap_or(media_type::OCI_MANIFEST)
                        .to_string(),
                    b,
                )
            })
        }) {
            Some(found) => found,
            None => {
                let m = json!({
                    "schemaVersion": 2,
                    "mediaType": media_type::OCI_MANIFEST,
                    "config": {"mediaType": media_type::OCI_CONFIG, "digest": config_desc.digest.to_string(), "size": config_desc.size},
                    "layers": descs.iter().map(|d| json!({"mediaType": d.media_type, "digest": d.digest.to_string(), "size": d.size})).collect::<Vec<_>>(),
                });
                (
                    media_type::OCI_MANIFEST.to_string(),
                    serde_json::to_vec(&m).unwrap_or_default(),
                )
            }
        };
        let size = bytes.len();
        let tag = r.tag.clone().unwrap_or_else(|| "latest".into());
        let digest = repo
            .put_manifest(&tag, &mt, Bytes::from(bytes))
            .await
            .map_err(base::Error::from)?;
        self.add_repo_digest(&img.record.id, &format!("{}@{digest}", r.familiar_name()))?;
        let _ = out
            .send(line(
                json!({"status": format!("{tag}: digest: {digest} size: {size}")}),
            ))
            .await;
        let _ = out.send(line(json!({"progressDetail": {}, "aux": {"Tag": tag, "Digest": digest.to_string(), "Size": size}}))).await;
        Ok(())
    }

    /// `GET /images/search`: Docker Hub's search, or a registry's named in
    /// the term (`host:port/query`); with dockerd's limit and filters
    /// (`stars`, `is-official`, `is-automated`). An unreachable registry is
    /// a 500 with the request that failed, as with dockerd.
    pub async fn search(
        &self,
        term: &str,
        limit: Option<i64>,
        filters: &crate::containers::Filters,
        auth: &AuthConfig,
    ) -> Result<Vec<distribution::SearchResult>> {
        let limit = limit.unwrap_or(25);
        if !(1..=100).contains(&limit) {
            return Err(base::Error::invalid(format!(
                "Limit {limit} is outside the range of [1, 100]"
            )));
        }
        let mut stars = 0u64;
        let mut official = None;
        let mut automated = None;
        for (k, vals) in filters {
            for v in vals {
                let flag = || match v.as_str() {
                    "true" | "1" => Ok(true),
                    "false" | "0" => Ok(false),
                    _ => Err(base::Error::invalid(format!("invalid filter '{k}={v}'"))),
                };
                match k.as_str() {
                    "stars" => {
                        stars = v.parse().map_err(|_| {
                            base::Error::invalid(format!("invalid filter 'stars={v}'"))
                        })?
                    }
                    "is-official" => official = Some(flag()?),
                    "is-automated" => automated = Some(flag()?),
                    _ => return Err(base::Error::invalid(format!("invalid filter '{k}'"))),
                }
            }
        }
        let found = self
            .registry
            .search(term, limit as usize, auth)
            .await
            .map_err(|e| base::Error::internal(e.to_string()))?;
        Ok(found
            .into_iter()
            .filter(|r| r.star_count >= stars)
            .filter(|r| official.is_none_or(|o| r.is_official == o))
            .filter(|r| automated.is_none_or(|a| r.is_automated == a))
            .collect())
    }

    /// `POST /auth`: checks credentials against the registry.
    pub async fn login(&self, auth: &AuthConfig) -> Result<Value> {
        let server = if auth.serveraddress.is_empty() {
            distribution::DOCKER_HUB.to_string()
        } else {
            auth.serveraddress.clone()
        };
        let outcome = self
            .registry
            .check_login(&server, auth)
            .await
            .map_err(base::Error::from)?;
        Ok(
            json!({"Status": "Login Succeeded", "IdentityToken": outcome.identity_token.unwrap_or_default()}),
        )
    }

    /// `GET /distribution/{name}/json`.
    pub async fn distribution_inspect(&self, name: &str, auth: &AuthConfig) -> Result<Value> {
        let reference = Reference::parse_tagged(name)?;
        let repo = self
            .registry
            .repository(&reference, auth)
            .map_err(base::Error::from)?;
        let m = repo
            .get_manifest(&manifest_reference(&reference))
            .await
            .map_err(base::Error::from)?;
        let platforms: Vec<Value> = match m.index() {
            Some(idx) => idx
                .platform_entries()
                .map(|(_, p)| serde_json::to_value(p).unwrap_or_default())
                .collect(),
            None => vec![],
        };
        Ok(json!({
            "Descriptor": {"mediaType": m.media_type, "digest": m.digest.to_string(), "size": m.bytes.len()},
            "Platforms": platforms,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_bars() {
        assert_eq!(human(0), "0B");
        assert_eq!(human(1_234_567), "1.234MB");
        assert_eq!(human(2_000), "2kB");
        let b = bar(25, 100);
        assert!(b.starts_with("[============>"), "{b}");
        assert!(b.ends_with("25B/100B"), "{b}");
    }
}
