//! The Docker Engine API over HTTP/1.1 on unix and TCP sockets.
//!
//! **API Boundary:** this crate is the only one that knows HTTP. A handler
//! parses its request, calls one engine method and maps the result; errors
//! become statuses in [`error_response`] alone.

mod body;
pub mod compat;
mod routes;
pub mod tls;

use base::{Error, ErrorKind};
pub use body::Body;
use bytes::Bytes;
use engine::system::{API_VERSION, MIN_API_VERSION};
use engine::Engine;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tracing::Instrument;

pub type Resp = Response<Body>;

/// Where the API listens.
#[derive(Debug, Clone)]
pub enum Listen {
    Unix(std::path::PathBuf),
    Tcp(std::net::SocketAddr),
}

impl Listen {
    /// Parses dockerd's `-H` forms: `unix:///path`, `tcp://host:port`, `fd://` is refused.
    pub fn parse(s: &str) -> Result<Listen, String> {
        if let Some(p) = s.strip_prefix("unix://") {
            return Ok(Listen::Unix(p.into()));
        }
        if let Some(a) = s.strip_prefix("tcp://") {
            let a = if a.contains(':') {
                a.to_string()
            } else {
                format!("{a}:2375")
            };
            return a
                .parse()
                .map(Listen::Tcp)
                .map_err(|e| format!("invalid tcp address {s}: {e}"));
        }
        if s.starts_with('/') {
            return Ok(Listen::Unix(s.into()));
        }
        Err(format!(
            "unsupported host {s}: use unix:///path or tcp://host:port"
        ))
    }
}

/// Everything a handler may use besides the request.
pub struct Ctx {
    pub engine: Arc<Engine>,
    query: HashMap<String, Vec<String>>,
    /// The API version of the request's path (None: the newest).
    version: Option<(u32, u32)>,
}

impl Ctx {
    /// The request's API version (the current one when the path has none).
    pub fn api(&self) -> compat::ApiVersion {
        self.version
            .map(|(a, b)| compat::ApiVersion(a, b))
            .unwrap_or(compat::ApiVersion::CURRENT)
    }

    /// The first value of a query parameter, as Go's `FormValue` takes it
    /// for dockerd (docker-py sends `dockerfile` twice, name then content,
    /// for a Dockerfile outside the context).
    pub fn q(&self, k: &str) -> Option<&str> {
        self.query
            .get(k)
            .and_then(|v| v.first())
            .map(String::as_str)
    }
    /// All values of a repeated query parameter.
    pub fn q_all(&self, k: &str) -> Vec<String> {
        self.query.get(k).cloned().unwrap_or_default()
    }
    /// Docker's boolean query values: `1`/`true`/`True` (anything but `0`/`false`/empty).
    pub fn flag(&self, k: &str) -> bool {
        self.q(k)
            .is_some_and(|v| !matches!(v, "" | "0" | "false" | "False" | "FALSE"))
    }
    pub fn int(&self, k: &str) -> Result<Option<i64>, Error> {
        match self.q(k).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| Error::invalid(format!("invalid value for {k}: {v:?}"))),
        }
    }
    /// The `filters` parameter in either of Docker's JSON shapes.
    pub fn filters(&self) -> Result<engine::containers::Filters, Error> {
        let Some(raw) = self.q("filters").filter(|s| !s.is_empty()) else {
            return Ok(Default::default());
        };
        let v: serde_json::Value = serde_json::from_str(raw)
            .map_err(|e| Error::invalid(format!("invalid filter: {e}")))?;
        let mut out = engine::containers::Filters::new();
        for (k, vals) in v
            .as_object()
            .ok_or_else(|| Error::invalid("invalid filter: not an object"))?
        {
            let list = match vals {
                serde_json::Value::Array(a) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect(),
                serde_json::Value::Object(m) => m
                    .iter()
                    .filter(|(_, b)| b.as_bool() == Some(true))
                    .map(|(s, _)| s.clone())
                    .collect(),
                _ => return Err(Error::invalid(format!("invalid filter '{k}'"))),
            };
            out.insert(k.clone(), list);
        }
        Ok(out)
    }
}

/// The status for an error kind; the one place this mapping exists.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::InvalidArgument => StatusCode::BAD_REQUEST,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::NotModified => StatusCode::NOT_MODIFIED,
        ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::NotImplemented => StatusCode::NOT_IMPLEMENTED,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Docker's error response: the status and `{"message": ...}`.
pub fn error_response(e: &Error) -> Resp {
    let status = status_of(e.kind);
    if status == StatusCode::NOT_MODIFIED {
        return Response::builder()
            .status(status)
            .body(Body::empty())
            .expect("valid response");
    }
    json_status(status, &serde_json::json!({ "message": e.message }))
}

pub fn json_status(status: StatusCode, v: &impl serde::Serialize) -> Resp {
    let mut b = serde_json::to_vec(v).unwrap_or_default();
    b.push(b'\n');
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .body(Body::full(Bytes::from(b)))
        .expect("valid response")
}

pub fn json(v: &impl serde::Serialize) -> Resp {
    json_status(StatusCode::OK, v)
}

pub fn no_content() -> Resp {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::empty())
        .expect("valid response")
}

/// Splits `/v1.45/containers/json` into the version and the rest.
fn split_version(path: &str) -> (Option<&str>, &str) {
    if let Some(rest) = path.strip_prefix("/v") {
        if let Some(i) = rest.find('/') {
            let v = &rest[..i];
            if !v.is_empty() && v.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
                return (Some(v), &rest[i..]);
            }
        }
    }
    (None, path)
}

fn version_num(v: &str) -> (u32, u32) {
    let (a, b) = v.split_once('.').unwrap_or((v, "0"));
    (a.parse().unwrap_or(0), b.parse().unwrap_or(0))
}

fn check_version(v: &str) -> Result<(), Error> {
    if version_num(v) > version_num(API_VERSION) {
        return Err(Error::invalid(format!(
            "client version {v} is too new. Maximum supported API version is {API_VERSION}"
        )));
    }
    if version_num(v) < version_num(MIN_API_VERSION) {
        return Err(Error::invalid(format!(
            "client version {v} is too old. Minimum supported API version is {MIN_API_VERSION}, please upgrade your client to a newer version"
        )));
    }
    Ok(())
}

async fn handle(engine: Arc<Engine>, req: Request<Incoming>) -> Resp {
    let path = req.uri().path().to_string();
    let (version, rest) = split_version(&path);
    let mut resp = match version.map(check_version).unwrap_or(Ok(())) {
        Err(e) => error_response(&e),
        Ok(()) => {
            let segs: Vec<String> = rest
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| {
                    percent_encoding::percent_decode_str(s)
                        .decode_utf8_lossy()
                        .into_owned()
                })
                .collect();
            let mut query: HashMap<String, Vec<String>> = HashMap::new();
            for (k, v) in form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes()) {
                query
                    .entry(k.into_owned())
                    .or_default()
                    .push(v.into_owned());
            }
            let ctx = Ctx {
                engine,
                query,
                version: version.map(version_num),
            };
            match routes::dispatch(ctx, req, segs).await {
                Ok(r) => r,
                Err(e) => error_response(&e),
            }
        }
    };
    let h = resp.headers_mut();
    h.insert("Api-Version", HeaderValue::from_static(API_VERSION));
    h.insert("Docker-Experimental", HeaderValue::from_static("false"));
    h.insert("Ostype", HeaderValue::from_static("linux"));
    h.insert(
        "Server",
        HeaderValue::from_static(concat!("Docker/", env!("CARGO_PKG_VERSION"), " (linux)")),
    );
    resp
}

static REQUEST_ID: AtomicU64 = AtomicU64::new(1);

/// Runs a request's handler; a panic in it is logged with the request id
/// and answered with a 500, and the daemon goes on serving.
async fn guarded(id: u64, f: impl std::future::Future<Output = Resp>) -> Resp {
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(f).catch_unwind().await {
        Ok(r) => r,
        Err(p) => {
            let what = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(request = id, panic = %what, "a handler panicked");
            error_response(&Error::internal(format!(
                "internal error: the daemon's handler for request {id} failed (see the daemon's log)"
            )))
        }
    }
}

/// `peer_fd`: the connection's socket when it is a unix one (see
/// [`routes::ConnFd`]).
async fn serve_conn<S>(engine: Arc<Engine>, io: S, peer_fd: Option<std::os::fd::RawFd>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let svc = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        if let Some(fd) = peer_fd {
            req.extensions_mut().insert(routes::ConnFd(fd));
        }
        let engine = engine.clone();
        let id = REQUEST_ID.fetch_add(1, Ordering::Relaxed);
        let span =
            tracing::debug_span!("request", id, method = %req.method(), path = %req.uri().path());
        async move {
            let method = req.method().clone();
            let uri = req.uri().path().to_string();
            let r = guarded(id, handle(engine, req)).await;
            tracing::debug!(%method, %uri, status = r.status().as_u16(), "served");
            Ok::<_, std::convert::Infallible>(r)
        }
        .instrument(span)
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(io), svc)
        .with_upgrades();
    if let Err(e) = conn.await {
        tracing::debug!(error = %e, "connection ended");
    }
}

/// How the listeners are served.
#[derive(Default, Clone)]
pub struct ServeOptions {
    /// The unix sockets' group (`-G`).
    pub socket_gid: Option<u32>,
    /// TLS on the TCP listeners (`--tls`, `--tlsverify`).
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

/// Binds every listener and serves until the process ends. Unix sockets
/// are mode 0660, owned by the `socket_gid` group when given: membership of
/// that group grants access, nothing else does (as dockerd's `-G`). TCP
/// listeners speak TLS when `tls` is set.
pub async fn serve(
    engine: Arc<Engine>,
    listeners: Vec<Listen>,
    opts: ServeOptions,
) -> std::io::Result<()> {
    let socket_gid = opts.socket_gid;
    let mut tasks = Vec::new();
    for l in listeners {
        match l {
            Listen::Unix(path) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let _ = std::fs::remove_file(&path);
                let listener = tokio::net::UnixListener::bind(&path)?;
                std::fs::set_permissions(
                    &path,
                    std::os::unix::fs::PermissionsExt::from_mode(0o660),
                )?;
                if let Some(gid) = socket_gid {
                    std::os::unix::fs::chown(&path, None, Some(gid))?;
                }
                tracing::info!(path = %path.display(), "API listening on unix socket");
                let engine = engine.clone();
                tasks.push(tokio::spawn(async move {
                    loop {
                        if let Ok((s, _)) = listener.accept().await {
                            let fd = std::os::fd::AsRawFd::as_raw_fd(&s);
                            tokio::spawn(serve_conn(engine.clone(), s, Some(fd)));
                        }
                    }
                }));
            }
            Listen::Tcp(addr) => {
                let listener = tokio::net::TcpListener::bind(addr).await?;
                tracing::info!(%addr, tls = opts.tls.is_some(), "API listening on tcp");
                let engine = engine.clone();
                let tls = opts.tls.clone().map(tokio_rustls::TlsAcceptor::from);
                tasks.push(tokio::spawn(async move {
                    loop {
                        let Ok((s, peer)) = listener.accept().await else {
                            continue;
                        };
                        let _ = s.set_nodelay(true);
                        let engine = engine.clone();
                        match &tls {
                            None => {
                                tokio::spawn(serve_conn(engine, s, None));
                            }
                            Some(acceptor) => {
                                let acceptor = acceptor.clone();
                                tokio::spawn(async move {
                                    // A client without an acceptable
                                    // certificate ends here.
                                    match acceptor.accept(s).await {
                                        Ok(t) => serve_conn(engine, t, None).await,
                                        Err(e) => {
                                            tracing::debug!(%peer, error = %e, "TLS handshake failed")
                                        }
                                    }
                                });
                            }
                        }
                    }
                }));
            }
        }
    }
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}

/// Whether a request is a GET or HEAD (for `/_ping`).
pub(crate) fn is_head(m: &Method) -> bool {
    *m == Method::HEAD
}

#[cfg(test)]
mod panic_tests {
    #[tokio::test]
    async fn a_panicking_handler_is_a_500_and_the_next_request_is_served() {
        let failing = async {
            if std::hint::black_box(true) {
                panic!("deliberate");
            }
            super::no_content()
        };
        let r = super::guarded(7, failing).await;
        assert_eq!(r.status(), 500);
        let body = http_body_util::BodyExt::collect(r.into_body())
            .await
            .unwrap()
            .to_bytes();
        assert!(String::from_utf8_lossy(&body).contains("request 7"));
        let r = super::guarded(8, async { super::no_content() }).await;
        assert_eq!(r.status(), 204);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(
            split_version("/v1.45/containers/json"),
            (Some("1.45"), "/containers/json")
        );
        assert_eq!(
            split_version("/containers/json"),
            (None, "/containers/json")
        );
        assert_eq!(split_version("/version"), (None, "/version"));
        assert!(check_version("1.45").is_ok());
        assert!(check_version("1.99")
            .unwrap_err()
            .message
            .contains("too new"));
        assert!(check_version("1.12")
            .unwrap_err()
            .message
            .contains("too old"));
    }

    #[test]
    fn statuses() {
        assert_eq!(error_response(&Error::not_found("x")).status(), 404);
        assert_eq!(error_response(&Error::conflict("x")).status(), 409);
        assert_eq!(error_response(&Error::not_modified("x")).status(), 304);
    }

    #[test]
    fn listen_forms() {
        assert!(matches!(
            Listen::parse("unix:///run/x.sock"),
            Ok(Listen::Unix(_))
        ));
        assert!(matches!(
            Listen::parse("tcp://127.0.0.1:2375"),
            Ok(Listen::Tcp(_))
        ));
        assert!(Listen::parse("fd://").is_err());
    }
}
