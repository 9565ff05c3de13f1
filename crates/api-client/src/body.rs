//! Request bodies and streaming responses.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use http::HeaderMap;
use http_body_util::BodyExt;
use hyper::body::{Frame, Incoming, SizeHint};
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};
use tokio::sync::mpsc;

use crate::error::{Error, Result};

/// A request body: empty, a complete buffer, or a stream read from an
/// [`AsyncRead`] (sent with chunked transfer encoding).
pub struct Body {
    pub(crate) kind: Kind,
    pub(crate) content_type: Option<String>,
}

pub(crate) enum Kind {
    Empty,
    Full(Bytes),
    Stream(mpsc::Receiver<io::Result<Bytes>>),
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.kind {
            Kind::Empty => "empty".to_string(),
            Kind::Full(b) => format!("{} bytes", b.len()),
            Kind::Stream(_) => "stream".to_string(),
        };
        f.debug_struct("Body")
            .field("kind", &kind)
            .field("content_type", &self.content_type)
            .finish()
    }
}

impl Body {
    /// No body.
    pub fn empty() -> Body {
        Body {
            kind: Kind::Empty,
            content_type: None,
        }
    }

    /// A JSON body (`Content-Type: application/json`).
    pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> Result<Body> {
        let data = serde_json::to_vec(value)?;
        Ok(Body {
            kind: Kind::Full(Bytes::from(data)),
            content_type: Some("application/json".into()),
        })
    }

    /// Raw bytes with the given content type.
    pub fn bytes(data: impl Into<Bytes>, content_type: &str) -> Body {
        Body {
            kind: Kind::Full(data.into()),
            content_type: Some(content_type.to_string()),
        }
    }

    /// Stream the contents of `reader` (e.g. a tar file or stdin) as the body.
    /// Must be called inside a tokio runtime (spawns a reader task).
    pub fn reader<R: AsyncRead + Send + Unpin + 'static>(
        mut reader: R,
        content_type: &str,
    ) -> Body {
        let (tx, rx) = mpsc::channel(8);
        tokio::spawn(async move {
            loop {
                let mut buf = BytesMut::with_capacity(64 * 1024);
                match reader.read_buf(&mut buf).await {
                    Ok(0) => break,
                    Ok(_) => {
                        if tx.send(Ok(buf.freeze())).await.is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        break;
                    }
                }
            }
        });
        Body {
            kind: Kind::Stream(rx),
            content_type: Some(content_type.to_string()),
        }
    }

    /// Bytes of a complete body (for the hijack path which cannot stream).
    pub(crate) fn into_full(self) -> Result<(Bytes, Option<String>)> {
        match self.kind {
            Kind::Empty => Ok((Bytes::new(), self.content_type)),
            Kind::Full(b) => Ok((b, self.content_type)),
            Kind::Stream(_) => Err(Error::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "streaming bodies are not supported for hijacked requests",
            ))),
        }
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<io::Result<Frame<Bytes>>>> {
        let this = self.get_mut();
        match &mut this.kind {
            Kind::Empty => Poll::Ready(None),
            Kind::Full(b) => {
                if b.is_empty() {
                    Poll::Ready(None)
                } else {
                    let data = std::mem::take(b);
                    Poll::Ready(Some(Ok(Frame::data(data))))
                }
            }
            Kind::Stream(rx) => match rx.poll_recv(cx) {
                Poll::Ready(Some(Ok(b))) => Poll::Ready(Some(Ok(Frame::data(b)))),
                Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Empty => true,
            Kind::Full(b) => b.is_empty(),
            Kind::Stream(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Empty => SizeHint::with_exact(0),
            Kind::Full(b) => SizeHint::with_exact(b.len() as u64),
            Kind::Stream(_) => SizeHint::default(),
        }
    }
}

/// A response whose headers have arrived; the body is read on demand.
///
/// Use [`Response::chunk`] for raw chunks, [`Response::next_line`] for
/// line-oriented streams (`logs` with a TTY), [`Response::next_json`] for
/// JSON-message streams (pull progress, `events`), or the [`AsyncRead`]
/// implementation (e.g. with [`crate::demux_to`] for multiplexed logs).
pub struct Response {
    status: u16,
    headers: HeaderMap,
    body: Incoming,
    buf: BytesMut,
    eof: bool,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish()
    }
}

impl Response {
    pub(crate) fn new(resp: http::Response<Incoming>) -> Response {
        let (parts, body) = resp.into_parts();
        Response {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
            buf: BytesMut::new(),
            eof: false,
        }
    }

    /// HTTP status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// A header value as a string, if present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    async fn fill(&mut self) -> Result<bool> {
        while !self.eof {
            match self.body.frame().await {
                None => self.eof = true,
                Some(Err(e)) => return Err(Error::Io(io::Error::other(e))),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        if !data.is_empty() {
                            self.buf.extend_from_slice(&data);
                            return Ok(true);
                        }
                    }
                }
            }
        }
        Ok(false)
    }

    /// Next chunk of body bytes as received; `None` at end of body.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        if self.buf.is_empty() && !self.fill().await? {
            return Ok(None);
        }
        Ok(Some(self.buf.split().freeze()))
    }

    /// Next line (without the trailing `\n` / `\r\n`); the last line may lack
    /// a newline. `None` at end of body. Invalid UTF-8 is replaced.
    pub async fn next_line(&mut self) -> Result<Option<String>> {
        loop {
            if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line = self.buf.split_to(pos + 1);
                line.truncate(pos);
                if line.last() == Some(&b'\r') {
                    line.truncate(pos - 1);
                }
                return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
            }
            if !self.fill().await? {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                let line = self.buf.split();
                return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
            }
        }
    }

    /// Next JSON value from a stream of concatenated / newline-separated JSON
    /// documents. `None` at end of body.
    pub async fn next_json<T: DeserializeOwned>(&mut self) -> Result<Option<T>> {
        loop {
            // Skip leading whitespace.
            let skip = self
                .buf
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
            self.buf.advance(skip);
            if !self.buf.is_empty() {
                let mut it = serde_json::Deserializer::from_slice(&self.buf).into_iter::<T>();
                match it.next() {
                    Some(Ok(v)) => {
                        let used = it.byte_offset();
                        self.buf.advance(used);
                        return Ok(Some(v));
                    }
                    Some(Err(e)) if e.is_eof() => {}
                    Some(Err(e)) => return Err(Error::Json(e)),
                    None => {}
                }
            }
            if !self.fill().await? {
                if self.buf.iter().all(|b| b.is_ascii_whitespace()) {
                    return Ok(None);
                }
                return Err(Error::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "truncated JSON stream",
                )));
            }
        }
    }

    /// Read the rest of the body.
    pub async fn bytes(mut self) -> Result<Bytes> {
        while self.fill().await? {}
        Ok(self.buf.freeze())
    }

    /// Read the rest of the body as (lossy) UTF-8 text.
    pub async fn text(self) -> Result<String> {
        let b = self.bytes().await?;
        Ok(String::from_utf8_lossy(&b).into_owned())
    }

    /// Read the rest of the body and decode it as JSON. An empty body decodes
    /// as JSON `null` (so `serde_json::Value` / `Option<T>` accept it).
    pub async fn json<T: DeserializeOwned>(self) -> Result<T> {
        let b = self.bytes().await?;
        if b.iter().all(|c| c.is_ascii_whitespace()) {
            return Ok(serde_json::from_slice(b"null")?);
        }
        Ok(serde_json::from_slice(&b)?)
    }
}

impl AsyncRead for Response {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if !this.buf.is_empty() {
                let n = this.buf.len().min(out.remaining());
                out.put_slice(&this.buf[..n]);
                this.buf.advance(n);
                return Poll::Ready(Ok(()));
            }
            if this.eof {
                return Poll::Ready(Ok(()));
            }
            match Pin::new(&mut this.body).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => this.eof = true,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(io::Error::other(e))),
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        this.buf.extend_from_slice(&data);
                    }
                }
            }
        }
    }
}

use hyper::body::Body as _;
