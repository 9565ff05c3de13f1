//! Pushing: existence checks, cross-repository mounts, monolithic and
//! chunked uploads, and manifests (a tag is a manifest pushed to the tag).

use crate::client::{strip_query, Repository, Subject};
use crate::error::{Error, Result};
use crate::manifest::Descriptor;
use crate::progress::{Progress, Status, Throttle};
use base::Digest;
use bytes::{Bytes, BytesMut};
use futures_util::stream::Stream;
use http::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE};
use http::{Method, StatusCode};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_util::io::ReaderStream;
use url::Url;

const OCTET_STREAM: &str = "application/octet-stream";

/// An upload session on the registry (`POST .../blobs/uploads/` answered 202).
#[derive(Debug, Clone)]
pub struct Upload {
    location: Url,
}

/// What a mount request did.
#[derive(Debug)]
pub enum MountOutcome {
    /// The registry linked the blob from the other repository (201).
    Mounted,
    /// The registry could not mount and opened an upload session instead (202).
    Upload(Upload),
}

/// How [`Repository::push_blob`] got the blob into the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushedBlob {
    /// The repository already had it.
    AlreadyExists,
    /// Mounted from this repository of the same registry.
    Mounted { from: String },
    /// Uploaded.
    Uploaded,
}

impl Repository {
    /// `HEAD` on a blob: its size when the repository has it, `None` when not.
    pub async fn blob_exists(&self, digest: &Digest) -> Result<Option<u64>> {
        let ep = self.inner.origin.clone();
        let url = self.url(&ep, &format!("blobs/{digest}"));
        let resp = self
            .send(&ep, &self.push_scope(), Method::HEAD, url, true, |rb| rb)
            .await?;
        match resp.status() {
            // The header, not `content_length()`: a HEAD response's body is empty.
            s if s.is_success() => Ok(Some(
                resp.headers()
                    .get(CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
            )),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(self.fail(resp, &Method::HEAD, Subject::Other).await),
        }
    }

    /// Asks the registry to mount `digest` from repository `from` (a path on
    /// the same registry, e.g. `library/busybox`).
    pub async fn mount_blob(&self, digest: &Digest, from: &str) -> Result<MountOutcome> {
        let ep = self.inner.origin.clone();
        let mut url = self.url(&ep, "blobs/uploads/");
        url.query_pairs_mut()
            .append_pair("mount", digest.as_str())
            .append_pair("from", from);
        let mut scopes = self.push_scope();
        scopes.push(format!("repository:{from}:pull"));
        let resp = self
            .send(&ep, &scopes, Method::POST, url, true, |rb| {
                rb.header(CONTENT_LENGTH, "0")
            })
            .await?;
        match resp.status() {
            StatusCode::CREATED => Ok(MountOutcome::Mounted),
            StatusCode::ACCEPTED => Ok(MountOutcome::Upload(Upload {
                location: self.location(&ep, &resp)?,
            })),
            _ => Err(self.fail(resp, &Method::POST, Subject::Other).await),
        }
    }

    /// Opens an upload session.
    pub async fn start_upload(&self) -> Result<Upload> {
        let ep = self.inner.origin.clone();
        let url = self.url(&ep, "blobs/uploads/");
        let resp = self
            .send(&ep, &self.push_scope(), Method::POST, url, true, |rb| {
                rb.header(CONTENT_LENGTH, "0")
            })
            .await?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(self.fail(resp, &Method::POST, Subject::Other).await);
        }
        Ok(Upload {
            location: self.location(&ep, &resp)?,
        })
    }

    /// Abandons an upload session (best effort).
    pub async fn cancel_upload(&self, upload: Upload) {
        let ep = self.inner.origin.clone();
        let r = self
            .send(
                &ep,
                &self.push_scope(),
                Method::DELETE,
                upload.location,
                true,
                |rb| rb,
            )
            .await;
        if let Err(e) = r {
            tracing::debug!(error = %e, "cancelling an upload");
        }
    }

    /// Uploads a blob in one `PUT ?digest=`, streaming `desc.size` bytes
    /// from `reader`. Emits `Pushing` progress.
    pub async fn upload_monolithic<R>(
        &self,
        upload: Upload,
        desc: &Descriptor,
        reader: R,
        progress: &Progress,
    ) -> Result<()>
    where
        R: AsyncRead + Send + Unpin + 'static,
    {
        let ep = self.inner.origin.clone();
        let url = with_digest(upload.location, &desc.digest);
        let body = CountingStream {
            inner: ReaderStream::with_capacity(reader.take(desc.size), 256 * 1024),
            sent: 0,
            size: desc.size,
            digest: desc.digest.clone(),
            progress: progress.clone(),
            throttle: Throttle::new(desc.size),
            ended: false,
        };
        // The body can be sent only once: the session's POST has already
        // settled the auth, so no retry.
        let body = std::sync::Mutex::new(Some(reqwest::Body::wrap_stream(body)));
        let resp = self
            .send(&ep, &self.push_scope(), Method::PUT, url, false, |rb| {
                let rb = rb
                    .header(CONTENT_TYPE, OCTET_STREAM)
                    .header(CONTENT_LENGTH, desc.size);
                match body.lock().expect("body lock").take() {
                    Some(b) => rb.body(b),
                    None => rb,
                }
            })
            .await?;
        self.finish_upload(resp, desc).await
    }

    /// Uploads a blob as `PATCH` requests of `chunk_size` bytes with
    /// `Content-Range`, then `PUT ?digest=`. Holds one chunk in memory.
    pub async fn upload_chunked<R>(
        &self,
        upload: Upload,
        desc: &Descriptor,
        mut reader: R,
        chunk_size: u64,
        progress: &Progress,
    ) -> Result<()>
    where
        R: AsyncRead + Send + Unpin,
    {
        let chunk_size = chunk_size.max(1);
        let ep = self.inner.origin.clone();
        let mut location = upload.location;
        let mut sent = 0u64;
        while sent < desc.size {
            let want = chunk_size.min(desc.size - sent) as usize;
            let mut buf = BytesMut::with_capacity(want);
            while buf.len() < want {
                let n = (&mut reader)
                    .take((want - buf.len()) as u64)
                    .read_buf(&mut buf)
                    .await
                    .map_err(|e| Error::io(format!("read blob {}", desc.digest), e))?;
                if n == 0 {
                    return Err(short_source(desc, sent + buf.len() as u64));
                }
            }
            let chunk: Bytes = buf.freeze();
            let range = format!("{}-{}", sent, sent + chunk.len() as u64 - 1);
            let resp = self
                .send(
                    &ep,
                    &self.push_scope(),
                    Method::PATCH,
                    location.clone(),
                    true,
                    |rb| {
                        rb.header(CONTENT_TYPE, OCTET_STREAM)
                            .header(CONTENT_RANGE, range.clone())
                            .header(CONTENT_LENGTH, chunk.len())
                            .body(chunk.clone())
                    },
                )
                .await?;
            if resp.status() != StatusCode::ACCEPTED {
                return Err(self.fail(resp, &Method::PATCH, Subject::Other).await);
            }
            location = self.location(&ep, &resp)?;
            sent += chunk.len() as u64;
            progress.emit(&desc.digest, Status::Pushing, sent, desc.size);
        }
        let url = with_digest(location, &desc.digest);
        let resp = self
            .send(&ep, &self.push_scope(), Method::PUT, url, true, |rb| {
                rb.header(CONTENT_LENGTH, "0")
            })
            .await?;
        self.finish_upload(resp, desc).await
    }

    async fn finish_upload(&self, resp: reqwest::Response, desc: &Descriptor) -> Result<()> {
        if resp.status() != StatusCode::CREATED {
            return Err(self.fail(resp, &Method::PUT, Subject::Other).await);
        }
        if let Some(d) = header_digest(&resp) {
            if d != desc.digest {
                return Err(Error::DigestMismatch {
                    registry: self.inner.domain.clone(),
                    repository: self.inner.path.clone(),
                    expected: desc.digest.clone(),
                    actual: d,
                });
            }
        }
        Ok(())
    }

    /// Pushes a blob the way `docker push` does: skip it if the repository
    /// has it (`Layer already exists`), else try to mount it from each of
    /// `mount_from` (`Mounted from …`), else upload it (`Pushing`, `Pushed`):
    /// in chunks when the client's `chunk_size` is set and the blob is larger,
    /// else in one streamed PUT. `reader` is read only for an upload.
    pub async fn push_blob<R>(
        &self,
        desc: &Descriptor,
        reader: R,
        mount_from: &[String],
        progress: &Progress,
    ) -> Result<PushedBlob>
    where
        R: AsyncRead + Send + Unpin + 'static,
    {
        if self.blob_exists(&desc.digest).await?.is_some() {
            progress.emit(&desc.digest, Status::LayerAlreadyExists, 0, desc.size);
            return Ok(PushedBlob::AlreadyExists);
        }
        let candidates: Vec<&String> = mount_from
            .iter()
            .filter(|f| **f != self.inner.path)
            .collect();
        let mut session = None;
        for (i, from) in candidates.iter().enumerate() {
            match self.mount_blob(&desc.digest, from).await {
                Ok(MountOutcome::Mounted) => {
                    progress.emit(
                        &desc.digest,
                        Status::MountedFrom((*from).clone()),
                        desc.size,
                        desc.size,
                    );
                    return Ok(PushedBlob::Mounted {
                        from: (*from).clone(),
                    });
                }
                Ok(MountOutcome::Upload(u)) if i + 1 == candidates.len() => session = Some(u),
                Ok(MountOutcome::Upload(u)) => self.cancel_upload(u).await,
                Err(e) => {
                    tracing::debug!(from = %from, error = %e, "mount failed, uploading instead")
                }
            }
        }
        let upload = match session {
            Some(u) => u,
            None => self.start_upload().await?,
        };
        progress.emit(&desc.digest, Status::Pushing, 0, desc.size);
        match self.inner.client.config().chunk_size {
            Some(n) if desc.size > n => {
                self.upload_chunked(upload, desc, reader, n, progress)
                    .await?
            }
            _ => {
                self.upload_monolithic(upload, desc, reader, progress)
                    .await?
            }
        }
        progress.emit(&desc.digest, Status::Pushed, desc.size, desc.size);
        Ok(PushedBlob::Uploaded)
    }

    /// Pushes a small blob held in memory (an image config).
    pub async fn push_blob_bytes(&self, desc: &Descriptor, data: Bytes) -> Result<PushedBlob> {
        if data.len() as u64 != desc.size || Digest::of(&data) != desc.digest {
            return Err(Error::InvalidArgument(format!(
                "data does not match descriptor {}",
                desc.digest
            )));
        }
        self.push_blob(desc, std::io::Cursor::new(data), &[], &Progress::none())
            .await
    }

    /// Pushes a manifest under a tag (tagging it) or its digest, and returns
    /// its digest. With a digest, the bytes must hash to it.
    pub async fn put_manifest(
        &self,
        tag_or_digest: &str,
        media_type: &str,
        bytes: Bytes,
    ) -> Result<Digest> {
        let digest = Digest::of(&bytes);
        if let Ok(wanted) = Digest::parse(tag_or_digest) {
            if wanted != digest {
                return Err(Error::InvalidArgument(format!(
                    "manifest content has digest {digest}, not {wanted}"
                )));
            }
        }
        if media_type.is_empty() {
            return Err(Error::InvalidArgument(
                "manifest media type is empty".into(),
            ));
        }
        let ep = self.inner.origin.clone();
        let url = self.url(&ep, &format!("manifests/{tag_or_digest}"));
        let resp = self
            .send(&ep, &self.push_scope(), Method::PUT, url, true, |rb| {
                rb.header(CONTENT_TYPE, media_type).body(bytes.clone())
            })
            .await?;
        if resp.status() != StatusCode::CREATED && !resp.status().is_success() {
            return Err(self.fail(resp, &Method::PUT, Subject::Other).await);
        }
        if let Some(d) = header_digest(&resp) {
            if d != digest {
                return Err(Error::DigestMismatch {
                    registry: self.inner.domain.clone(),
                    repository: self.inner.path.clone(),
                    expected: digest,
                    actual: d,
                });
            }
        }
        tracing::debug!(repository = %self.familiar_name(), reference = tag_or_digest, %digest, url = %strip_query(resp.url()), "manifest pushed");
        Ok(digest)
    }
}

fn with_digest(mut url: Url, digest: &Digest) -> Url {
    url.query_pairs_mut().append_pair("digest", digest.as_str());
    url
}

fn header_digest(resp: &reqwest::Response) -> Option<Digest> {
    resp.headers()
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Digest::parse(v).ok())
}

fn short_source(desc: &Descriptor, got: u64) -> Error {
    Error::io(
        format!("read blob {}", desc.digest),
        std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("source ended after {got} of {} bytes", desc.size),
        ),
    )
}

/// An upload body: counts bytes for progress and fails if the source ends early.
struct CountingStream<R> {
    inner: ReaderStream<tokio::io::Take<R>>,
    sent: u64,
    size: u64,
    digest: Digest,
    progress: Progress,
    throttle: Throttle,
    ended: bool,
}

impl<R: AsyncRead + Unpin> Stream for CountingStream<R> {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.ended {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.sent += chunk.len() as u64;
                if this.progress.is_some() && this.throttle.due(this.sent) {
                    this.progress
                        .emit(&this.digest, Status::Pushing, this.sent, this.size);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(None) if this.sent < this.size => {
                this.ended = true;
                Poll::Ready(Some(Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!(
                        "blob {} source ended after {} of {} bytes",
                        this.digest, this.sent, this.size
                    ),
                ))))
            }
            other => other,
        }
    }
}
