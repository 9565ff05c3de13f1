//! The repository layer: blobs, uploads, manifests, tags, referrers and the
//! catalog, over any [`StorageDriver`], in the layout of [`crate::paths`].

use crate::driver::{DriverError, FileWriter, StorageDriver};
use crate::error::{Error, Result};
use crate::manifest::{self, Kind};
use crate::names::{valid_tag, validate_name, ManifestRef};
use crate::paths;
use base::digest::{Algorithm, Hasher};
use base::Digest;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

pub use crate::driver::ByteStream;

/// Behaviour switches of the repository layer.
#[derive(Debug, Clone)]
pub struct Options {
    /// Whether manifests, tags and blobs may be deleted.
    pub delete_enabled: bool,
    /// Largest accepted manifest, in bytes.
    pub max_manifest_size: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            delete_enabled: true,
            max_manifest_size: 4 << 20,
        }
    }
}

/// A blob's digest and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    pub digest: Digest,
    pub size: u64,
}

/// Where an upload stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadStatus {
    pub id: String,
    /// Bytes received so far.
    pub size: u64,
}

/// A manifest as stored.
#[derive(Debug, Clone)]
pub struct StoredManifest {
    pub digest: Digest,
    pub media_type: String,
    pub content: Bytes,
}

/// What a manifest push did.
#[derive(Debug, Clone)]
pub struct PushedManifest {
    pub digest: Digest,
    pub subject: Option<Digest>,
    /// Tags now pointing at the manifest.
    pub tags: Vec<String>,
}

/// A `Range` request: `From(a, Some(b))` is `a-b`, `From(a, None)` is `a-`,
/// `Last(n)` is `-n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeSpec {
    From(u64, Option<u64>),
    Last(u64),
}

impl RangeSpec {
    /// The inclusive byte range within a blob of `size` bytes.
    pub fn resolve(self, size: u64) -> Result<(u64, u64)> {
        let r = match self {
            RangeSpec::From(a, b) if a < size => Some((a, b.unwrap_or(u64::MAX).min(size - 1))),
            RangeSpec::Last(n) if n > 0 && size > 0 => Some((size.saturating_sub(n), size - 1)),
            _ => None,
        };
        r.filter(|(a, b)| a <= b)
            .ok_or(Error::RangeNotSatisfiable { size })
    }
}

/// A blob being read: its size, the served range and the bytes.
pub struct BlobRead {
    pub size: u64,
    /// Inclusive range when a range was asked for.
    pub range: Option<(u64, u64)>,
    pub body: ByteStream,
}

/// What the hash-and-write task hands back: the hasher, the writer, the
/// bytes it wrote and how writing went.
type BatchDone = (
    Hasher,
    Box<dyn FileWriter>,
    u64,
    std::result::Result<(), DriverError>,
);

/// One upload session.
struct Upload {
    repo: String,
    writer: Option<Box<dyn FileWriter>>,
    hasher: Hasher,
    size: u64,
    last_used: Instant,
    finished: bool,
}

/// The registry's content, in one storage driver.
pub struct Registry {
    driver: Arc<dyn StorageDriver>,
    opts: Options,
    uploads: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Upload>>>>,
}

fn not_found_as(e: DriverError, err: impl FnOnce() -> Error) -> Error {
    if e.is_not_found() {
        err()
    } else {
        Error::Storage(e)
    }
}

fn new_upload_id() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("system random source");
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // variant
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn valid_upload_id(id: &str) -> bool {
    id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

impl Registry {
    /// Opens (or initialises) a registry on `driver`, checking the layout version.
    pub async fn open(driver: Arc<dyn StorageDriver>, opts: Options) -> Result<Registry> {
        match driver.get_content(paths::VERSION_FILE).await {
            Ok(v) if v.as_ref() == paths::LAYOUT_VERSION.as_bytes() => {}
            Ok(v) => {
                return Err(Error::Internal(format!(
                    "storage layout version {:?} is not supported (expected {})",
                    String::from_utf8_lossy(&v),
                    paths::LAYOUT_VERSION
                )))
            }
            Err(e) if e.is_not_found() => {
                driver
                    .put_content(
                        paths::VERSION_FILE,
                        Bytes::from_static(paths::LAYOUT_VERSION.as_bytes()),
                    )
                    .await?
            }
            Err(e) => return Err(e.into()),
        }
        Ok(Registry {
            driver,
            opts,
            uploads: Mutex::new(HashMap::new()),
        })
    }

    /// The storage driver.
    pub fn driver(&self) -> &Arc<dyn StorageDriver> {
        &self.driver
    }

    /// The options this registry runs with.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    async fn exists(&self, path: &str) -> Result<bool> {
        match self.driver.stat(path).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn repo_exists(&self, name: &str) -> Result<bool> {
        self.exists(&paths::repo(name)).await
    }

    async fn link(&self, path: &str, d: &Digest) -> Result<()> {
        self.driver
            .put_content(path, Bytes::from(d.to_string()))
            .await
            .map_err(Into::into)
    }

    // ---- blobs ----

    /// Size of a blob linked in `name` (as a layer or a manifest).
    pub async fn blob_stat(&self, name: &str, d: &Digest) -> Result<BlobInfo> {
        let linked = self.exists(&paths::layer_link(name, d)).await?
            || self.exists(&paths::revision_link(name, d)).await?;
        if !linked {
            return Err(Error::BlobUnknown(d.clone()));
        }
        let st = self
            .driver
            .stat(&paths::blob_data(d))
            .await
            .map_err(|e| not_found_as(e, || Error::BlobUnknown(d.clone())))?;
        Ok(BlobInfo {
            digest: d.clone(),
            size: st.size,
        })
    }

    /// Streams a blob linked in `name`, or a range of it.
    pub async fn blob_read(
        &self,
        name: &str,
        d: &Digest,
        range: Option<RangeSpec>,
    ) -> Result<BlobRead> {
        let info = self.blob_stat(name, d).await?;
        let range = range.map(|r| r.resolve(info.size)).transpose()?;
        let (offset, len) = match range {
            Some((a, b)) => (a, Some(b - a + 1)),
            None => (0, None),
        };
        let body = self
            .driver
            .read(&paths::blob_data(d), offset, len)
            .await
            .map_err(|e| not_found_as(e, || Error::BlobUnknown(d.clone())))?;
        Ok(BlobRead {
            size: info.size,
            range,
            body,
        })
    }

    /// Unlinks a blob from `name` (its data goes at the next garbage collection).
    pub async fn blob_delete(&self, name: &str, d: &Digest) -> Result<()> {
        if !self.opts.delete_enabled {
            return Err(Error::Disabled("deletion"));
        }
        let link = paths::layer_link(name, d);
        if !self.exists(&link).await? {
            return Err(Error::BlobUnknown(d.clone()));
        }
        let dir = link.trim_end_matches("/link");
        self.driver.delete(dir).await?;
        Ok(())
    }

    /// Links a blob of repository `from` into `name`; `None` when `from`
    /// does not have it (the caller then starts a normal upload).
    pub async fn blob_mount(&self, name: &str, from: &str, d: &Digest) -> Result<Option<BlobInfo>> {
        validate_name(from)?;
        let info = match self.blob_stat(from, d).await {
            Ok(i) => i,
            Err(Error::BlobUnknown(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        self.link(&paths::layer_link(name, d), d).await?;
        Ok(Some(info))
    }

    // ---- uploads ----

    /// Starts an upload session hashing with `alg`.
    pub async fn upload_start(&self, name: &str, alg: Algorithm) -> Result<UploadStatus> {
        let id = new_upload_id();
        let writer = self.driver.writer(&paths::upload_data(name, &id)).await?;
        let up = Upload {
            repo: name.to_string(),
            writer: Some(writer),
            hasher: alg.hasher(),
            size: 0,
            last_used: Instant::now(),
            finished: false,
        };
        self.uploads_map()
            .insert(id.clone(), Arc::new(tokio::sync::Mutex::new(up)));
        tracing::debug!(repo = name, upload = %id, "upload started");
        Ok(UploadStatus { id, size: 0 })
    }

    fn uploads_map(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, Arc<tokio::sync::Mutex<Upload>>>> {
        self.uploads.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Finds an upload, resuming one that a previous process left on disk.
    async fn upload(&self, name: &str, id: &str) -> Result<Arc<tokio::sync::Mutex<Upload>>> {
        let unknown = || Error::BlobUploadUnknown(id.to_string());
        if !valid_upload_id(id) {
            return Err(unknown());
        }
        if let Some(u) = self.uploads_map().get(id).cloned() {
            return Ok(u);
        }
        let data = paths::upload_data(name, id);
        self.driver
            .stat(&data)
            .await
            .map_err(|e| not_found_as(e, unknown))?;
        // Resuming after a restart: rebuild the hash from what is on disk.
        let mut hasher = Algorithm::Sha256.hasher();
        let size = self.hash_file(&data, &mut hasher).await?;
        let up = Arc::new(tokio::sync::Mutex::new(Upload {
            repo: name.to_string(),
            writer: None,
            hasher,
            size,
            last_used: Instant::now(),
            finished: false,
        }));
        tracing::info!(
            repo = name,
            upload = id,
            size,
            "upload resumed from storage"
        );
        Ok(self
            .uploads_map()
            .entry(id.to_string())
            .or_insert(up)
            .clone())
    }

    async fn hash_file(&self, path: &str, hasher: &mut Hasher) -> Result<u64> {
        let mut s = self.driver.read(path, 0, None).await?;
        let mut size = 0u64;
        while let Some(chunk) = s.next().await {
            let chunk = chunk.map_err(|e| Error::Storage(DriverError::io("read", path, e)))?;
            hasher.update(&chunk);
            size += chunk.len() as u64;
        }
        Ok(size)
    }

    async fn locked_upload<'a>(
        &self,
        arc: &'a Arc<tokio::sync::Mutex<Upload>>,
        name: &str,
        id: &str,
    ) -> Result<tokio::sync::MutexGuard<'a, Upload>> {
        let up = arc.lock().await;
        if up.finished || up.repo != name {
            return Err(Error::BlobUploadUnknown(id.to_string()));
        }
        Ok(up)
    }

    /// Appends a body to an upload. The bytes received are kept even when the
    /// body breaks off, so the client can ask where it stands and go on.
    ///
    /// Hashing and writing run in their own task, fed through a bounded
    /// queue: the network runs up to `QUEUE` batches ahead of the disk, so
    /// a write that waits (a journal commit, a background fsync) does not
    /// stop the socket from being read.
    async fn append<S, E>(
        &self,
        name: &str,
        id: &str,
        up: &mut Upload,
        start: Option<u64>,
        mut body: S,
    ) -> Result<()>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin + Send,
        E: std::fmt::Display,
    {
        // The chunk must begin where the upload stands (`416` otherwise).
        if let Some(start) = start.filter(|s| *s != up.size) {
            return Err(Error::RangeInvalid {
                id: id.to_string(),
                size: up.size,
                start,
            });
        }
        /// Bytes handed to the hash-and-write task at a time.
        const BATCH: usize = 1 << 20;
        /// Batches that may wait for that task.
        const QUEUE: usize = 8;
        if up.writer.is_none() {
            up.writer = Some(self.driver.writer(&paths::upload_data(name, id)).await?);
        }
        let mut hasher = std::mem::replace(&mut up.hasher, Algorithm::Sha256.hasher());
        let mut writer = up.writer.take().expect("writer present between appends");
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Bytes>>(QUEUE);
        let task = tokio::spawn(async move {
            let mut n = 0u64;
            while let Some(chunks) = rx.recv().await {
                for c in &chunks {
                    hasher.update(c);
                }
                for c in chunks {
                    let len = c.len() as u64;
                    if let Err(e) = writer.write(c).await {
                        return (hasher, writer, n, Err(e));
                    }
                    n += len;
                }
            }
            (hasher, writer, n, Ok(()))
        });
        let mut batch: Vec<Bytes> = Vec::new();
        let mut batch_len = 0usize;
        let mut res = Ok(());
        loop {
            let end = match body.next().await {
                None => true,
                Some(Err(e)) => {
                    res = Err(Error::Body(e.to_string()));
                    true
                }
                Some(Ok(c)) => {
                    batch_len += c.len();
                    batch.push(c);
                    false
                }
            };
            if batch_len >= BATCH || (end && batch_len > 0) {
                batch_len = 0;
                if tx.send(std::mem::take(&mut batch)).await.is_err() {
                    // The task stopped on a storage error; it is reported below.
                    break;
                }
            }
            if end {
                break;
            }
        }
        drop(tx);
        self.reclaim(id, up, task.await).await?;
        let flushed = up
            .writer
            .as_mut()
            .expect("writer present after the last batch")
            .flush()
            .await;
        if let Err(e) = flushed {
            self.abandon_upload(id, up).await;
            return Err(e.into());
        }
        up.last_used = Instant::now();
        res
    }

    /// Takes back hasher and writer from the finished hash-and-write task.
    async fn reclaim(
        &self,
        id: &str,
        up: &mut Upload,
        done: std::result::Result<BatchDone, tokio::task::JoinError>,
    ) -> Result<()> {
        let (hasher, writer, n, r) = match done {
            Ok(d) => d,
            Err(e) => {
                self.abandon_upload(id, up).await;
                return Err(Error::Internal(format!("upload writer task: {e}")));
            }
        };
        up.hasher = hasher;
        up.writer = Some(writer);
        if let Err(e) = r {
            self.abandon_upload(id, up).await;
            return Err(e.into());
        }
        up.size += n;
        Ok(())
    }

    /// Gives up an upload after a storage failure: its state and its files
    /// go (the file and the hash may disagree, and on a full disk the space
    /// is needed back). Committed blobs are untouched; the client starts the
    /// upload again and is told `BLOB_UPLOAD_UNKNOWN` if it asks for this one.
    async fn abandon_upload(&self, id: &str, up: &mut Upload) {
        up.writer = None;
        up.finished = true;
        self.uploads_map().remove(id);
        if let Err(e) = self.driver.delete(&paths::upload_dir(&up.repo, id)).await {
            if !e.is_not_found() {
                tracing::warn!(repo = %up.repo, upload = id, error = %e, "removing a failed upload");
            }
        }
    }

    /// Appends a chunk (`PATCH`); `start` is where the client says it begins.
    pub async fn upload_write<S, E>(
        &self,
        name: &str,
        id: &str,
        start: Option<u64>,
        body: S,
    ) -> Result<UploadStatus>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin + Send,
        E: std::fmt::Display,
    {
        let arc = self.upload(name, id).await?;
        let mut up = self.locked_upload(&arc, name, id).await?;
        self.append(name, id, &mut up, start, body).await?;
        Ok(UploadStatus {
            id: id.to_string(),
            size: up.size,
        })
    }

    /// Where an upload stands (`GET` on its location).
    pub async fn upload_status(&self, name: &str, id: &str) -> Result<UploadStatus> {
        let arc = self.upload(name, id).await?;
        let up = self.locked_upload(&arc, name, id).await?;
        Ok(UploadStatus {
            id: id.to_string(),
            size: up.size,
        })
    }

    /// Finishes an upload (`PUT ?digest=`), with an optional last chunk:
    /// verifies the digest, makes the data durable, moves it into place and
    /// links it into the repository.
    pub async fn upload_finish<S, E>(
        &self,
        name: &str,
        id: &str,
        digest: &Digest,
        start: Option<u64>,
        body: S,
    ) -> Result<BlobInfo>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Unpin + Send,
        E: std::fmt::Display,
    {
        let arc = self.upload(name, id).await?;
        let mut up = self.locked_upload(&arc, name, id).await?;
        self.append(name, id, &mut up, start, body).await?;
        let data = paths::upload_data(name, id);
        up.writer
            .as_mut()
            .expect("append opened the writer")
            .commit()
            .await?;
        let actual = if digest.algorithm() == up.hasher.algorithm() {
            up.hasher.digest()
        } else {
            let mut h = digest.algorithm().hasher();
            self.hash_file(&data, &mut h).await?;
            h.digest()
        };
        let size = up.size;
        up.finished = true;
        up.writer = None;
        drop(up);
        self.uploads_map().remove(id);
        if &actual != digest {
            let _ = self.driver.delete(&paths::upload_dir(name, id)).await;
            return Err(Error::DigestMismatch {
                expected: digest.clone(),
                actual,
            });
        }
        let dst = paths::blob_data(digest);
        if self.exists(&dst).await? {
            // Already stored (same digest, same bytes): keep the first copy.
        } else {
            self.driver.rename(&data, &dst).await?;
        }
        self.link(&paths::layer_link(name, digest), digest).await?;
        match self.driver.delete(&paths::upload_dir(name, id)).await {
            // A driver whose directories exist only while they hold a file
            // (in memory) has nothing left once the data moved.
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => {
                tracing::warn!(repo = name, upload = id, error = %e, "removing finished upload")
            }
        }
        tracing::debug!(repo = name, upload = id, %digest, size, "blob committed");
        Ok(BlobInfo {
            digest: digest.clone(),
            size,
        })
    }

    /// Cancels an upload (`DELETE` on its location).
    pub async fn upload_cancel(&self, name: &str, id: &str) -> Result<()> {
        let arc = self.upload(name, id).await?;
        let mut up = self.locked_upload(&arc, name, id).await?;
        up.finished = true;
        up.writer = None;
        drop(up);
        self.uploads_map().remove(id);
        self.driver
            .delete(&paths::upload_dir(name, id))
            .await
            .map_err(|e| not_found_as(e, || Error::BlobUploadUnknown(id.to_string())))
    }

    /// Removes uploads idle for longer than `max_idle` (in memory and on disk).
    pub async fn purge_uploads(&self, max_idle: Duration) -> Result<usize> {
        let idle: Vec<String> = {
            let map = self.uploads_map();
            map.iter()
                .filter(|(_, u)| u.try_lock().is_ok_and(|u| u.last_used.elapsed() > max_idle))
                .map(|(k, _)| k.clone())
                .collect()
        };
        for id in &idle {
            self.uploads_map().remove(id);
        }
        let now = SystemTime::now();
        let mut purged = 0;
        for repo in self.walk_repos(true).await? {
            let dir = paths::uploads_dir(&repo);
            let ids = match self.driver.list(&dir).await {
                Ok(ids) => ids,
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e.into()),
            };
            for id in ids {
                if self.uploads_map().contains_key(&id) {
                    continue;
                }
                let path = paths::upload_dir(&repo, &id);
                let modified = match self.driver.stat(&paths::upload_data(&repo, &id)).await {
                    Ok(st) => st.modified,
                    Err(_) => self
                        .driver
                        .stat(&path)
                        .await
                        .map(|s| s.modified)
                        .unwrap_or(now),
                };
                if now.duration_since(modified).unwrap_or_default() > max_idle {
                    self.driver.delete(&path).await?;
                    purged += 1;
                }
            }
        }
        Ok(purged)
    }

    // ---- manifests ----

    async fn resolve(&self, name: &str, r: &ManifestRef) -> Result<Digest> {
        match r {
            ManifestRef::Digest(d) => Ok(d.clone()),
            ManifestRef::Tag(t) => match self.driver.get_content(&paths::tag_link(name, t)).await {
                Ok(b) => crate::names::parse_digest(String::from_utf8_lossy(&b).trim())
                    .map_err(|_| Error::Internal(format!("corrupt tag link {name}:{t}"))),
                Err(e) if e.is_not_found() => {
                    if self.repo_exists(name).await? {
                        Err(Error::ManifestUnknown(r.to_string()))
                    } else {
                        Err(Error::NameUnknown(name.to_string()))
                    }
                }
                Err(e) => Err(e.into()),
            },
        }
    }

    /// A manifest by tag or digest.
    pub async fn manifest_get(&self, name: &str, r: &ManifestRef) -> Result<StoredManifest> {
        let digest = self.resolve(name, r).await?;
        if !self.exists(&paths::revision_link(name, &digest)).await? {
            if !self.repo_exists(name).await? {
                return Err(Error::NameUnknown(name.to_string()));
            }
            return Err(Error::ManifestUnknown(r.to_string()));
        }
        let content = self
            .driver
            .get_content(&paths::blob_data(&digest))
            .await
            .map_err(|e| not_found_as(e, || Error::ManifestUnknown(r.to_string())))?;
        Ok(StoredManifest {
            media_type: manifest::stored_media_type(&content),
            digest,
            content,
        })
    }

    /// Whether a blob is usable in `name` (linked and present).
    async fn has_blob(&self, name: &str, d: &Digest) -> Result<bool> {
        match self.blob_stat(name, d).await {
            Ok(_) => Ok(true),
            Err(Error::BlobUnknown(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Validates and stores a manifest, tagging it with `r` (if a tag) and
    /// `extra_tags`.
    pub async fn manifest_put(
        &self,
        name: &str,
        r: &ManifestRef,
        content_type: Option<&str>,
        content: Bytes,
        extra_tags: &[String],
    ) -> Result<PushedManifest> {
        let limit = self.opts.max_manifest_size;
        if content.len() as u64 > limit {
            return Err(Error::ManifestTooLarge {
                size: content.len() as u64,
                limit,
            });
        }
        if let Some(t) = extra_tags.iter().find(|t| !valid_tag(t)) {
            return Err(Error::TagInvalid(t.clone()));
        }
        let m = manifest::parse(&content, content_type)?;
        let digest = match r {
            ManifestRef::Digest(d) => {
                let actual = Digest::of_with(d.algorithm(), &content);
                if &actual != d {
                    return Err(Error::DigestMismatch {
                        expected: d.clone(),
                        actual,
                    });
                }
                actual
            }
            ManifestRef::Tag(_) => Digest::of(&content),
        };
        for b in m.blobs.iter().filter(|b| !b.external) {
            if !self.has_blob(name, &b.digest).await? {
                return Err(Error::ManifestBlobUnknown(b.digest.clone()));
            }
        }
        for c in &m.manifests {
            if !self.exists(&paths::revision_link(name, &c.digest)).await? {
                return Err(Error::ManifestBlobUnknown(c.digest.clone()));
            }
        }
        let data = paths::blob_data(&digest);
        if !self.exists(&data).await? {
            self.driver.put_content(&data, content.clone()).await?;
        }
        self.link(&paths::revision_link(name, &digest), &digest)
            .await?;
        if let Some(s) = &m.subject {
            let desc = manifest::referrer_descriptor(&m, &digest, content.len() as u64);
            let json = serde_json::to_vec(&desc).map_err(|e| Error::Internal(e.to_string()))?;
            self.driver
                .put_content(&paths::referrer(name, &s.digest, &digest), json.into())
                .await?;
        }
        let mut tags: Vec<String> = Vec::new();
        if let ManifestRef::Tag(t) = r {
            tags.push(t.clone());
        }
        tags.extend(extra_tags.iter().cloned());
        tags.dedup();
        for t in &tags {
            self.link(&paths::tag_link(name, t), &digest).await?;
        }
        tracing::debug!(repo = name, %digest, kind = ?m.kind, "manifest stored");
        Ok(PushedManifest {
            digest,
            subject: m.subject.map(|s| s.digest),
            tags,
        })
    }

    /// Deletes a tag, or a manifest with every tag pointing at it.
    pub async fn manifest_delete(&self, name: &str, r: &ManifestRef) -> Result<()> {
        if !self.opts.delete_enabled {
            return Err(Error::Disabled("deletion"));
        }
        match r {
            ManifestRef::Tag(t) => {
                self.resolve(name, r).await?;
                self.driver.delete(&paths::tag_dir(name, t)).await?;
            }
            ManifestRef::Digest(d) => {
                let stored = self.manifest_get(name, r).await?;
                if let Ok(m) = manifest::parse(&stored.content, Some(&stored.media_type)) {
                    if let Some(s) = m.subject {
                        match self
                            .driver
                            .delete(&paths::referrer(name, &s.digest, d))
                            .await
                        {
                            Ok(()) => {}
                            Err(e) if e.is_not_found() => {}
                            Err(e) => return Err(e.into()),
                        }
                    }
                }
                for t in self.all_tags(name).await? {
                    if self
                        .resolve(name, &ManifestRef::Tag(t.clone()))
                        .await
                        .ok()
                        .as_ref()
                        == Some(d)
                    {
                        self.driver.delete(&paths::tag_dir(name, &t)).await?;
                    }
                }
                let link = paths::revision_link(name, d);
                self.driver.delete(link.trim_end_matches("/link")).await?;
            }
        }
        Ok(())
    }

    async fn all_tags(&self, name: &str) -> Result<Vec<String>> {
        match self.driver.list(&paths::tags_dir(name)).await {
            Ok(t) => Ok(t),
            Err(e) if e.is_not_found() => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }

    /// Tags in ASCII order after `last`, at most `n`; true when more follow.
    pub async fn tags_list(
        &self,
        name: &str,
        n: Option<usize>,
        last: Option<&str>,
    ) -> Result<(Vec<String>, bool)> {
        if !self.repo_exists(name).await? {
            return Err(Error::NameUnknown(name.to_string()));
        }
        let mut tags = Vec::new();
        for t in self.all_tags(name).await? {
            // A directory without its link is a tag write that never finished.
            if self.exists(&paths::tag_link(name, &t)).await? {
                tags.push(t);
            }
        }
        Ok(paginate(tags, n, last))
    }

    /// Descriptors of the manifests in `name` whose subject is `subject`.
    pub async fn referrers(
        &self,
        name: &str,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<serde_json::Value>> {
        let dir = paths::referrers_dir(name, subject);
        let entries = match self.driver.list(&dir).await {
            Ok(e) => e,
            Err(e) if e.is_not_found() => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut out = Vec::new();
        for e in entries {
            let raw = match self.driver.get_content(&format!("{dir}/{e}")).await {
                Ok(r) => r,
                Err(err) if err.is_not_found() => continue,
                Err(err) => return Err(err.into()),
            };
            let Ok(desc) = serde_json::from_slice::<serde_json::Value>(&raw) else {
                tracing::warn!(path = %format!("{dir}/{e}"), "corrupt referrer entry");
                continue;
            };
            if artifact_type.is_none_or(|t| desc["artifactType"].as_str() == Some(t)) {
                out.push(desc);
            }
        }
        Ok(out)
    }

    /// Repository names in ASCII order after `last`, at most `n`.
    pub async fn catalog(
        &self,
        n: Option<usize>,
        last: Option<&str>,
    ) -> Result<(Vec<String>, bool)> {
        let mut repos = self.walk_repos(false).await?;
        repos.sort();
        Ok(paginate(repos, n, last))
    }

    /// Every repository (with `uploads_too`, also those holding only uploads).
    pub(crate) async fn walk_repos(&self, uploads_too: bool) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut stack = vec![String::new()];
        while let Some(rel) = stack.pop() {
            let dir = if rel.is_empty() {
                paths::REPOSITORIES.to_string()
            } else {
                paths::repo(&rel)
            };
            let children = match self.driver.list(&dir).await {
                Ok(c) => c,
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e.into()),
            };
            let is_repo = children
                .iter()
                .any(|c| c == "_manifests" || c == "_layers" || (uploads_too && c == "_uploads"));
            if is_repo && !rel.is_empty() {
                out.push(rel.clone());
            }
            for c in children.into_iter().filter(|c| !c.starts_with('_')) {
                stack.push(if rel.is_empty() {
                    c
                } else {
                    format!("{rel}/{c}")
                });
            }
        }
        Ok(out)
    }

    /// Blob digests linked as layers in a repository.
    pub(crate) async fn digests_under(&self, dir: &str) -> Result<Vec<Digest>> {
        let mut out = Vec::new();
        for alg in [Algorithm::Sha256, Algorithm::Sha512] {
            let d = format!("{dir}/{alg}");
            let hexes = match self.driver.list(&d).await {
                Ok(h) => h,
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e.into()),
            };
            out.extend(
                hexes
                    .into_iter()
                    .filter_map(|h| Digest::parse_any(&format!("{alg}:{h}")).ok()),
            );
        }
        Ok(out)
    }

    /// Every stored blob.
    pub(crate) async fn all_blobs(&self) -> Result<Vec<Digest>> {
        let mut out = Vec::new();
        for alg in [Algorithm::Sha256, Algorithm::Sha512] {
            let d = paths::blob_alg_dir(alg);
            let prefixes = match self.driver.list(&d).await {
                Ok(p) => p,
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e.into()),
            };
            for p in prefixes {
                let hexes = match self.driver.list(&format!("{d}/{p}")).await {
                    Ok(h) => h,
                    Err(e) if e.is_not_found() => continue,
                    Err(e) => return Err(e.into()),
                };
                out.extend(
                    hexes
                        .into_iter()
                        .filter_map(|h| Digest::parse_any(&format!("{alg}:{h}")).ok()),
                );
            }
        }
        Ok(out)
    }

    /// Digests of a stored manifest's references (for garbage collection).
    pub(crate) async fn manifest_refs(&self, d: &Digest) -> Result<Option<Vec<Digest>>> {
        let content = match self.driver.get_content(&paths::blob_data(d)).await {
            Ok(c) => c,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let m = manifest::parse(&content, None)?;
        let mut refs: Vec<Digest> = m.blobs.into_iter().map(|b| b.digest).collect();
        if m.kind == Kind::Index {
            refs.extend(m.manifests.into_iter().map(|c| c.digest));
        }
        Ok(Some(refs))
    }
}

fn paginate(mut items: Vec<String>, n: Option<usize>, last: Option<&str>) -> (Vec<String>, bool) {
    items.sort();
    items.dedup();
    if let Some(last) = last {
        items.retain(|t| t.as_str() > last);
    }
    match n {
        Some(n) if items.len() > n => {
            items.truncate(n);
            (items, n > 0)
        }
        _ => (items, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::{FsDriver, MemoryDriver};
    use crate::manifest::OCI_MANIFEST;

    type Chunks =
        futures_util::stream::Iter<std::vec::IntoIter<std::result::Result<Bytes, String>>>;

    fn body(parts: &[&[u8]]) -> Chunks {
        futures_util::stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::copy_from_slice(p)))
                .collect::<Vec<_>>(),
        )
    }

    async fn push_blob(r: &Registry, name: &str, data: &[u8]) -> Digest {
        let d = Digest::of(data);
        let up = r.upload_start(name, Algorithm::Sha256).await.unwrap();
        r.upload_finish(name, &up.id, &d, None, body(&[data]))
            .await
            .unwrap();
        d
    }

    fn image(config: &Digest, layers: &[&Digest], extra: &str) -> Bytes {
        let layers: Vec<String> = layers
            .iter()
            .map(|l| format!(r#"{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{l}","size":1}}"#))
            .collect();
        Bytes::from(format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config}","size":2}},"layers":[{}]{extra}}}"#,
            layers.join(",")
        ))
    }

    async fn scenarios(driver: Arc<dyn StorageDriver>) {
        let r = Registry::open(driver.clone(), Options::default())
            .await
            .unwrap();
        // Chunked upload, in order, then out of order.
        let up = r.upload_start("a/b", Algorithm::Sha256).await.unwrap();
        let st = r
            .upload_write("a/b", &up.id, Some(0), body(&[b"hel", b"lo"]))
            .await
            .unwrap();
        assert_eq!(st.size, 5);
        let err = r
            .upload_write("a/b", &up.id, Some(3), body(&[b"x"]))
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            Error::RangeInvalid {
                size: 5,
                start: 3,
                ..
            }
        ));
        assert_eq!(r.upload_status("a/b", &up.id).await.unwrap().size, 5);
        // Not visible before it is finished.
        let hello = Digest::of(b"hello world");
        assert!(matches!(
            r.blob_stat("a/b", &hello).await,
            Err(Error::BlobUnknown(_))
        ));
        // A restart: a new Registry over the same storage resumes the upload.
        let r = Registry::open(driver.clone(), Options::default())
            .await
            .unwrap();
        r.upload_write("a/b", &up.id, Some(5), body(&[b" world"]))
            .await
            .unwrap();
        let info = r
            .upload_finish("a/b", &up.id, &hello, None, body(&[]))
            .await
            .unwrap();
        assert_eq!(info.size, 11);
        assert!(matches!(
            r.upload_status("a/b", &up.id).await,
            Err(Error::BlobUploadUnknown(_))
        ));
        let read = r
            .blob_read("a/b", &hello, Some(RangeSpec::From(6, None)))
            .await
            .unwrap();
        let got: Vec<Bytes> = read.body.map(|c| c.unwrap()).collect().await;
        assert_eq!(got.concat(), b"world");
        assert_eq!(read.range, Some((6, 10)));
        assert!(matches!(
            r.blob_read("a/b", &hello, Some(RangeSpec::From(11, None)))
                .await,
            Err(Error::RangeNotSatisfiable { size: 11 })
        ));
        // A wrong digest is refused and nothing becomes visible.
        let up = r.upload_start("a/b", Algorithm::Sha256).await.unwrap();
        let wrong = Digest::of(b"other");
        assert!(matches!(
            r.upload_finish("a/b", &up.id, &wrong, None, body(&[b"data"]))
                .await,
            Err(Error::DigestMismatch { .. })
        ));
        assert!(matches!(
            r.blob_stat("a/b", &wrong).await,
            Err(Error::BlobUnknown(_))
        ));
        // sha512, asked for up front or only at the end.
        let d512 = Digest::of_with(Algorithm::Sha512, b"big");
        for alg in [Algorithm::Sha512, Algorithm::Sha256] {
            let up = r.upload_start("a/b", alg).await.unwrap();
            r.upload_finish("a/b", &up.id, &d512, None, body(&[b"b", b"ig"]))
                .await
                .unwrap();
        }
        assert_eq!(r.blob_stat("a/b", &d512).await.unwrap().size, 3);
        // Mount into another repository; unknown sources are not mounted.
        assert!(r.blob_mount("c", "a/b", &hello).await.unwrap().is_some());
        assert!(r.blob_mount("c", "nope", &d512).await.unwrap().is_none());
        assert!(r.blob_stat("c", &hello).await.is_ok());
        assert!(matches!(
            r.blob_stat("c", &d512).await,
            Err(Error::BlobUnknown(_))
        ));

        // Manifests: missing blobs, then a good push, tags, referrers.
        let cfg = push_blob(&r, "a/b", b"{}").await;
        let missing = Digest::of(b"missing");
        let bad = image(&cfg, &[&missing], "");
        assert!(matches!(
            r.manifest_put("a/b", &ManifestRef::Tag("v1".into()), Some(OCI_MANIFEST), bad, &[]).await,
            Err(Error::ManifestBlobUnknown(d)) if d == missing
        ));
        let img = image(&cfg, &[&hello], "");
        let pushed = r
            .manifest_put(
                "a/b",
                &ManifestRef::Tag("v1".into()),
                Some(OCI_MANIFEST),
                img.clone(),
                &["v2".into()],
            )
            .await
            .unwrap();
        assert_eq!(pushed.digest, Digest::of(&img));
        assert_eq!(pushed.tags, ["v1", "v2"]);
        let got = r
            .manifest_get("a/b", &ManifestRef::Tag("v2".into()))
            .await
            .unwrap();
        assert_eq!(
            (got.content, got.media_type.as_str()),
            (img.clone(), OCI_MANIFEST)
        );
        assert!(matches!(
            r.manifest_put(
                "a/b",
                &ManifestRef::Digest(wrong.clone()),
                Some(OCI_MANIFEST),
                img.clone(),
                &[]
            )
            .await,
            Err(Error::DigestMismatch { .. })
        ));
        let subject = format!(
            r#","artifactType":"application/x-sig","subject":{{"mediaType":"{OCI_MANIFEST}","digest":"{}","size":{}}},"annotations":{{"k":"v"}}"#,
            pushed.digest,
            img.len()
        );
        let sig = image(&cfg, &[], &subject);
        let sig_d = Digest::of(&sig);
        let p = r
            .manifest_put("a/b", &ManifestRef::Digest(sig_d.clone()), None, sig, &[])
            .await
            .unwrap();
        assert_eq!(p.subject.as_ref(), Some(&pushed.digest));
        let refs = r.referrers("a/b", &pushed.digest, None).await.unwrap();
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0]["artifactType"], "application/x-sig");
        assert_eq!(refs[0]["annotations"]["k"], "v");
        assert!(r
            .referrers("a/b", &pushed.digest, Some("other"))
            .await
            .unwrap()
            .is_empty());
        assert!(r.referrers("a/b", &hello, None).await.unwrap().is_empty());

        // Listing.
        for t in ["b", "a", "c"] {
            r.manifest_put("a/b", &ManifestRef::Tag(t.into()), None, img.clone(), &[])
                .await
                .unwrap();
        }
        assert_eq!(
            r.tags_list("a/b", Some(2), None).await.unwrap(),
            (vec!["a".to_string(), "b".to_string()], true)
        );
        assert_eq!(
            r.tags_list("a/b", None, Some("c")).await.unwrap(),
            (vec!["v1".to_string(), "v2".to_string()], false)
        );
        assert_eq!(
            r.tags_list("a/b", Some(0), None).await.unwrap(),
            (vec![], false)
        );
        assert!(matches!(
            r.tags_list("zz", None, None).await,
            Err(Error::NameUnknown(_))
        ));
        assert_eq!(r.catalog(None, None).await.unwrap().0, ["a/b", "c"]);
        assert_eq!(
            r.catalog(Some(1), None).await.unwrap(),
            (vec!["a/b".to_string()], true)
        );

        // Deletion: a tag, then the manifest with its tags and referrer entry.
        r.manifest_delete("a/b", &ManifestRef::Tag("a".into()))
            .await
            .unwrap();
        assert!(matches!(
            r.manifest_get("a/b", &ManifestRef::Tag("a".into())).await,
            Err(Error::ManifestUnknown(_))
        ));
        r.manifest_delete("a/b", &ManifestRef::Digest(sig_d.clone()))
            .await
            .unwrap();
        assert!(r
            .referrers("a/b", &pushed.digest, None)
            .await
            .unwrap()
            .is_empty());
        r.manifest_delete("a/b", &ManifestRef::Digest(pushed.digest.clone()))
            .await
            .unwrap();
        assert_eq!(
            r.tags_list("a/b", None, None).await.unwrap().0,
            Vec::<String>::new()
        );

        // Garbage collection: only what no manifest references goes.
        let keep_layer = push_blob(&r, "k", b"keep").await;
        let keep_cfg = push_blob(&r, "k", b"{}").await;
        let kept = image(&keep_cfg, &[&keep_layer], "");
        r.manifest_put("k", &ManifestRef::Tag("t".into()), None, kept, &[])
            .await
            .unwrap();
        let dry = crate::gc::collect(&r, true).await.unwrap();
        assert!(!dry.blobs_removed.is_empty());
        assert!(r.blob_stat("a/b", &hello).await.is_ok());
        let report = crate::gc::collect(&r, false).await.unwrap();
        let removed: Vec<&Digest> = report.blobs_removed.iter().map(|(d, _)| d).collect();
        assert!(removed.contains(&&hello) && removed.contains(&&d512));
        assert!(!removed.contains(&&keep_layer) && !removed.contains(&&keep_cfg));
        assert!(matches!(
            r.blob_stat("a/b", &hello).await,
            Err(Error::BlobUnknown(_))
        ));
        assert!(r.blob_stat("k", &keep_layer).await.is_ok());
        let again = crate::gc::collect(&r, false).await.unwrap();
        assert!(again.blobs_removed.is_empty());

        // Deletion can be disabled.
        let ro = Registry::open(
            driver,
            Options {
                delete_enabled: false,
                ..Options::default()
            },
        )
        .await
        .unwrap();
        assert!(matches!(
            ro.blob_delete("k", &keep_layer).await,
            Err(Error::Disabled(_))
        ));
    }

    #[tokio::test]
    async fn scenarios_inmemory() {
        scenarios(Arc::new(MemoryDriver::new())).await;
    }

    #[tokio::test]
    async fn scenarios_filesystem() {
        let dir = tempfile::Builder::new()
            .prefix("berth-reg")
            .tempdir()
            .unwrap();
        scenarios(Arc::new(FsDriver::new(dir.path()).unwrap())).await;
    }

    #[tokio::test]
    async fn layout_version_is_checked() {
        let d = Arc::new(MemoryDriver::new());
        d.put_content(paths::VERSION_FILE, Bytes::from_static(b"9"))
            .await
            .unwrap();
        assert!(Registry::open(d, Options::default()).await.is_err());
    }
}
