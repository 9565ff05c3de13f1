//! Async client for the Docker Engine API (as served by `berthd` or `dockerd`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), api_client::Error> {
//! let client = api_client::Client::from_env()?;          // BERTH_HOST / DOCKER_HOST
//! let info: serde_json::Value = client.get_json("/info", &[]).await?;
//! let list: Vec<serde_json::Value> = client.get_json("/containers/json", &[("all", "1")]).await?;
//! let created: serde_json::Value = client
//!     .post_json("/containers/create", &[("name", "web")], Some(&serde_json::json!({"Image": "busybox"})))
//!     .await?;
//! client.delete("/containers/web", &[("force", "1")]).await?;
//! # let _ = (info, list, created); Ok(()) }
//! ```
//!
//! * Every path is relative to the API root and gets a `/v1.NN` prefix, where
//!   `NN` is negotiated once per client via `GET /_ping` (`Api-Version`
//!   header, capped at [`MAX_API_VERSION`]) unless pinned with
//!   [`Client::with_version`] or `DOCKER_API_VERSION` / `BERTH_API_VERSION`.
//! * Non-2xx/3xx responses become [`Error::Api`] with the daemon's message.
//! * Each request uses a fresh connection (cheap on a unix socket), so a
//!   [`Client`] can be cloned and used concurrently.
//! * [`Client::stream`] returns after the headers, for `logs?follow=1`,
//!   `events`, pull progress and `wait` (whose body arrives at exit).
//! * [`Client::hijack`] upgrades a connection for `attach` / `exec start`.
//! * [`demux_to`] / [`FrameDecoder`] decode the 8-byte-header stream framing.

mod body;
mod conn;
mod error;
mod frames;
mod hijack;
mod host;
pub mod tls;

use std::sync::Arc;

use http::Method;
use hyper_util::rt::TokioIo;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::de::DeserializeOwned;
use tokio::sync::OnceCell;

pub use body::{Body, Response};

/// A connected byte stream to the daemon ([`Client::dial`]).
#[derive(Debug)]
pub struct Dialed(conn::Conn);

impl tokio::io::AsyncRead for Dialed {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Dialed {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}
pub use error::{Error, Result};
pub use frames::{
    demux_all, demux_to, encode_frame, read_frame, Frame, FrameDecoder, StreamType,
    FRAME_HEADER_LEN,
};
pub use hijack::Hijacked;
pub use host::{Host, DEFAULT_HOST, DEFAULT_TCP_PORT};
pub use http::Method as HttpMethod;

/// Highest API version this client speaks.
pub const MAX_API_VERSION: &str = "1.50";
/// Version assumed when the daemon's `/_ping` has no `Api-Version` header
/// (same fallback as the Docker CLI).
pub const FALLBACK_API_VERSION: &str = "1.24";
/// `User-Agent` sent with every request.
pub const USER_AGENT: &str = concat!("berth-client/", env!("CARGO_PKG_VERSION"));

/// Characters left unescaped in query values (RFC 3986 unreserved).
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Information returned by `GET /_ping`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ping {
    /// `Api-Version` header.
    pub api_version: Option<String>,
    /// `OSType` header.
    pub os_type: Option<String>,
    /// `Server` header.
    pub server: Option<String>,
    /// `Docker-Experimental` header == "true".
    pub experimental: bool,
}

/// Handle to one daemon. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    host: Host,
    host_str: String,
    version: OnceCell<String>,
    /// TLS on a TCP host (`--tls`, `--tlsverify`).
    tls: Option<Arc<rustls::ClientConfig>>,
}

/// Compare two dotted API versions numerically (`"1.9" < "1.41"`).
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let parse = |s: &str| -> Vec<u64> {
        s.trim()
            .split('.')
            .map(|p| p.parse().unwrap_or(0))
            .collect()
    };
    let (pa, pb) = (parse(a), parse(b));
    let n = pa.len().max(pb.len());
    for i in 0..n {
        let (x, y) = (
            pa.get(i).copied().unwrap_or(0),
            pb.get(i).copied().unwrap_or(0),
        );
        match x.cmp(&y) {
            std::cmp::Ordering::Equal => continue,
            o => return o,
        }
    }
    std::cmp::Ordering::Equal
}

/// The version the client will use given the server's `Api-Version` header:
/// `min(server, MAX_API_VERSION)`, or [`FALLBACK_API_VERSION`] when absent.
pub fn negotiate_version(server_header: Option<&str>) -> String {
    match server_header.map(str::trim).filter(|s| !s.is_empty()) {
        None => FALLBACK_API_VERSION.to_string(),
        Some(v) => {
            if compare_versions(v, MAX_API_VERSION) == std::cmp::Ordering::Less {
                v.to_string()
            } else {
                MAX_API_VERSION.to_string()
            }
        }
    }
}

/// Encode query pairs as `a=b&c=d` (no leading `?`).
pub fn encode_query(query: &[(&str, &str)]) -> String {
    query
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, QUERY),
                utf8_percent_encode(v, QUERY)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl Client {
    /// Client for `host` (`unix:///path`, `tcp://host:port`, `http://host:port`
    /// or an absolute socket path). Does not connect yet.
    pub fn new(host: &str) -> Result<Client> {
        let parsed = Host::parse(host)?;
        Ok(Client {
            inner: Arc::new(Inner {
                host: parsed,
                host_str: host.trim().to_string(),
                version: OnceCell::new(),
                tls: None,
            }),
        })
    }

    /// A raw byte stream to the daemon (for `system dial-stdio`, which
    /// relays an ssh session to the local socket).
    pub async fn dial(&self) -> Result<Dialed> {
        conn::Conn::connect(
            &self.inner.host,
            &self.inner.host_str,
            self.inner.tls.as_ref(),
        )
        .await
        .map(Dialed)
    }

    /// This client speaking TLS to its TCP host.
    pub fn with_tls(self, o: &tls::TlsOptions) -> Result<Client> {
        let cfg = tls::client_config(o)?;
        let inner = Inner {
            host: self.inner.host.clone(),
            host_str: self.inner.host_str.clone(),
            version: self.inner.version.clone(),
            tls: Some(cfg),
        };
        Ok(Client {
            inner: Arc::new(inner),
        })
    }

    /// Client for `host` with the API version pinned (no `/_ping` negotiation).
    pub fn with_version(host: &str, version: &str) -> Result<Client> {
        let c = Client::new(host)?;
        let _ = c
            .inner
            .version
            .set(version.trim_start_matches('v').to_string());
        Ok(c)
    }

    /// Client for `$BERTH_HOST`, else `$DOCKER_HOST`, else [`DEFAULT_HOST`].
    /// `$BERTH_API_VERSION` / `$DOCKER_API_VERSION` pin the API version.
    pub fn from_env() -> Result<Client> {
        let host = Self::host_from_env();
        let version = ["BERTH_API_VERSION", "DOCKER_API_VERSION"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
        match version {
            Some(v) => Client::with_version(&host, &v),
            None => Client::new(&host),
        }
    }

    /// The host `from_env` would use.
    pub fn host_from_env() -> String {
        ["BERTH_HOST", "DOCKER_HOST"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
            .unwrap_or_else(|| DEFAULT_HOST.to_string())
    }

    /// The host string this client was created with.
    pub fn host(&self) -> &str {
        &self.inner.host_str
    }

    /// `GET /_ping` (unversioned). Succeeds if the daemon answered at all.
    pub async fn ping(&self) -> Result<Ping> {
        let resp = self
            .send(Method::GET, "/_ping".to_string(), &[], Body::empty())
            .await?;
        let h = |n: &str| resp.header(n).map(str::to_string);
        let ping = Ping {
            api_version: h("api-version"),
            os_type: h("ostype"),
            server: h("server"),
            experimental: resp.header("docker-experimental") == Some("true"),
        };
        let status = resp.status();
        if status >= 400 && ping.api_version.is_none() {
            let body = resp.bytes().await.unwrap_or_default();
            return Err(Error::from_response(status, &body));
        }
        Ok(ping)
    }

    /// The negotiated API version (e.g. `"1.41"`), pinging once if needed.
    pub async fn api_version(&self) -> Result<String> {
        self.inner
            .version
            .get_or_try_init(|| async {
                let ping = self.ping().await?;
                Ok(negotiate_version(ping.api_version.as_deref()))
            })
            .await
            .cloned()
    }

    /// Build the versioned request target: `/v1.NN{path}?{query}`.
    pub async fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<String> {
        let v = self.api_version().await?;
        let path = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        };
        let mut url = format!("/v{v}{path}");
        if !query.is_empty() {
            url.push('?');
            url.push_str(&encode_query(query));
        }
        Ok(url)
    }

    async fn send(
        &self,
        method: Method,
        target: String,
        headers: &[(&str, &str)],
        body: Body,
    ) -> Result<Response> {
        let conn = conn::Conn::connect(
            &self.inner.host,
            &self.inner.host_str,
            self.inner.tls.as_ref(),
        )
        .await?;
        let proto = |e: &dyn std::fmt::Display| Error::Protocol {
            host: self.inner.host_str.clone(),
            message: e.to_string(),
        };
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(conn))
            .await
            .map_err(|e| proto(&e))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let mut builder = http::Request::builder()
            .method(method)
            .uri(target)
            .header(http::header::HOST, self.inner.host.http_host())
            .header(http::header::USER_AGENT, USER_AGENT);
        if let Some(ct) = &body.content_type {
            builder = builder.header(http::header::CONTENT_TYPE, ct.as_str());
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let req = builder.body(body).map_err(|e| proto(&e))?;
        let resp = sender.send_request(req).await.map_err(|e| proto(&e))?;
        Ok(Response::new(resp))
    }

    /// Send a request and return the response once its headers arrive.
    /// Statuses >= 400 are turned into [`Error::Api`] (body read and parsed).
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Body,
    ) -> Result<Response> {
        self.request_with_headers(method, path, query, &[], body)
            .await
    }

    /// Like [`Client::request`], with extra request headers (e.g.
    /// `X-Registry-Auth` for pull/push).
    pub async fn request_with_headers(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        body: Body,
    ) -> Result<Response> {
        let target = self.url(path, query).await?;
        let resp = self.send(method, target, headers, body).await?;
        let status = resp.status();
        if status >= 400 {
            let body = resp.bytes().await.unwrap_or_default();
            return Err(Error::from_response(status, &body));
        }
        Ok(resp)
    }

    /// Like [`Client::request`]; the name documents intent: the caller will
    /// consume the body incrementally (`chunk`, `next_line`, `next_json`, `AsyncRead`).
    pub async fn stream(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Body,
    ) -> Result<Response> {
        self.request(method, path, query, body).await
    }

    /// Like [`Client::stream`], with extra request headers (e.g.
    /// `X-Registry-Auth` for `POST /images/create` and `/images/{name}/push`).
    pub async fn stream_with_headers(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        body: Body,
    ) -> Result<Response> {
        self.request_with_headers(method, path, query, headers, body)
            .await
    }

    /// `GET path?query`, decoding the JSON body.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T> {
        self.request(Method::GET, path, query, Body::empty())
            .await?
            .json()
            .await
    }

    /// `POST path?query` with an optional JSON body, decoding the JSON
    /// response (an empty body, e.g. 204/304, decodes as `null`, so use
    /// `serde_json::Value` or `()`-like `Option<T>` when none is expected).
    pub async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<T> {
        let body = match body {
            Some(v) => Body::json(v)?,
            None => Body::empty(),
        };
        self.request(Method::POST, path, query, body)
            .await?
            .json()
            .await
    }

    /// `POST path?query` with an optional JSON body, discarding the response body.
    pub async fn post(
        &self,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<()> {
        let body = match body {
            Some(v) => Body::json(v)?,
            None => Body::empty(),
        };
        self.request(Method::POST, path, query, body)
            .await?
            .bytes()
            .await?;
        Ok(())
    }

    /// `DELETE path?query`, discarding the response body.
    pub async fn delete(&self, path: &str, query: &[(&str, &str)]) -> Result<()> {
        self.request(Method::DELETE, path, query, Body::empty())
            .await?
            .bytes()
            .await?;
        Ok(())
    }

    /// `DELETE path?query`, decoding the JSON response (e.g. `DELETE /images/x`).
    pub async fn delete_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T> {
        self.request(Method::DELETE, path, query, Body::empty())
            .await?
            .json()
            .await
    }

    /// Hijack a connection: sends `method path` with `Connection: Upgrade` and
    /// `Upgrade: tcp`, expects `101` (or `200` followed by a raw stream) and
    /// returns the bidirectional stream. `body` (JSON, e.g. for
    /// `POST /exec/{id}/start`) is sent with the request.
    ///
    /// `path` may include a query string (`/containers/x/attach?stream=1&stdout=1`).
    pub async fn hijack(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Hijacked> {
        let (path_only, query) = match path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path, None),
        };
        let mut target = self.url(path_only, &[]).await?;
        if let Some(q) = query {
            target.push('?');
            target.push_str(q);
        }
        let (data, ct) = match body {
            Some(v) => Body::json(v)?.into_full()?,
            None => Body::empty().into_full()?,
        };
        let conn = conn::Conn::connect(
            &self.inner.host,
            &self.inner.host_str,
            self.inner.tls.as_ref(),
        )
        .await?;
        hijack::hijack(
            conn,
            &self.inner.host_str,
            method.as_str(),
            &target,
            &self.inner.host.http_host(),
            &data,
            ct.as_deref(),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn version_compare() {
        assert_eq!(compare_versions("1.41", "1.50"), Ordering::Less);
        assert_eq!(compare_versions("1.9", "1.41"), Ordering::Less);
        assert_eq!(compare_versions("1.50", "1.50"), Ordering::Equal);
        assert_eq!(compare_versions("1.51", "1.50"), Ordering::Greater);
        assert_eq!(compare_versions("2.0", "1.99"), Ordering::Greater);
    }

    #[test]
    fn negotiation() {
        assert_eq!(negotiate_version(Some("1.41")), "1.41");
        assert_eq!(negotiate_version(Some("1.52")), "1.50");
        assert_eq!(negotiate_version(Some("1.50")), "1.50");
        assert_eq!(negotiate_version(Some(" ")), "1.24");
        assert_eq!(negotiate_version(None), "1.24");
    }

    #[test]
    fn query_encoding() {
        assert_eq!(
            encode_query(&[("a", "1"), ("filters", "{\"name\":[\"x y\"]}")]),
            "a=1&filters=%7B%22name%22%3A%5B%22x%20y%22%5D%7D"
        );
        assert_eq!(
            encode_query(&[("fromImage", "docker.io/library/busybox"), ("tag", "1.36")]),
            "fromImage=docker.io%2Flibrary%2Fbusybox&tag=1.36"
        );
        assert_eq!(encode_query(&[]), "");
    }

    #[test]
    fn client_construction() {
        let c = Client::new("unix:///tmp/x.sock").unwrap();
        assert_eq!(c.host(), "unix:///tmp/x.sock");
        assert!(Client::new("ssh://foo").is_ok(), "ssh hosts are supported");
        assert!(Client::new("npipe:////./pipe/x").is_err());
    }

    /// A tiny HTTP/1.1 server on a unix socket answering each connection with
    /// a canned response chosen by request line.
    async fn fake_daemon(dir: &std::path::Path) -> String {
        let sock = dir.join("d.sock");
        let _ = std::fs::remove_file(&sock);
        let listener = tokio::net::UnixListener::bind(&sock).unwrap();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            loop {
                let Ok((mut s, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let mut req = Vec::new();
                    let mut b = [0u8; 4096];
                    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                        let n = s.read(&mut b).await.unwrap();
                        if n == 0 {
                            return;
                        }
                        req.extend_from_slice(&b[..n]);
                    }
                    let text = String::from_utf8_lossy(&req).to_string();
                    let line = text.lines().next().unwrap().to_string();
                    let (status, body): (&str, String) = if line.starts_with("GET /_ping ") {
                        ("200 OK", "OK".into())
                    } else if line.starts_with("GET /v1.41/containers/json?all=1 ") {
                        ("200 OK", "[{\"Id\":\"abc\"}]".into())
                    } else if line.starts_with("GET /v1.41/containers/nope/json ") {
                        (
                            "404 Not Found",
                            "{\"message\":\"No such container: nope\"}".into(),
                        )
                    } else if line.starts_with("POST /v1.41/images/127.0.0.1:5000/x/y/push?tag=v1 ")
                    {
                        // Echo the auth header, to check it was sent.
                        let auth = text
                            .lines()
                            .find_map(|l| {
                                l.split_once(':')
                                    .filter(|(k, _)| k.eq_ignore_ascii_case("x-registry-auth"))
                                    .map(|(_, v)| v.trim().to_string())
                            })
                            .unwrap_or_default();
                        ("200 OK", format!("{{\"auth\":\"{auth}\"}}"))
                    } else if line.starts_with("GET /v1.41/events ") {
                        ("200 OK", "{\"a\":1}\r\n{\"a\":2}\n\n{\"a\":3}".into())
                    } else {
                        (
                            "500 Internal Server Error",
                            format!("{{\"message\":\"unexpected {line}\"}}"),
                        )
                    };
                    let extra = if line.starts_with("GET /_ping ") {
                        "Api-Version: 1.41\r\nOSType: linux\r\n"
                    } else {
                        ""
                    };
                    let resp = format!("HTTP/1.1 {status}\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len());
                    let _ = s.write_all(resp.as_bytes()).await;
                });
            }
        });
        format!("unix://{}", sock.display())
    }

    #[tokio::test]
    async fn negotiates_and_requests() {
        let dir = std::env::temp_dir().join(format!("ac-lib-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let host = fake_daemon(&dir).await;
        let c = Client::new(&host).unwrap();
        assert_eq!(c.api_version().await.unwrap(), "1.41");
        let v: Vec<serde_json::Value> = c
            .get_json("/containers/json", &[("all", "1")])
            .await
            .unwrap();
        assert_eq!(v[0]["Id"], "abc");
        let err = c
            .get_json::<serde_json::Value>("/containers/nope/json", &[])
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(404));
        assert_eq!(
            err.to_string(),
            "Error response from daemon: No such container: nope"
        );
        let mut s = c
            .stream(Method::GET, "/events", &[], Body::empty())
            .await
            .unwrap();
        let mut got = Vec::new();
        while let Some(v) = s.next_json::<serde_json::Value>().await.unwrap() {
            got.push(v["a"].as_i64().unwrap());
        }
        assert_eq!(got, vec![1, 2, 3]);
        let mut s = c
            .stream_with_headers(
                Method::POST,
                "/images/127.0.0.1:5000/x/y/push",
                &[("tag", "v1")],
                &[("X-Registry-Auth", "e30=")],
                Body::empty(),
            )
            .await
            .unwrap();
        let v: serde_json::Value = s.next_json().await.unwrap().unwrap();
        assert_eq!(v["auth"], "e30=");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn connect_error_mentions_host() {
        let c = Client::new("unix:///nonexistent/dir/x.sock").unwrap();
        let e = c.ping().await.unwrap_err();
        assert!(matches!(e, Error::Connect { .. }));
        assert!(
            e.to_string().contains("unix:///nonexistent/dir/x.sock"),
            "{e}"
        );
    }
}
