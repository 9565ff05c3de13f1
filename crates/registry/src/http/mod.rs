//! The HTTP API: a route table over `/v2/{*rest}` (names contain `/`, so
//! [`route::Route`] parses the path itself), authentication before every
//! handler, request logging with durations, `/metrics`, and the listener
//! (plain or TLS).

mod error;
mod handlers;
mod metrics;
pub mod route;

pub use error::status_and_code;
pub use metrics::Metrics;

use crate::auth::{Access, Auth};
use crate::error::{Error, Result};
use crate::repo::Registry;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use route::Route;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// Everything a handler can reach.
pub struct AppState {
    pub registry: Registry,
    pub auth: Auth,
    pub metrics: Metrics,
    /// Whether the listener speaks TLS (for the token realm's scheme).
    pub tls: bool,
    request_ids: AtomicU64,
}

impl AppState {
    /// State for a registry served with `auth`.
    pub fn new(registry: Registry, auth: Auth, tls: bool) -> AppState {
        AppState {
            registry,
            auth,
            metrics: Metrics::default(),
            tls,
            request_ids: AtomicU64::new(1),
        }
    }
}

/// A request as handlers see it.
pub struct Req {
    pub method: Method,
    pub headers: HeaderMap,
    query: Vec<(String, String)>,
    body: std::sync::Mutex<Option<Body>>,
}

impl Req {
    fn new(method: Method, headers: HeaderMap, query: Option<&str>, body: Body) -> Req {
        let query = form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .into_owned()
            .collect();
        Req {
            method,
            headers,
            query,
            body: std::sync::Mutex::new(Some(body)),
        }
    }

    /// The first value of a query parameter.
    pub fn query(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a query parameter.
    pub fn query_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.query
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn take_body(&self) -> Body {
        self.body
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_else(Body::empty)
    }

    /// The body as a stream of chunks (counted in the metrics).
    pub fn body_stream(
        &self,
        st: &AppState,
    ) -> impl Stream<Item = std::result::Result<Bytes, axum::Error>> + Unpin + Send + 'static {
        let received = st.metrics.received_counter();
        self.take_body().into_data_stream().map(move |c| {
            if let Ok(c) = &c {
                received.fetch_add(c.len() as u64, Ordering::Relaxed);
            }
            c
        })
    }

    /// The whole body, refused past `limit` bytes.
    pub async fn body_bytes(&self, limit: u64) -> Result<Bytes> {
        let limit_usize = usize::try_from(limit).unwrap_or(usize::MAX);
        match axum::body::to_bytes(self.take_body(), limit_usize.saturating_add(1)).await {
            Ok(b) if b.len() as u64 > limit => Err(Error::ManifestTooLarge {
                size: b.len() as u64,
                limit,
            }),
            Ok(b) => Ok(b),
            Err(e) => {
                let msg = e.to_string();
                if msg.contains("length limit") {
                    Err(Error::ManifestTooLarge {
                        size: limit + 1,
                        limit,
                    })
                } else {
                    Err(Error::Body(msg))
                }
            }
        }
    }
}

/// The registry's routes (with `/metrics` when `serve_metrics`).
pub fn router(state: Arc<AppState>, serve_metrics: bool) -> Router {
    let mut r = Router::new()
        .route("/v2", any(v2))
        .route("/v2/", any(v2))
        .route("/v2/{*rest}", any(v2))
        .route("/token", get(token));
    if serve_metrics {
        r = r.route("/metrics", get(metrics));
    }
    r.fallback(|| async { Error::RouteUnknown("not a registry endpoint".into()).into_response() })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            log_requests,
        ))
        .with_state(state)
}

fn base_url(st: &AppState, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("{}://{host}", if st.tls { "https" } else { "http" })
}

async fn authorize(st: &AppState, req: &Req, needed: &[Access]) -> Result<()> {
    let auth = req
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    st.auth
        .authorize(auth, needed, &base_url(st, &req.headers))
        .await
        .map(|_| ())
}

async fn v2(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let rest = uri.path().strip_prefix("/v2").unwrap_or("");
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    let rest = percent_encoding::percent_decode_str(rest)
        .decode_utf8_lossy()
        .into_owned();
    let req = Req::new(method, headers, uri.query(), body);
    dispatch(&st, req, &rest)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// The route table: (method, route) → handler.
async fn dispatch(st: &AppState, req: Req, rest: &str) -> Result<Response> {
    use handlers as h;
    if rest.is_empty() {
        authorize(st, &req, &[]).await?;
        return Ok(([(header::CONTENT_TYPE, "application/json")], "{}").into_response());
    }
    let route = Route::parse(rest)?;
    let mount_from = req.query("mount").and(req.query("from"));
    authorize(st, &req, &route.access(&req.method, mount_from)).await?;
    let read = req.method == Method::GET || req.method == Method::HEAD;
    match (&req.method, &route) {
        (_, Route::Catalog) if req.method == Method::GET => h::catalog(st, req).await,
        (_, Route::Blob { name, digest }) if read => h::blob_get(st, req, name, digest).await,
        (&Method::DELETE, Route::Blob { name, digest }) => h::blob_delete(st, name, digest).await,
        (&Method::POST, Route::UploadStart { name }) => h::upload_start(st, req, name).await,
        (&Method::PATCH, Route::Upload { name, id }) => h::upload_patch(st, req, name, id).await,
        (&Method::PUT, Route::Upload { name, id }) => h::upload_put(st, req, name, id).await,
        (&Method::GET, Route::Upload { name, id }) => h::upload_status(st, name, id).await,
        (&Method::DELETE, Route::Upload { name, id }) => h::upload_cancel(st, name, id).await,
        (_, Route::Manifest { name, reference }) if read => {
            h::manifest_get(st, req, name, reference).await
        }
        (&Method::PUT, Route::Manifest { name, reference }) => {
            h::manifest_put(st, req, name, reference).await
        }
        (&Method::DELETE, Route::Manifest { name, reference }) => {
            h::manifest_delete(st, name, reference).await
        }
        (&Method::GET, Route::Tags { name }) => h::tags_list(st, req, name).await,
        (&Method::GET, Route::Referrers { name, digest }) => {
            h::referrers(st, req, name, digest).await
        }
        _ => Err(Error::MethodNotAllowed),
    }
}

async fn token(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if !st.auth.issues_tokens() {
        return Error::RouteUnknown("token issuing is not configured".into()).into_response();
    }
    let req = Req::new(method, headers, uri.query(), Body::empty());
    handlers::token(&st, req)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn metrics(State(st): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        st.metrics.render(),
    )
        .into_response()
}

/// Logs every request with its id, status and duration (to the response
/// head; a streamed blob body continues after), and counts it.
async fn log_requests(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let id = st.request_ids.fetch_add(1, Ordering::Relaxed);
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let span = tracing::info_span!("request", id, method = %method, path = %path);
    let start = Instant::now();
    let mut resp = next.run(req).instrument(span.clone()).await;
    let elapsed = start.elapsed();
    let status = resp.status();
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            duration_ms = elapsed.as_secs_f64() * 1e3,
            "request"
        )
    });
    st.metrics.observe(&method, status, elapsed);
    resp.headers_mut().insert(
        "docker-distribution-api-version",
        HeaderValue::from_static("registry/2.0"),
    );
    if status == StatusCode::UNAUTHORIZED && !resp.headers().contains_key(header::WWW_AUTHENTICATE)
    {
        tracing::warn!("401 without a challenge");
    }
    resp
}

/// Serves `app` on `listener` (TLS when `tls` is set) until `shutdown`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "accept");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => return Ok(()),
        };
        let _ = tcp.set_nodelay(true);
        let svc = hyper_util::service::TowerToHyperService::new(app.clone());
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let builder = hyper::server::conn::http1::Builder::new();
            let res = match acceptor {
                Some(a) => match a.accept(tcp).await {
                    Ok(s) => {
                        builder
                            .serve_connection(hyper_util::rt::TokioIo::new(s), svc)
                            .await
                    }
                    Err(e) => {
                        tracing::debug!(%peer, error = %e, "tls handshake");
                        return;
                    }
                },
                None => {
                    builder
                        .serve_connection(hyper_util::rt::TokioIo::new(tcp), svc)
                        .await
                }
            };
            if let Err(e) = res {
                tracing::debug!(%peer, error = %e, "connection");
            }
        });
    }
}
