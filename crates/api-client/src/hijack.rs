//! Hijacked (upgraded) connections for `attach` and `exec start`.
//!
//! The request is written by hand so that both a proper `101 Switching
//! Protocols` upgrade and the legacy "200 OK then raw stream" behaviour work,
//! and so that the write side can be half-closed while reading continues.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use crate::conn::Conn;
use crate::error::{Error, Result};

const MAX_HEADER_BYTES: usize = 64 * 1024;
const MAX_ERROR_BODY: usize = 1024 * 1024;

/// A bidirectional byte stream to the daemon after a successful hijack.
///
/// Reading yields the container's output (raw with a TTY, multiplexed
/// frames otherwise — see [`crate::demux_to`]); writing sends stdin.
/// [`Hijacked::close_write`] (or `AsyncWriteExt::shutdown`) half-closes the
/// write side, signalling EOF on the container's stdin, while reads continue.
/// Use [`tokio::io::split`] to read and write from different tasks.
#[derive(Debug)]
pub struct Hijacked {
    conn: Conn,
    pending: BytesMut,
    status: u16,
    headers: Vec<(String, String)>,
}

impl Hijacked {
    /// Status of the hijack response (101, or 200 for servers that do not upgrade).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Response headers (names lower-cased).
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// A response header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `Content-Type` of the response, if any.
    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }

    /// True when the server declared `application/vnd.docker.multiplexed-stream`.
    /// (Older daemons always say `raw-stream`; prefer the container's `Tty`
    /// setting to decide whether to demultiplex.)
    pub fn is_multiplexed(&self) -> bool {
        self.content_type()
            .is_some_and(|c| c.contains("multiplexed-stream"))
    }

    /// Half-close: shut down the write side (stdin EOF) while keeping reads open.
    pub async fn close_write(&mut self) -> io::Result<()> {
        self.conn.shutdown().await
    }

    /// Split into independently usable read and write halves.
    pub fn split(
        self,
    ) -> (
        tokio::io::ReadHalf<Hijacked>,
        tokio::io::WriteHalf<Hijacked>,
    ) {
        tokio::io::split(self)
    }
}

impl AsyncRead for Hijacked {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.pending.is_empty() {
            let n = this.pending.len().min(buf.remaining());
            buf.put_slice(&this.pending[..n]);
            this.pending.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.conn).poll_read(cx, buf)
    }
}

impl AsyncWrite for Hijacked {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().conn).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().conn).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().conn).poll_shutdown(cx)
    }
}

/// Parsed response head.
#[derive(Debug, PartialEq)]
pub(crate) struct Head {
    pub status: u16,
    pub headers: Vec<(String, String)>,
}

/// Parse `HTTP/1.x NNN reason\r\nName: value\r\n...` (without the final blank line).
pub(crate) fn parse_head(text: &str) -> Option<Head> {
    let mut lines = text.split("\r\n").flat_map(|l| l.split('\n'));
    let status_line = lines.next()?;
    let mut parts = status_line.splitn(3, ' ');
    let proto = parts.next()?;
    if !proto.starts_with("HTTP/") {
        return None;
    }
    let status: u16 = parts.next()?.trim().parse().ok()?;
    let mut headers = Vec::new();
    for line in lines {
        if line.is_empty() {
            continue;
        }
        let (k, v) = line.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    Some(Head { status, headers })
}

fn find_head_end(buf: &[u8]) -> Option<(usize, usize)> {
    if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
        return Some((p, p + 4));
    }
    buf.windows(2)
        .position(|w| w == b"\n\n")
        .map(|p| (p, p + 2))
}

/// Decode a chunked body held entirely in `data`. Returns None if incomplete.
fn dechunk(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = data;
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size_str = std::str::from_utf8(&rest[..line_end]).ok()?;
        let size = usize::from_str_radix(size_str.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        if rest.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

pub(crate) async fn hijack(
    mut conn: Conn,
    host_str: &str,
    method: &str,
    path_and_query: &str,
    http_host: &str,
    body: &[u8],
    content_type: Option<&str>,
) -> Result<Hijacked> {
    let proto = |message: String| Error::Protocol {
        host: host_str.to_string(),
        message,
    };
    let mut req = format!(
        "{method} {path_and_query} HTTP/1.1\r\nHost: {http_host}\r\nUser-Agent: {}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n",
        crate::USER_AGENT
    );
    req.push_str(&format!(
        "Content-Type: {}\r\n",
        content_type.unwrap_or("text/plain")
    ));
    if !body.is_empty() {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    let mut out = req.into_bytes();
    out.extend_from_slice(body);
    conn.write_all(&out).await?;
    conn.flush().await?;

    let mut buf = BytesMut::with_capacity(4096);
    let (head_end, body_start) = loop {
        if let Some(pos) = find_head_end(&buf) {
            break pos;
        }
        if buf.len() > MAX_HEADER_BYTES {
            return Err(proto("response headers too large".into()));
        }
        let n = conn.read_buf(&mut buf).await?;
        if n == 0 {
            return Err(proto(
                "connection closed before response headers were received".into(),
            ));
        }
    };
    let head_text = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let head = parse_head(&head_text)
        .ok_or_else(|| proto(format!("malformed response: {head_text:?}")))?;
    buf.advance(body_start);

    if head.status == 101 || head.status == 200 {
        return Ok(Hijacked {
            conn,
            pending: buf,
            status: head.status,
            headers: head.headers,
        });
    }

    // Error: read the body (Content-Length, chunked, or until EOF) and report it.
    let get = |n: &str| {
        head.headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
    };
    let content_length: Option<usize> = get("content-length").and_then(|v| v.parse().ok());
    let chunked =
        get("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    loop {
        if let Some(cl) = content_length {
            if buf.len() >= cl {
                buf.truncate(cl);
                break;
            }
        }
        if chunked && dechunk(&buf).is_some() {
            break;
        }
        if buf.len() > MAX_ERROR_BODY {
            break;
        }
        let n = conn.read_buf(&mut buf).await.unwrap_or(0);
        if n == 0 {
            break;
        }
    }
    let body = if chunked {
        dechunk(&buf).unwrap_or_else(|| buf.to_vec())
    } else {
        buf.to_vec()
    };
    Err(Error::from_response(head.status, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_upgrade_head() {
        let h = parse_head("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp").unwrap();
        assert_eq!(h.status, 101);
        assert_eq!(
            h.headers[0],
            (
                "content-type".to_string(),
                "application/vnd.docker.raw-stream".to_string()
            )
        );
        assert!(parse_head("garbage").is_none());
        assert_eq!(parse_head("HTTP/1.0 404 Not Found").unwrap().status, 404);
    }

    #[test]
    fn head_end_and_chunks() {
        assert_eq!(
            find_head_end(b"HTTP/1.1 200 OK\r\n\r\nrest"),
            Some((15, 19))
        );
        assert_eq!(
            dechunk(b"5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n").unwrap(),
            b"hello!"
        );
        assert!(dechunk(b"5\r\nhel").is_none());
    }

    #[tokio::test]
    async fn hijack_over_unix_socket() {
        let dir = std::env::temp_dir().join(format!("ac-hj-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let sock = dir.join("s");
        let _ = std::fs::remove_file(&sock);
        let listener = tokio::net::UnixListener::bind(&sock).unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut req = Vec::new();
            let mut b = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = s.read(&mut b).await.unwrap();
                req.extend_from_slice(&b[..n]);
            }
            let text = String::from_utf8_lossy(&req).to_string();
            assert!(text.starts_with("POST /v1.41/containers/x/attach?stream=1 HTTP/1.1\r\n"));
            assert!(text.contains("Upgrade: tcp"));
            // Upgrade response with some stream bytes in the same write.
            s.write_all(b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nhi ").await.unwrap();
            // Echo stdin until EOF (half-close), then close.
            let mut all = Vec::new();
            s.read_to_end(&mut all).await.unwrap();
            s.write_all(&all).await.unwrap();
        });
        let host = format!("unix://{}", sock.display());
        let conn = Conn::connect(&crate::Host::parse(&host).unwrap(), &host, None)
            .await
            .unwrap();
        let mut h = hijack(
            conn,
            &host,
            "POST",
            "/v1.41/containers/x/attach?stream=1",
            "x",
            b"",
            None,
        )
        .await
        .unwrap();
        assert_eq!(h.status(), 101);
        assert!(!h.is_multiplexed());
        h.write_all(b"stdin data").await.unwrap();
        h.close_write().await.unwrap();
        let mut out = Vec::new();
        h.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, b"hi stdin data");
        server.await.unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn hijack_error_body() {
        let dir = std::env::temp_dir().join(format!("ac-hj2-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let sock = dir.join("s");
        let _ = std::fs::remove_file(&sock);
        let listener = tokio::net::UnixListener::bind(&sock).unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut b = [0u8; 4096];
            let _ = s.read(&mut b).await.unwrap();
            let body = br#"{"message":"No such container: x"}"#;
            let resp = format!("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", body.len());
            s.write_all(resp.as_bytes()).await.unwrap();
            s.write_all(body).await.unwrap();
            // keep the connection open to prove we honour Content-Length
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        });
        let host = format!("unix://{}", sock.display());
        let conn = Conn::connect(&crate::Host::parse(&host).unwrap(), &host, None)
            .await
            .unwrap();
        let err = hijack(conn, &host, "POST", "/containers/x/attach", "x", b"", None)
            .await
            .unwrap_err();
        match err {
            Error::Api { status, message } => {
                assert_eq!(status, 404);
                assert_eq!(message, "No such container: x");
            }
            other => panic!("unexpected {other:?}"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
