//! Pulling: manifests (by tag or digest, verified), resolving an index to
//! one platform's manifest, and blobs streamed with on-the-fly verification.

use crate::client::{read_limited, Repository, Subject};
use crate::error::{Error, Result};
use crate::manifest::Descriptor;
use crate::manifest::{media_type, ImageManifest, Manifest, ManifestContent, MAX_MANIFEST_SIZE};
use crate::platform::Platform;
use crate::progress::{Progress, Status, Throttle};
use base::{Digest, Reference};
use bytes::Bytes;
use futures_util::stream::{BoxStream, Stream, StreamExt, TryStreamExt};
use http::{Method, StatusCode};
use sha2::{Digest as _, Sha256};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::AsyncRead;

/// Configs and other blobs read whole are refused above this size.
pub const MAX_IN_MEMORY_BLOB: u64 = 64 << 20;

/// The tag or digest to fetch for a reference: the digest when both are
/// given (as Docker does), else the tag, else `latest`.
pub fn manifest_reference(r: &Reference) -> String {
    match (&r.digest, &r.tag) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.clone(),
        (None, None) => base::reference::DEFAULT_TAG.to_string(),
    }
}

/// A reference resolved to one image manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// What the tag or digest names: an index or an image manifest. Its
    /// digest is the one for `RepoDigests`.
    pub root: Manifest,
    /// The image manifest chosen (the same as `root` when that is not an index).
    pub manifest: Manifest,
    /// `manifest`, parsed.
    pub image: ImageManifest,
    /// The platform of the index entry chosen; `None` when `root` is not an index.
    pub platform: Option<Platform>,
}

impl Resolved {
    /// The digest the reference resolved to (`root`'s).
    pub fn digest(&self) -> &Digest {
        &self.root.digest
    }
}

impl Repository {
    /// Fetches a manifest or index by tag or digest. By digest, the content
    /// must hash to it; by tag, its digest is computed from the bytes.
    pub async fn get_manifest(&self, tag_or_digest: &str) -> Result<Manifest> {
        let eps = self.inner.pull_endpoints.clone();
        let mut last = None;
        for ep in &eps {
            match self.get_manifest_from(ep, tag_or_digest).await {
                Ok(m) => return Ok(m),
                Err(e) if ep.mirror => {
                    tracing::warn!(mirror = %ep.url, error = %e, "mirror failed, trying the next endpoint");
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("at least one endpoint"))
    }

    async fn get_manifest_from(
        &self,
        ep: &crate::endpoint::Endpoint,
        tag_or_digest: &str,
    ) -> Result<Manifest> {
        let url = self.url(ep, &format!("manifests/{tag_or_digest}"));
        let resp = self
            .send(ep, &self.pull_scope(), Method::GET, url, true, |rb| {
                rb.header(http::header::ACCEPT, media_type::MANIFEST_ACCEPT)
            })
            .await?;
        if !resp.status().is_success() {
            return Err(self
                .fail(resp, &Method::GET, Subject::Manifest(tag_or_digest))
                .await);
        }
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header("content-type");
        let header_digest = header("docker-content-digest");
        if let Some(len) = resp.content_length() {
            if len > MAX_MANIFEST_SIZE as u64 {
                return Err(Error::InvalidManifest {
                    reference: self.familiar(tag_or_digest),
                    reason: format!("{len} bytes exceeds the limit of {MAX_MANIFEST_SIZE}"),
                });
            }
        }
        let bytes = read_limited(resp, MAX_MANIFEST_SIZE).await?;
        let m = Manifest::parse(bytes, content_type.as_deref()).map_err(|e| match e {
            Error::InvalidManifest { reason, .. } => Error::InvalidManifest {
                reference: self.familiar(tag_or_digest),
                reason,
            },
            other => other,
        })?;
        if let Ok(wanted) = Digest::parse(tag_or_digest) {
            if m.digest != wanted {
                return Err(Error::DigestMismatch {
                    registry: self.inner.domain.clone(),
                    repository: self.inner.path.clone(),
                    expected: wanted,
                    actual: m.digest,
                });
            }
        } else if let Some(h) = header_digest.and_then(|h| Digest::parse(&h).ok()) {
            if h != m.digest {
                tracing::warn!(reference = %self.familiar(tag_or_digest), header = %h, computed = %m.digest,
                    "Docker-Content-Digest differs from the content's digest; using the content's");
            }
        }
        Ok(m)
    }

    /// Fetches the manifest a tag or digest names and, when it is an index,
    /// the entry for `platform` (its size and digest verified). Use
    /// [`manifest_reference`] to get `tag_or_digest` from a [`Reference`].
    pub async fn resolve(&self, tag_or_digest: &str, platform: &Platform) -> Result<Resolved> {
        let root = self.get_manifest(tag_or_digest).await?;
        let (manifest, platform) = match &root.content {
            ManifestContent::Image(_) => (root.clone(), None),
            ManifestContent::Index(index) => {
                let entry = index.select(platform, &self.familiar(tag_or_digest))?;
                let child = self.get_manifest(entry.digest.as_str()).await?;
                if child.bytes.len() as u64 != entry.size {
                    return Err(Error::SizeMismatch {
                        registry: self.inner.domain.clone(),
                        repository: self.inner.path.clone(),
                        digest: entry.digest.clone(),
                        expected: entry.size,
                        actual: child.bytes.len() as u64,
                    });
                }
                (child, entry.platform.clone())
            }
        };
        let image = match &manifest.content {
            ManifestContent::Image(m) => m.clone(),
            ManifestContent::Index(_) => {
                return Err(Error::InvalidManifest {
                    reference: self.familiar(manifest.digest.as_str()),
                    reason: "an index inside an index is not supported".into(),
                })
            }
        };
        Ok(Resolved {
            root,
            manifest,
            image,
            platform,
        })
    }

    /// Streams a blob, verifying its size and digest as it goes: the stream
    /// ends with an error (`DigestMismatch`, `SizeMismatch`) instead of
    /// `None` when the content is wrong, so a consumer commits only after
    /// the stream ended cleanly. Emits `Downloading`, `Verifying Checksum`
    /// and `Download complete`.
    pub async fn fetch_blob(&self, desc: &Descriptor, progress: &Progress) -> Result<BlobStream> {
        self.fetch_blob_from(desc, 0, Sha256::new(), progress).await
    }

    /// Like [`fetch_blob`](Self::fetch_blob), resuming after the first
    /// `offset` bytes, which the caller already has and has fed to `hasher`.
    /// Sends `Range`; a registry that ignores it is handled too.
    pub async fn fetch_blob_from(
        &self,
        desc: &Descriptor,
        offset: u64,
        hasher: Sha256,
        progress: &Progress,
    ) -> Result<BlobStream> {
        if offset > desc.size {
            return Err(Error::InvalidArgument(format!(
                "resume offset {offset} is beyond the size {} of {}",
                desc.size, desc.digest
            )));
        }
        let eps = self.inner.pull_endpoints.clone();
        let mut last = None;
        for ep in &eps {
            match self
                .open_blob(ep, desc, offset, hasher.clone(), progress)
                .await
            {
                Ok(s) => return Ok(s),
                Err(e) if ep.mirror => {
                    tracing::warn!(mirror = %ep.url, error = %e, "mirror failed, trying the next endpoint");
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("at least one endpoint"))
    }

    async fn open_blob(
        &self,
        ep: &crate::endpoint::Endpoint,
        desc: &Descriptor,
        offset: u64,
        hasher: Sha256,
        progress: &Progress,
    ) -> Result<BlobStream> {
        let stream = |inner, skip, url: String| BlobStream {
            inner,
            hasher: hasher.clone(),
            digest: desc.digest.clone(),
            size: desc.size,
            received: offset,
            skip,
            registry: self.inner.domain.clone(),
            repository: self.inner.path.clone(),
            url,
            progress: progress.clone(),
            throttle: Throttle::new(desc.size),
            done: false,
        };
        if offset > 0 && offset == desc.size {
            // The caller has it all: only the verification is left.
            return Ok(stream(
                futures_util::stream::empty().boxed(),
                0,
                String::new(),
            ));
        }
        let url = self.url(ep, &format!("blobs/{}", desc.digest));
        let ranged = offset > 0;
        let resp = self
            .send(ep, &self.pull_scope(), Method::GET, url, true, |rb| {
                if ranged {
                    rb.header(http::header::RANGE, format!("bytes={offset}-"))
                } else {
                    rb
                }
            })
            .await?;
        let status = resp.status();
        if !status.is_success() {
            return Err(self
                .fail(resp, &Method::GET, Subject::Blob(&desc.digest))
                .await);
        }
        let partial = status == StatusCode::PARTIAL_CONTENT;
        let size_err = |actual| Error::SizeMismatch {
            registry: self.inner.domain.clone(),
            repository: self.inner.path.clone(),
            digest: desc.digest.clone(),
            expected: desc.size,
            actual,
        };
        // Content-Length is what follows; the full blob's length must match.
        if let Some(len) = resp.content_length() {
            let full = if partial { len + offset } else { len };
            if full != desc.size {
                return Err(size_err(full));
            }
        }
        // A server that ignored the Range sends everything: drop what the
        // caller has; the digest over prefix + rest still checks the whole.
        let skip = if partial || !ranged { 0 } else { offset };
        let url = crate::client::strip_query(resp.url());
        Ok(stream(resp.bytes_stream().boxed(), skip, url))
    }

    /// Reads a small blob (an image config) whole, verified. Refuses blobs
    /// above [`MAX_IN_MEMORY_BLOB`].
    pub async fn fetch_blob_bytes(&self, desc: &Descriptor) -> Result<Bytes> {
        if desc.size > MAX_IN_MEMORY_BLOB {
            return Err(Error::InvalidArgument(format!(
                "blob {} of {} bytes is too large to read into memory",
                desc.digest, desc.size
            )));
        }
        let mut s = self.fetch_blob(desc, &Progress::none()).await?;
        let mut buf = Vec::with_capacity(desc.size as usize);
        while let Some(chunk) = s.next().await {
            buf.extend_from_slice(&chunk?);
        }
        Ok(Bytes::from(buf))
    }
}

/// A blob being downloaded: a stream of chunks, hashed and counted on the
/// way. Its last item is an error when the size or digest is wrong.
pub struct BlobStream {
    inner: BoxStream<'static, reqwest::Result<Bytes>>,
    hasher: Sha256,
    digest: Digest,
    size: u64,
    received: u64,
    /// Leading bytes to drop (a server answered a Range request with 200).
    skip: u64,
    registry: String,
    repository: String,
    /// Where the bytes come from (after redirects; no query: it may be signed).
    url: String,
    progress: Progress,
    throttle: Throttle,
    done: bool,
}

impl std::fmt::Debug for BlobStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStream")
            .field("digest", &self.digest)
            .field("size", &self.size)
            .field("received", &self.received)
            .finish()
    }
}

impl BlobStream {
    /// The blob's size from its descriptor (for progress totals).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The digest being verified.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// Bytes of the blob seen so far, including a resumed prefix.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// As an `AsyncRead`. Errors become `std::io::Error`s wrapping [`Error`];
    /// [`Error::from_io`] recovers it.
    pub fn into_reader(self) -> impl AsyncRead + Send + Unpin + 'static {
        tokio_util::io::StreamReader::new(self.map_err(std::io::Error::other))
    }

    fn finish(&mut self) -> Result<()> {
        if self.received != self.size {
            return Err(Error::SizeMismatch {
                registry: self.registry.clone(),
                repository: self.repository.clone(),
                digest: self.digest.clone(),
                expected: self.size,
                actual: self.received,
            });
        }
        self.progress
            .emit(&self.digest, Status::Downloading, self.received, self.size);
        self.progress.emit(
            &self.digest,
            Status::VerifyingChecksum,
            self.size,
            self.size,
        );
        let actual = Digest::from_hasher(std::mem::take(&mut self.hasher));
        if actual != self.digest {
            return Err(Error::DigestMismatch {
                registry: self.registry.clone(),
                repository: self.repository.clone(),
                expected: self.digest.clone(),
                actual,
            });
        }
        self.progress
            .emit(&self.digest, Status::DownloadComplete, self.size, self.size);
        Ok(())
    }
}

impl Stream for BlobStream {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            match this.inner.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(mut chunk))) => {
                    if this.skip > 0 {
                        let n = (this.skip as usize).min(chunk.len());
                        this.skip -= n as u64;
                        chunk = chunk.slice(n..);
                        if chunk.is_empty() {
                            continue;
                        }
                    }
                    this.received += chunk.len() as u64;
                    if this.received > this.size {
                        this.done = true;
                        return Poll::Ready(Some(Err(Error::SizeMismatch {
                            registry: this.registry.clone(),
                            repository: this.repository.clone(),
                            digest: this.digest.clone(),
                            expected: this.size,
                            actual: this.received,
                        })));
                    }
                    this.hasher.update(&chunk);
                    if this.progress.is_some() && this.throttle.due(this.received) {
                        this.progress.emit(
                            &this.digest,
                            Status::Downloading,
                            this.received,
                            this.size,
                        );
                    }
                    return Poll::Ready(Some(Ok(chunk)));
                }
                Poll::Ready(Some(Err(source))) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(Error::Connection {
                        registry: this.registry.clone(),
                        request: crate::error::request("GET", &this.url),
                        source,
                    })));
                }
                Poll::Ready(None) => {
                    this.done = true;
                    return Poll::Ready(this.finish().err().map(Err));
                }
            }
        }
    }
}

impl Error {
    /// The distribution error inside an I/O error from
    /// [`BlobStream::into_reader`], if there is one.
    pub fn from_io(e: &std::io::Error) -> Option<&Error> {
        e.get_ref().and_then(|inner| inner.downcast_ref::<Error>())
    }
}
