//! The client (shared HTTP connections, TLS per registry, auth cache) and
//! the per-repository handle through which every request is made.

use crate::auth::{self, AuthCache, AuthConfig, Credential};
use crate::endpoint::{self, Endpoint, InsecureRegistries};
use crate::error::{Error, RegistryErrors, Result};
use crate::tls;
use base::Reference;
use bytes::{Bytes, BytesMut};
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{Method, StatusCode};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

/// Client configuration, mirroring dockerd's `daemon.json` keys where one exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `insecure-registries`: `host[:port]` entries and CIDRs served over plain
    /// HTTP (loopback always is).
    pub insecure_registries: Vec<String>,
    /// `registry-mirrors`: URLs tried in order for Docker Hub pulls before
    /// `registry-1.docker.io`.
    pub registry_mirrors: Vec<String>,
    /// Per-registry TLS files laid out as `<dir>/<host[:port]>/ca.crt`
    /// (and `client.cert`/`client.key`); `/etc/docker/certs.d` by default.
    pub certs_dir: Option<PathBuf>,
    pub user_agent: String,
    pub connect_timeout: Duration,
    /// Longest wait for any single read from a registry.
    pub read_timeout: Duration,
    /// Upload blobs larger than this in chunks of this size (PATCH with
    /// `Content-Range`); `None` streams every blob in one PUT.
    pub chunk_size: Option<u64>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            insecure_registries: Vec::new(),
            registry_mirrors: Vec::new(),
            certs_dir: Some(PathBuf::from("/etc/docker/certs.d")),
            user_agent: concat!("berth/", env!("CARGO_PKG_VERSION")).to_string(),
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(120),
            chunk_size: None,
        }
    }
}

/// An OCI Distribution client. Cheap to clone; clones share connections,
/// TLS configurations and cached tokens, so one client serves the daemon.
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    config: Config,
    insecure: InsecureRegistries,
    mirrors: Vec<Url>,
    roots: rustls::RootCertStore,
    default_http: reqwest::Client,
    /// HTTP clients for hosts with a `certs.d` directory, built on first use.
    host_http: Mutex<HashMap<String, reqwest::Client>>,
    auth: AuthCache,
}

/// The outcome of [`Client::check_login`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginOutcome {
    /// The registry logged in to, normalized (`docker.io` for Docker Hub).
    pub registry: String,
    /// A refresh token the token server issued, Docker's `IdentityToken`.
    pub identity_token: Option<String>,
}

impl Client {
    /// The HTTP client for URLs that are not registries (a build's
    /// `ADD <url>`): the system trust roots, the same timeouts.
    pub fn http(&self) -> &reqwest::Client {
        &self.inner.default_http
    }

    /// Builds a client: parses the mirror and insecure lists and loads the
    /// system trust roots.
    pub fn new(config: Config) -> Result<Client> {
        let insecure = InsecureRegistries::parse(&config.insecure_registries)?;
        let mirrors = endpoint::parse_mirrors(&config.registry_mirrors)?;
        let roots = tls::system_roots();
        let default_http = build_http(&config, tls::default_config(roots.clone())?, "default")?;
        Ok(Client {
            inner: Arc::new(ClientInner {
                config,
                insecure,
                mirrors,
                roots,
                default_http,
                host_http: Mutex::new(HashMap::new()),
                auth: AuthCache::default(),
            }),
        })
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Whether `domain` (`host[:port]`) is spoken to over plain HTTP.
    pub fn is_insecure(&self, domain: &str) -> bool {
        domain != endpoint::DOCKER_HUB && self.inner.insecure.is_insecure(domain)
    }

    /// A handle on the repository `name` names (its tag and digest are
    /// ignored), acting with `auth` (anonymous when empty).
    pub fn repository(&self, name: &Reference, auth: &AuthConfig) -> Result<Repository> {
        let pull =
            endpoint::pull_endpoints(&name.domain, &self.inner.insecure, &self.inner.mirrors)?;
        let origin = pull.last().cloned().expect("the origin is always present");
        Ok(Repository {
            inner: Arc::new(RepoInner {
                client: self.clone(),
                domain: name.domain.clone(),
                path: name.path.clone(),
                pull_endpoints: pull,
                origin,
                cred: auth.credential()?,
            }),
        })
    }

    /// The HTTP client for an endpoint: the shared one, or one with the
    /// host's `certs.d` trust and client certificate.
    pub(crate) fn http_for(&self, ep: &Endpoint) -> Result<reqwest::Client> {
        if ep.url.scheme() != "https" {
            return Ok(self.inner.default_http.clone());
        }
        let mut map = self.inner.host_http.lock().expect("http client map lock");
        if let Some(c) = map.get(&ep.host) {
            return Ok(c.clone());
        }
        let c = match tls::host_config(
            &self.inner.roots,
            self.inner.config.certs_dir.as_deref(),
            &ep.host,
        )? {
            Some(cfg) => build_http(&self.inner.config, cfg, &ep.host)?,
            None => self.inner.default_http.clone(),
        };
        map.insert(ep.host.clone(), c.clone());
        Ok(c)
    }

    pub(crate) fn auth(&self) -> &AuthCache {
        &self.inner.auth
    }

    /// Checks credentials as `POST /auth` does: `GET /v2/` on the registry,
    /// answering its challenge (Basic, or Bearer through the token server).
    /// `registry` may be empty to use `auth.serveraddress`; Docker Hub's
    /// addresses (`https://index.docker.io/v1/`, …) all mean `docker.io`.
    pub async fn check_login(&self, registry: &str, auth: &AuthConfig) -> Result<LoginOutcome> {
        let server = if registry.is_empty() {
            auth.serveraddress.as_str()
        } else {
            registry
        };
        let domain = endpoint::normalize_registry(server);
        let ep = endpoint::origin(&domain, &self.inner.insecure)?;
        let cred = auth.credential()?;
        let http = self.http_for(&ep)?;
        let url = ep.v2("");
        let get = |header: Option<http::HeaderValue>| {
            let mut rb = http.get(url.clone());
            if let Some(h) = header {
                rb = rb.header(AUTHORIZATION, h);
            }
            async {
                rb.send().await.map_err(|source| Error::Connection {
                    registry: domain.clone(),
                    request: crate::error::request("GET", url.to_string()),
                    source,
                })
            }
        };
        let failed = |status: StatusCode| Error::Unauthorized {
            registry: domain.clone(),
            repository: None,
            message: format!("login attempt to {url} failed with status: {status}"),
        };
        let resp = get(None).await?;
        let outcome = |identity_token| LoginOutcome {
            registry: domain.clone(),
            identity_token,
        };
        if resp.status().is_success() {
            return Ok(outcome(None));
        }
        if resp.status() != StatusCode::UNAUTHORIZED {
            return Err(failed(resp.status()));
        }
        let Some(ch) = auth::pick_challenge(challenges_of(&resp)) else {
            return Err(failed(resp.status()));
        };
        self.inner.auth.set_challenge(&ep.host, ch.clone());
        let (header, identity_token) = if ch.scheme == "bearer" {
            if cred.is_anonymous() {
                return Err(Error::Unauthorized {
                    registry: domain.clone(),
                    repository: None,
                    message: format!("login to {domain}: no credentials given"),
                });
            }
            let t = auth::fetch_token(&http, &domain, &ch, &[], &cred, true).await?;
            (Some(t.header), t.refresh_token)
        } else {
            let h = self
                .inner
                .auth
                .header(&http, &ep.host, &[], &cred, false)
                .await?;
            if h.is_none() {
                return Err(Error::Unauthorized {
                    registry: domain.clone(),
                    repository: None,
                    message: format!("login to {domain}: no basic auth credentials"),
                });
            }
            (h, None)
        };
        let resp = get(header).await?;
        if resp.status().is_success() {
            Ok(outcome(identity_token))
        } else {
            Err(failed(resp.status()))
        }
    }
}

/// One result of `GET /images/search` (`ImageSearchResponseItem`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SearchResult {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub is_official: bool,
    /// Deprecated in the API and always false, as dockerd now sends it.
    #[serde(default)]
    pub is_automated: bool,
    pub name: String,
    #[serde(default)]
    pub star_count: u64,
}

/// A search term as dockerd splits it: `host[:port]/query` searches that
/// registry, anything else Docker Hub.
pub fn search_target(term: &str) -> (String, String) {
    if let Some((first, rest)) = term.split_once('/') {
        if first.contains('.') || first.contains(':') || first == "localhost" {
            return (first.to_string(), rest.to_string());
        }
    }
    (endpoint::DOCKER_HUB.to_string(), term.to_string())
}

impl Client {
    /// `GET /images/search`: the registry's v1 search (Docker Hub's), or,
    /// for a registry without one, its `/v2/_catalog` filtered by the query
    /// (as `docker search` cannot otherwise look into a private registry).
    pub async fn search(
        &self,
        term: &str,
        limit: usize,
        auth: &AuthConfig,
    ) -> Result<Vec<SearchResult>> {
        let (domain, query) = search_target(term);
        let ep = if domain == endpoint::DOCKER_HUB {
            Endpoint::new(
                Url::parse("https://index.docker.io/").expect("a valid URL"),
                false,
            )
        } else {
            endpoint::origin(&domain, &self.inner.insecure)?
        };
        let http = self.http_for(&ep)?;
        let get = |url: Url, header: Option<http::HeaderValue>| {
            let mut rb = http.get(url.clone());
            if let Some(h) = header {
                rb = rb.header(AUTHORIZATION, h);
            }
            let domain = domain.clone();
            async move {
                rb.send().await.map_err(|source| Error::Connection {
                    registry: domain,
                    request: crate::error::request("GET", url.as_str()),
                    source,
                })
            }
        };
        let mut v1 = ep.url.join("v1/search").expect("a valid URL");
        v1.query_pairs_mut()
            .append_pair("q", &query)
            .append_pair("n", &limit.to_string());
        let resp = get(v1.clone(), None).await?;
        if resp.status().is_success() {
            #[derive(serde::Deserialize)]
            struct V1 {
                results: Vec<SearchResult>,
            }
            let bytes = resp.bytes().await.unwrap_or_default();
            let body: V1 = serde_json::from_slice(&bytes).map_err(|e| Error::Protocol {
                registry: domain.clone(),
                message: format!("search results from {v1}: {e}"),
            })?;
            return Ok(body.results.into_iter().take(limit).collect());
        }
        if domain == endpoint::DOCKER_HUB {
            return Err(Error::Protocol {
                registry: domain.clone(),
                message: format!("Unexpected status code {}", resp.status().as_u16()),
            });
        }
        // No v1 search: the catalog, with the registry's auth if it asks.
        let catalog = ep.v2("_catalog?n=10000");
        let cred = auth.credential()?;
        let mut resp = get(catalog.clone(), None).await?;
        if resp.status() == StatusCode::UNAUTHORIZED {
            if let Some(ch) = auth::pick_challenge(challenges_of(&resp)) {
                self.inner.auth.set_challenge(&ep.host, ch);
                let scopes = ["registry:catalog:*".to_string()];
                let header = self
                    .inner
                    .auth
                    .header(&http, &ep.host, &scopes, &cred, false)
                    .await?;
                resp = get(catalog.clone(), header).await?;
            }
        }
        if !resp.status().is_success() {
            return Err(Error::Protocol {
                registry: domain.clone(),
                message: format!(
                    "Unexpected status code {} from {catalog}",
                    resp.status().as_u16()
                ),
            });
        }
        #[derive(serde::Deserialize)]
        struct Catalog {
            #[serde(default)]
            repositories: Vec<String>,
        }
        let bytes = resp.bytes().await.unwrap_or_default();
        let body: Catalog = serde_json::from_slice(&bytes).map_err(|e| Error::Protocol {
            registry: domain.clone(),
            message: format!("catalog of {domain}: {e}"),
        })?;
        Ok(body
            .repositories
            .into_iter()
            .filter(|r| r.contains(&query))
            .take(limit)
            .map(|r| SearchResult {
                description: String::new(),
                is_official: false,
                is_automated: false,
                name: format!("{domain}/{r}"),
                star_count: 0,
            })
            .collect())
    }
}

fn build_http(config: &Config, tls: rustls::ClientConfig, what: &str) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .user_agent(config.user_agent.clone())
        .connect_timeout(config.connect_timeout)
        .read_timeout(config.read_timeout)
        // Registries redirect blob GETs to storage; reqwest drops the
        // Authorization header when the redirect leaves the host.
        .redirect(reqwest::redirect::Policy::limited(10))
        .build()
        .map_err(|e| Error::Tls {
            registry: what.to_string(),
            message: e.to_string(),
        })
}

pub(crate) fn challenges_of(resp: &reqwest::Response) -> Vec<auth::Challenge> {
    resp.headers()
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(auth::parse_challenges)
        .collect()
}

/// A repository on a registry, with the credentials to use. Cheap to clone;
/// every operation of a pull or push goes through one.
#[derive(Clone)]
pub struct Repository {
    pub(crate) inner: Arc<RepoInner>,
}

pub(crate) struct RepoInner {
    pub(crate) client: Client,
    pub(crate) domain: String,
    pub(crate) path: String,
    pub(crate) pull_endpoints: Vec<Endpoint>,
    pub(crate) origin: Endpoint,
    pub(crate) cred: Credential,
}

/// What a failed request was about, for choosing the error.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Subject<'a> {
    /// A manifest pull by this tag or digest.
    Manifest(&'a str),
    /// A blob pull.
    Blob(&'a base::Digest),
    /// Anything else (pushes, mounts).
    Other,
}

impl Repository {
    /// The registry domain, e.g. `docker.io` or `127.0.0.1:5000`.
    pub fn registry(&self) -> &str {
        &self.inner.domain
    }

    /// The repository path, e.g. `library/busybox`.
    pub fn path(&self) -> &str {
        &self.inner.path
    }

    /// The endpoints pulls try, in order (mirrors, then the origin).
    pub fn pull_endpoints(&self) -> &[Endpoint] {
        &self.inner.pull_endpoints
    }

    /// The name Docker shows, e.g. `busybox` or `127.0.0.1:5000/x`.
    pub fn familiar_name(&self) -> String {
        self.reference(None).familiar_name()
    }

    /// The familiar reference for a tag or digest, e.g. `127.0.0.1:5000/x:y`.
    pub(crate) fn familiar(&self, tag_or_digest: &str) -> String {
        self.reference(Some(tag_or_digest)).familiar()
    }

    fn reference(&self, tag_or_digest: Option<&str>) -> Reference {
        let digest = tag_or_digest.and_then(|r| base::Digest::parse(r).ok());
        Reference {
            domain: self.inner.domain.clone(),
            path: self.inner.path.clone(),
            tag: tag_or_digest
                .filter(|_| digest.is_none())
                .map(str::to_string),
            digest,
        }
    }

    pub(crate) fn pull_scope(&self) -> Vec<String> {
        vec![format!("repository:{}:pull", self.inner.path)]
    }

    pub(crate) fn push_scope(&self) -> Vec<String> {
        vec![format!("repository:{}:pull,push", self.inner.path)]
    }

    pub(crate) fn url(&self, ep: &Endpoint, rest: &str) -> Url {
        ep.v2(&format!("{}/{rest}", self.inner.path))
    }

    fn cred_for(&self, ep: &Endpoint) -> &Credential {
        // Credentials are for the registry itself, never for a mirror.
        static ANONYMOUS: Credential = Credential::Anonymous;
        if ep.mirror {
            &ANONYMOUS
        } else {
            &self.inner.cred
        }
    }

    /// Sends a request, answering an auth challenge: a known challenge is
    /// answered up front (cached token), and a 401 is retried once with fresh
    /// credentials when `retry` is set (requests whose body can be rebuilt).
    pub(crate) async fn send(
        &self,
        ep: &Endpoint,
        scopes: &[String],
        method: Method,
        url: Url,
        retry: bool,
        build: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response> {
        let http = self.inner.client.http_for(ep)?;
        let cred = self.cred_for(ep);
        let auth = self.inner.client.auth();
        let header = auth.header(&http, &ep.host, scopes, cred, false).await?;
        let go = |header: Option<http::HeaderValue>| {
            let mut rb = build(http.request(method.clone(), url.clone()));
            if let Some(h) = header {
                rb = rb.header(AUTHORIZATION, h);
            }
            let (registry, m, u) = (self.inner.domain.clone(), method.to_string(), url.clone());
            async move {
                rb.send().await.map_err(|source| Error::Connection {
                    registry,
                    request: crate::error::request(m, strip_query(&u)),
                    source,
                })
            }
        };
        let resp = go(header.clone()).await?;
        if resp.status() != StatusCode::UNAUTHORIZED || !retry {
            return Ok(resp);
        }
        let Some(ch) = auth::pick_challenge(challenges_of(&resp)) else {
            return Ok(resp);
        };
        let basic = ch.scheme == "basic";
        auth.set_challenge(&ep.host, ch);
        let fresh = auth.header(&http, &ep.host, scopes, cred, true).await?;
        match fresh {
            None => Ok(resp),
            // Same Basic credentials again would get the same answer.
            Some(h) if basic && header.as_ref() == Some(&h) => Ok(resp),
            Some(h) => {
                tracing::debug!(host = %ep.host, %url, "retrying with new credentials");
                go(Some(h)).await
            }
        }
    }

    /// Turns an unsuccessful response into an error, Docker's way.
    pub(crate) async fn fail(
        &self,
        resp: reqwest::Response,
        method: &Method,
        subject: Subject<'_>,
    ) -> Error {
        let status = resp.status();
        let url = resp.url().clone();
        let body = read_limited(resp, 64 * 1024).await.unwrap_or_default();
        let detail = RegistryErrors::parse(status.as_u16(), &body);
        self.error_for(subject, detail, method, &url)
    }

    fn error_for(
        &self,
        subject: Subject<'_>,
        detail: RegistryErrors,
        method: &Method,
        url: &Url,
    ) -> Error {
        let pull = !matches!(subject, Subject::Other);
        let registry = self.inner.domain.clone();
        let repository = self.inner.path.clone();
        match detail.status {
            401 | 403 if pull && self.inner.cred.is_anonymous() => Error::PullAccessDenied {
                repository: self.familiar_name(),
                detail,
            },
            401 | 403 => Error::Unauthorized {
                registry,
                repository: Some(repository),
                message: format!(
                    "{}: {detail}",
                    crate::error::request(method, strip_query(url))
                ),
            },
            404 if detail.has_code("NAME_UNKNOWN") && pull => Error::RepositoryNotFound {
                repository: self.familiar_name(),
                detail,
            },
            404 => match subject {
                Subject::Manifest(r) => Error::ManifestNotFound {
                    reference: self.familiar(r),
                    detail,
                },
                Subject::Blob(d) => Error::BlobNotFound {
                    registry,
                    repository,
                    digest: d.clone(),
                    detail,
                },
                Subject::Other => Error::Registry {
                    registry,
                    repository: Some(repository),
                    request: crate::error::request(method.to_string(), strip_query(url)),
                    detail,
                },
            },
            _ => Error::Registry {
                registry,
                repository: Some(repository),
                request: crate::error::request(method.to_string(), strip_query(url)),
                detail,
            },
        }
    }

    pub(crate) fn protocol(&self, message: impl Into<String>) -> Error {
        Error::Protocol {
            registry: self.inner.domain.clone(),
            message: message.into(),
        }
    }

    /// Resolves a `Location` header against the endpoint.
    pub(crate) fn location(&self, ep: &Endpoint, resp: &reqwest::Response) -> Result<Url> {
        let loc = resp
            .headers()
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| self.protocol(format!("{} without a Location header", resp.status())))?;
        ep.url
            .join(loc)
            .map_err(|e| self.protocol(format!("invalid Location {loc:?}: {e}")))
    }
}

/// A URL without its query (upload URLs carry opaque state), for messages.
pub(crate) fn strip_query(u: &Url) -> String {
    let mut u = u.clone();
    u.set_query(None);
    u.to_string()
}

/// Reads a response body, refusing more than `limit` bytes.
pub(crate) async fn read_limited(mut resp: reqwest::Response, limit: usize) -> Result<Bytes> {
    let url = strip_query(resp.url());
    let mut buf = BytesMut::new();
    loop {
        let chunk = resp.chunk().await.map_err(|source| Error::Connection {
            registry: resp.url().host_str().unwrap_or_default().to_string(),
            request: crate::error::request("GET", url.clone()),
            source,
        })?;
        let Some(chunk) = chunk else { break };
        if buf.len() + chunk.len() > limit {
            return Err(Error::Protocol {
                registry: resp.url().host_str().unwrap_or_default().to_string(),
                message: format!("response from {url} exceeds {limit} bytes"),
            });
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}
