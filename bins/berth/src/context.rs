//! Docker contexts: which daemon `berth` talks to, and `berth context
//! create|ls|use|show|inspect|rm`, as the docker CLI does them.
//!
//! The store is the docker CLI's, so contexts made by either CLI serve both:
//!
//! ```text
//! <config dir>/contexts/meta/<sha256 hex of name>/meta.json
//!     {"Name":..,"Metadata":{"Description":..},"Endpoints":{"docker":{"Host":..,"SkipTLSVerify":..}}}
//! <config dir>/contexts/tls/<sha256 hex of name>/<endpoint>/{ca.pem,cert.pem,key.pem}
//! ```
//!
//! The context in use is, in this order: `--context` (an error together
//! with `-H`); `default` when `-H`, `BERTH_HOST` or `DOCKER_HOST` is set;
//! `DOCKER_CONTEXT`; config.json's `currentContext`; `default`. The
//! `default` context is the flags and environment (`-H`, `--tls*`,
//! `DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`); a stored one brings its host
//! and, when it has TLS material (or `SkipTLSVerify`), TLS: verified
//! against its `ca.pem` (the system's roots without one) unless
//! `SkipTLSVerify`, with its `cert.pem`/`key.pem` as client certificate.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use api_client::tls::TlsOptions;
use serde_json::{json, Map, Value};
use sha2::Digest;

use crate::cli::{
    ContextCmd, ContextCreateArgs, ContextExportArgs, ContextImportArgs, ContextInspectArgs,
    ContextLsArgs, ContextRmArgs, ContextShowArgs, ContextUpdateArgs, ContextUseArgs,
};
use crate::network::{check_args, flag_error, Arity};
use crate::{fmtutil, CmdResult, Failure};

/// The context that is the flags and the environment.
pub const DEFAULT: &str = "default";
/// How `context ls` describes the default context.
const DEFAULT_DESCRIPTION: &str = "Current DOCKER_HOST based configuration";
/// The endpoint berth uses; other endpoints of a context are kept as they are.
const DOCKER_ENDPOINT: &str = "docker";
/// The names of TLS files in a context's endpoint directory.
const CA: &str = "ca.pem";
const CERT: &str = "cert.pem";
const KEY: &str = "key.pem";

/// What the command line and environment say about the daemon.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// `--context`, when not empty.
    pub context: Option<String>,
    /// `-H`.
    pub host: Option<String>,
    /// TLS from `--tls*`, `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`;
    /// None when TLS is off.
    pub tls: Option<TlsOptions>,
}

/// Where berth connects: a host, TLS when any.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub host: String,
    pub tls: Option<TlsOptions>,
}

/// The context chosen for this invocation.
#[derive(Debug)]
pub struct Selection {
    /// The current context's name (not checked to exist).
    pub name: String,
    flags: Flags,
    store: Store,
}

/// The host variable that is set, if any (berth's own first).
fn host_env() -> Option<(&'static str, String)> {
    ["BERTH_HOST", "DOCKER_HOST"].into_iter().find_map(|k| {
        std::env::var(k)
            .ok()
            .filter(|v| !v.is_empty())
            .map(|v| (k, v))
    })
}

/// config.json's `currentContext`, read quietly (commands that read the
/// file warn about a bad one themselves).
fn current_in_config() -> Option<String> {
    let bytes = std::fs::read(crate::auth::config_dir().join("config.json")).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get("currentContext")?
        .as_str()
        .filter(|c| !c.is_empty())
        .map(str::to_string)
}

fn env_var(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

impl Selection {
    /// Chooses the context as the docker CLI's `resolveContextName`; `-H`
    /// with `--context` is docker's error.
    pub fn resolve(flags: Flags) -> Result<Selection, Failure> {
        if flags.context.is_some() && flags.host.is_some() {
            return Err(Failure::new(
                1,
                "conflicting options: cannot specify both --host and --context",
            ));
        }
        let name = if let Some(c) = &flags.context {
            c.clone()
        } else if flags.host.is_some() || host_env().is_some() {
            DEFAULT.to_string()
        } else if let Some(c) = env_var("DOCKER_CONTEXT") {
            c
        } else {
            current_in_config().unwrap_or_else(|| DEFAULT.to_string())
        };
        Ok(Selection {
            name,
            flags,
            store: Store::open(),
        })
    }

    /// The default context's endpoint: `-H`, else the host variables, else
    /// berth's socket; TLS from the flags.
    fn default_endpoint(&self) -> Endpoint {
        let host = self
            .flags
            .host
            .clone()
            .or_else(|| host_env().map(|(_, v)| v))
            .unwrap_or_else(|| api_client::DEFAULT_HOST.to_string());
        Endpoint {
            host: host.trim().to_string(),
            tls: self.flags.tls.clone(),
        }
    }

    /// The default context as the store would hold it, with its TLS files
    /// (those of the flags that exist).
    fn default_meta(&self) -> (Meta, Vec<(String, PathBuf)>) {
        let ep = self.default_endpoint();
        let skip = ep.tls.as_ref().is_some_and(|t| !t.verify);
        let mut files = Vec::new();
        if let Some(t) = &ep.tls {
            for (name, path) in [(CA, &t.ca), (CERT, &t.cert), (KEY, &t.key)] {
                if let Some(p) = path.as_ref().filter(|p| p.is_file()) {
                    files.push((name.to_string(), p.clone()));
                }
            }
        }
        let meta = Meta {
            name: DEFAULT.into(),
            metadata: Some(Map::new()),
            endpoints: BTreeMap::from([(
                DOCKER_ENDPOINT.to_string(),
                docker_endpoint_json(&ep.host, skip),
            )]),
        };
        (meta, files)
    }

    /// A context's metadata, the default one included.
    fn get(&self, name: &str) -> Result<Meta, GetError> {
        if name == DEFAULT {
            return Ok(self.default_meta().0);
        }
        self.store.get(name)
    }

    /// A context's TLS files by endpoint (`None`: an empty directory).
    fn tls_listing(&self, name: &str) -> Result<BTreeMap<String, Option<Vec<String>>>, String> {
        if name == DEFAULT {
            let files = self.default_meta().1;
            let mut m = BTreeMap::new();
            if !files.is_empty() {
                m.insert(
                    DOCKER_ENDPOINT.to_string(),
                    Some(files.into_iter().map(|(n, _)| n).collect()),
                );
            }
            return Ok(m);
        }
        self.store.tls_listing(name)
    }

    /// The path of one of a context's TLS files.
    fn tls_file(&self, name: &str, endpoint: &str, file: &str) -> PathBuf {
        if name == DEFAULT {
            if let Some((_, p)) = self.default_meta().1.into_iter().find(|(n, _)| n == file) {
                return p;
            }
        }
        self.store.tls_dir(name).join(endpoint).join(file)
    }

    fn storage(&self, name: &str) -> (String, String) {
        if name == DEFAULT {
            return ("<IN MEMORY>".into(), "<IN MEMORY>".into());
        }
        (
            self.store.meta_dir(name).display().to_string(),
            self.store.tls_dir(name).display().to_string(),
        )
    }

    /// The current context's docker endpoint (docker's
    /// `resolveDockerEndpoint`, then the TLS checks of its client options);
    /// errors as the docker CLI words them.
    pub fn endpoint(&self) -> Result<Endpoint, EndpointError> {
        if self.name == DEFAULT {
            return Ok(self.default_endpoint());
        }
        let resolve = EndpointError::Resolve;
        let meta = self
            .store
            .get(&self.name)
            .map_err(|e| resolve(e.to_string()))?;
        let (host, skip) = meta.docker_endpoint().map_err(resolve)?;
        let host = if host.is_empty() {
            api_client::DEFAULT_HOST.to_string()
        } else {
            host
        };
        // TLS when the context has material for the endpoint (even an empty
        // directory) or skips verification; not on sockets.
        let dir = self.store.tls_dir(&self.name).join(DOCKER_ENDPOINT);
        let listing = self.store.tls_listing(&self.name).map_err(|e| {
            resolve(format!(
                "failed to retrieve TLS files for context \"{}\": {e}",
                self.name
            ))
        })?;
        let files = listing.get(DOCKER_ENDPOINT);
        for f in files.into_iter().flatten().flatten() {
            if ![CA, CERT, KEY].contains(&f.as_str()) {
                eprintln!(
                    "WARN[0000] unknown file in context {} TLS bundle: {f}",
                    self.name
                );
            }
        }
        let has = |f: &str| files.is_some_and(|l| l.iter().flatten().any(|x| x == f));
        let is_socket = host.starts_with("unix://") || host.starts_with("ssh://");
        let tls = if (files.is_some() || skip) && !is_socket {
            let read = |f: &str| -> Result<Option<Vec<u8>>, EndpointError> {
                if !has(f) {
                    return Ok(None);
                }
                std::fs::read(dir.join(f)).map(Some).map_err(|e| {
                    resolve(format!(
                        "failed to retrieve TLS data ({f}) for context \"{}\": failed to read TLS data for endpoint {DOCKER_ENDPOINT}: {}",
                        self.name,
                        fmtutil::go_io_error(&e)
                    ))
                })
            };
            let (ca, cert, key) = (read(CA)?, read(CERT)?, read(KEY)?);
            api_client::tls::check_material(ca.as_deref(), cert.as_deref(), key.as_deref())
                .map_err(EndpointError::Client)?;
            let both = cert.is_some() && key.is_some();
            Some(TlsOptions {
                verify: !skip,
                ca: ca.map(|_| dir.join(CA)),
                cert: both.then(|| dir.join(CERT)),
                key: both.then(|| dir.join(KEY)),
            })
        } else {
            None
        };
        Ok(Endpoint { host, tls })
    }

    /// The client for the current context. A stored context that cannot
    /// be used fails as the docker CLI does (`Failed to initialize: ...`).
    pub fn client(&self) -> Result<api_client::Client, String> {
        let ep = if self.name == DEFAULT {
            self.default_endpoint()
        } else {
            match self.endpoint() {
                Ok(ep) => ep,
                Err(EndpointError::Resolve(e)) => {
                    return Err(format!(
                        "Failed to initialize: unable to resolve docker endpoint: {e}"
                    ))
                }
                Err(EndpointError::Client(e)) => return Err(format!("Failed to initialize: {e}")),
            }
        };
        let client = api_client::Client::new(&ep.host).map_err(|e| e.to_string())?;
        let client = match env_var("BERTH_API_VERSION").or_else(|| env_var("DOCKER_API_VERSION")) {
            Some(v) => api_client::Client::with_version(&ep.host, &v).unwrap_or(client),
            None => client,
        };
        match &ep.tls {
            Some(t) => client.with_tls(t).map_err(|e| e.to_string()),
            None => Ok(client),
        }
    }
}

/// Why a stored context cannot be used: its endpoint does not resolve, or
/// its TLS material does not make a client (docker words them apart).
#[derive(Debug)]
pub enum EndpointError {
    Resolve(String),
    Client(String),
}

// ------------------------------------------------------------------ store

/// The docker CLI's context store under the config directory.
#[derive(Debug, Clone)]
struct Store {
    root: PathBuf,
}

/// A failed look-up: not found (`context "x": context not found: ...`) or
/// anything else.
#[derive(Debug)]
enum GetError {
    NotFound(String),
    Other(String),
}

impl std::fmt::Display for GetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GetError::NotFound(m) | GetError::Other(m) => f.write_str(m),
        }
    }
}

/// A context's directory name: the hex SHA-256 of its name.
fn dir_id(name: &str) -> String {
    format!("{:x}", sha2::Sha256::digest(name.as_bytes()))
}

/// Go's `os.ReadFile`-style message: `open PATH: no such file or directory`.
fn go_path_error(op: &str, path: &Path, e: &std::io::Error) -> String {
    format!("{op} {}: {}", path.display(), fmtutil::go_io_error(e))
}

/// Writes a file through a temporary one and a rename, with `mode`.
fn write_atomic(path: &Path, data: &[u8], mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let base = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{base}.{}.tmp", std::process::id()));
    let res = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res
}

fn mkdir_all(dir: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(dir)
}

impl Store {
    fn open() -> Store {
        Store {
            root: crate::auth::config_dir().join("contexts"),
        }
    }

    fn meta_root(&self) -> PathBuf {
        self.root.join("meta")
    }

    fn meta_dir(&self, name: &str) -> PathBuf {
        self.meta_root().join(dir_id(name))
    }

    fn tls_dir(&self, name: &str) -> PathBuf {
        self.root.join("tls").join(dir_id(name))
    }

    fn get(&self, name: &str) -> Result<Meta, GetError> {
        self.read(&self.meta_dir(name)).map_err(|e| match e {
            GetError::NotFound(m) => {
                GetError::NotFound(format!("context \"{name}\": context not found: {m}"))
            }
            GetError::Other(m) => GetError::Other(format!("context \"{name}\": {m}")),
        })
    }

    fn read(&self, dir: &Path) -> Result<Meta, GetError> {
        let file = dir.join("meta.json");
        let bytes = std::fs::read(&file).map_err(|e| {
            let msg = go_path_error("open", &file, &e);
            if e.kind() == std::io::ErrorKind::NotFound {
                GetError::NotFound(msg)
            } else {
                GetError::Other(msg)
            }
        })?;
        Meta::parse(&bytes).map_err(|e| GetError::Other(format!("parsing {}: {e}", file.display())))
    }

    /// Every stored context, in natural order of names.
    fn list(&self) -> Result<Vec<Meta>, String> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
            let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
            entries.sort_by_key(|e| e.file_name());
            for e in entries {
                if e.file_type()?.is_dir() {
                    let p = e.path();
                    if std::fs::metadata(p.join("meta.json")).is_ok_and(|m| !m.is_dir()) {
                        out.push(p.clone());
                    }
                    walk(&p, out)?;
                }
            }
            Ok(())
        }
        let mut dirs = Vec::new();
        match walk(&self.meta_root(), &mut dirs) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && dirs.is_empty() => {
                return Ok(Vec::new())
            }
            Err(e) => return Err(go_path_error("open", &self.meta_root(), &e)),
        }
        let mut res = Vec::new();
        for d in dirs {
            match self.read(&d) {
                Ok(m) => res.push(m),
                Err(GetError::NotFound(_)) => {}
                Err(e) => return Err(format!("failed to read metadata: {e}")),
            }
        }
        res.sort_by(|a, b| crate::netopts::natural_cmp(&a.name, &b.name));
        Ok(res)
    }

    fn tls_listing(&self, name: &str) -> Result<BTreeMap<String, Option<Vec<String>>>, String> {
        let dir = self.tls_dir(name);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => {
                return Err(format!(
                    "failed to list TLS files for context {name}: {}",
                    go_path_error("open", &dir, &e)
                ))
            }
        };
        let mut res = BTreeMap::new();
        for e in entries.flatten() {
            if !e.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let ep = e.file_name().to_string_lossy().into_owned();
            let files = match std::fs::read_dir(e.path()) {
                Ok(f) => f,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                Err(err) => {
                    return Err(format!(
                        "failed to list TLS files for endpoint {ep}: {}",
                        go_path_error("open", &e.path(), &err)
                    ))
                }
            };
            let mut names: Vec<String> = files
                .flatten()
                .filter(|f| !f.file_type().is_ok_and(|t| t.is_dir()))
                .map(|f| f.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            res.insert(ep, (!names.is_empty()).then_some(names));
        }
        Ok(res)
    }

    /// Writes a context's metadata (docker's `CreateOrUpdate`).
    fn write(&self, meta: &Meta) -> std::io::Result<()> {
        let dir = self.meta_dir(&meta.name);
        mkdir_all(&dir, 0o755)?;
        write_atomic(
            &dir.join("meta.json"),
            go_json(&meta.to_json()).as_bytes(),
            0o644,
        )
    }

    /// Replaces a context's TLS material, or only `endpoint`'s: the files
    /// there go, then `files` (endpoint, file name, contents) are written.
    fn reset_tls(
        &self,
        name: &str,
        endpoint: Option<&str>,
        files: &[(String, String, Vec<u8>)],
    ) -> Result<(), String> {
        let dir = self.tls_dir(name);
        let gone = endpoint.map_or_else(|| dir.clone(), |ep| dir.join(ep));
        match std::fs::remove_dir_all(&gone) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("failed to remove TLS data: {e}")),
        }
        for (ep, file, data) in files {
            let write = || -> std::io::Result<()> {
                mkdir_all(&self.root, 0o755)?;
                let epdir = dir.join(ep);
                mkdir_all(&epdir, 0o700)?;
                write_atomic(&epdir.join(file), data, 0o600)
            };
            write().map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn remove(&self, name: &str) -> Result<(), String> {
        let rm = |p: &Path| match std::fs::remove_dir_all(p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
        rm(&self.meta_dir(name)).map_err(|e| {
            format!("failed to remove context {name}: failed to remove metadata: {e}")
        })?;
        rm(&self.tls_dir(name))
            .map_err(|e| format!("failed to remove context {name}: failed to remove TLS data: {e}"))
    }
}

// ------------------------------------------------------------------ metadata

/// A context's metadata as the docker CLI reads it.
#[derive(Debug, Clone)]
struct Meta {
    name: String,
    /// `Metadata` (the description and any other fields); None when absent.
    metadata: Option<Map<String, Value>>,
    /// Endpoints by name; the docker one normalized to its typed fields.
    endpoints: BTreeMap<String, Value>,
}

/// Go's name for a JSON value's kind, in decoding errors.
fn go_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Go decodes struct fields case-insensitively: the last matching key wins.
fn field<'a>(m: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    m.iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn docker_endpoint_json(host: &str, skip: bool) -> Value {
    let mut m = Map::new();
    if !host.is_empty() {
        m.insert("Host".into(), json!(host));
    }
    m.insert("SkipTLSVerify".into(), json!(skip));
    Value::Object(m)
}

/// A value with every object's keys sorted, as Go marshals maps.
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let s: BTreeMap<&String, Value> = m.iter().map(|(k, x)| (k, sorted(x))).collect();
            Value::Object(s.into_iter().map(|(k, x)| (k.clone(), x)).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        v => v.clone(),
    }
}

/// Compact JSON as Go's `json.Marshal` writes it (HTML characters escaped).
fn go_json(v: &Value) -> String {
    crate::network::compact_json(v)
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

impl Meta {
    fn parse(bytes: &[u8]) -> Result<Meta, String> {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        let Value::Object(top) = v else {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type store.untypedContextMetadata",
                go_kind(&v)
            ));
        };
        let name = match field(&top, "name") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(v) => {
                return Err(format!(
                    "json: cannot unmarshal {} into Go struct field untypedContextMetadata.name of type string",
                    go_kind(v)
                ))
            }
        };
        let metadata = match field(&top, "metadata") {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(m.clone()),
            Some(v) => {
                return Err(format!(
                    "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                    go_kind(v)
                ))
            }
        };
        let mut endpoints = BTreeMap::new();
        match field(&top, "endpoints") {
            None | Some(Value::Null) => {}
            Some(Value::Object(eps)) => {
                for (k, v) in eps {
                    let v = if k == DOCKER_ENDPOINT {
                        parse_docker_endpoint(v)?
                    } else {
                        match v {
                            Value::Null | Value::Object(_) => sorted(v),
                            v => {
                                return Err(format!(
                                    "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                                    go_kind(v)
                                ))
                            }
                        }
                    };
                    endpoints.insert(k.clone(), v);
                }
            }
            Some(v) => {
                return Err(format!(
                    "json: cannot unmarshal {} into Go struct field untypedContextMetadata.endpoints of type map[string]json.RawMessage",
                    go_kind(v)
                ))
            }
        }
        Ok(Meta {
            name,
            metadata,
            endpoints,
        })
    }

    /// The description (`Description`), or "".
    fn description(&self) -> String {
        if self.name == DEFAULT {
            return DEFAULT_DESCRIPTION.into();
        }
        self.metadata
            .as_ref()
            .and_then(|m| m.get("Description"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }

    /// The docker endpoint's host and `SkipTLSVerify` (docker's
    /// `EndpointFromContext`).
    fn docker_endpoint(&self) -> Result<(String, bool), String> {
        match self.endpoints.get(DOCKER_ENDPOINT) {
            None => Err("cannot find docker endpoint in context".into()),
            Some(Value::Object(m)) => Ok((
                m.get("Host")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                m.get("SkipTLSVerify")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            )),
            Some(_) => Err(format!(
                "endpoint \"{DOCKER_ENDPOINT}\" is not of type EndpointMeta"
            )),
        }
    }

    /// The metadata as the docker CLI marshals it (meta.json, inspect).
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        if !self.name.is_empty() {
            m.insert("Name".into(), json!(self.name));
        }
        if let Some(md) = &self.metadata {
            let mut md = md.clone();
            if md.get("Description").is_some_and(|d| d == "") {
                md.remove("Description");
            }
            m.insert("Metadata".into(), sorted(&Value::Object(md)));
        }
        if !self.endpoints.is_empty() {
            m.insert(
                "Endpoints".into(),
                Value::Object(
                    self.endpoints
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                ),
            );
        }
        Value::Object(m)
    }
}

/// The docker endpoint decoded into its typed fields (`Host`, `SkipTLSVerify`).
fn parse_docker_endpoint(v: &Value) -> Result<Value, String> {
    let m = match v {
        Value::Null => return Ok(Value::Null),
        Value::Object(m) => m,
        v => {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type context.EndpointMetaBase",
                go_kind(v)
            ))
        }
    };
    let host = match field(m, "Host") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => {
            return Err(format!(
            "json: cannot unmarshal {} into Go struct field EndpointMetaBase.Host of type string",
            go_kind(v)
        ))
        }
    };
    let skip = match field(m, "SkipTLSVerify") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(v) => {
            return Err(format!(
                "json: cannot unmarshal {} into Go struct field EndpointMetaBase.SkipTLSVerify of type bool",
                go_kind(v)
            ))
        }
    };
    Ok(docker_endpoint_json(&host, skip))
}

/// docker's `store.ValidateContextName`.
fn validate_name(name: &str) -> Result<(), Failure> {
    if name.is_empty() {
        return Err(Failure::new(1, "context name cannot be empty"));
    }
    if name == DEFAULT {
        return Err(Failure::new(1, "\"default\" is a reserved context name"));
    }
    let b = name.as_bytes();
    let ok = b.len() >= 2
        && b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || b"_.+-".contains(c));
    if !ok {
        return Err(Failure::new(
            1,
            format!(
                "context name {} is invalid, names are validated against regexp \"^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$\"",
                fmtutil::go_quote(name)
            ),
        ));
    }
    Ok(())
}

// ------------------------------------------------------------------ commands

pub fn run(sel: &Selection, cmd: ContextCmd) -> CmdResult {
    match cmd {
        ContextCmd::Create(a) => create(sel, a),
        ContextCmd::Update(a) => update(sel, a),
        ContextCmd::Export(a) => export(sel, a),
        ContextCmd::Import(a) => import(sel, a),
        ContextCmd::Ls(a) => ls(sel, a),
        ContextCmd::Use(a) => use_context(sel, a),
        ContextCmd::Show(a) => show(sel, a),
        ContextCmd::Inspect(a) => inspect(sel, a),
        ContextCmd::Rm(a) => rm(sel, a),
    }
}

fn show(sel: &Selection, a: ContextShowArgs) -> CmdResult {
    check_args(&a.args, Arity::None, "context show")?;
    println!("{}", sel.name);
    Ok(0)
}

fn ls_headers() -> Value {
    json!({
        "Current": false,
        "Name": "NAME",
        "Description": "DESCRIPTION",
        "DockerEndpoint": "DOCKER ENDPOINT",
        "Error": "ERROR",
    })
}

/// One `context ls` row (docker's `ClientContext`, keys sorted as its
/// `json` prints them; the error cut to 45 characters).
fn ls_row(name: &str, current: bool, description: &str, endpoint: &str, error: &str) -> Value {
    let mut m = Map::new();
    m.insert("Current".into(), json!(current));
    m.insert("Description".into(), json!(description));
    m.insert("DockerEndpoint".into(), json!(endpoint));
    m.insert("Error".into(), json!(fmtutil::ellipsis(error, 45)));
    m.insert("Name".into(), json!(name));
    m.insert(
        crate::template::hidden_key(crate::template::ESCAPE_HTML),
        Value::Bool(true),
    );
    Value::Object(m)
}

fn ls(sel: &Selection, a: ContextLsArgs) -> CmdResult {
    check_args(&a.args, Arity::None, "context ls [OPTIONS]")?;
    let mut list = sel.store.list().map_err(|e| Failure::new(1, e))?;
    list.push(sel.default_meta().0);
    let mut found = false;
    let mut rows: Vec<(String, Value)> = Vec::new();
    for m in &list {
        let current = m.name == sel.name;
        found |= current;
        let (endpoint, error) = match m.docker_endpoint() {
            Ok((h, _)) => (h, String::new()),
            Err(e) => (String::new(), e),
        };
        rows.push((
            m.name.clone(),
            ls_row(&m.name, current, &m.description(), &endpoint, &error),
        ));
    }
    if !found {
        // The current context is missing: a row with the error.
        let error = sel.get(&sel.name).err().map(|e| e.to_string());
        rows.push((
            sel.name.clone(),
            ls_row(
                &sel.name,
                true,
                "",
                "",
                error.as_deref().unwrap_or_default(),
            ),
        ));
    }
    rows.sort_by(|x, y| crate::netopts::natural_cmp(&x.0, &y.0));
    let rows: Vec<Value> = rows.into_iter().map(|(_, r)| r).collect();
    let format = match a.format.as_deref() {
        _ if a.quiet => "{{.Name}}",
        None | Some("") | Some("table") => {
            "table {{.Name}}{{if .Current}} *{{end}}\t{{.Description}}\t{{.DockerEndpoint}}\t{{.Error}}"
        }
        Some(f) => f,
    };
    print!(
        "{}",
        crate::containers::render_format(format, &rows, &ls_headers())?
    );
    if let Some((var, _)) = host_env() {
        eprintln!("Warning: {var} environment variable overrides the active context. To use a context, either set the global --context flag, or unset {var} environment variable.");
    }
    Ok(0)
}

fn use_context(sel: &Selection, a: ContextUseArgs) -> CmdResult {
    if a.args.len() != 1 {
        return Err(Failure::new(
            1,
            format!("accepts 1 arg(s), received {}", a.args.len()),
        ));
    }
    let name = &a.args[0];
    let value = if name == DEFAULT {
        None
    } else {
        validate_name(name)?;
        sel.get(name).map_err(|e| Failure::new(1, e.to_string()))?;
        Some(name.as_str())
    };
    let mut cfg = crate::auth::ConfigFile::load();
    let now = cfg.string("currentContext").filter(|c| !c.is_empty());
    if now.as_deref() != value {
        cfg.set_current_context(value);
        cfg.save()
            .map_err(|e| Failure::new(1, go_path_error("open", &cfg.path, &e)))?;
    }
    println!("{name}");
    eprintln!("Current context is now {}", fmtutil::go_quote(name));
    if name != DEFAULT {
        if let Some((var, _)) = host_env() {
            eprintln!(
                "Warning: {var} environment variable overrides the active context. To use {}, either set the global --context flag, or unset {var} environment variable.",
                fmtutil::go_quote(name)
            );
        }
    }
    Ok(0)
}

fn inspect(sel: &Selection, a: ContextInspectArgs) -> CmdResult {
    let names = if a.names.is_empty() {
        vec![sel.name.clone()]
    } else {
        a.names.clone()
    };
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for name in &names {
        let meta = match sel.get(name) {
            Ok(m) => m,
            Err(e) => {
                errors.push(e.to_string());
                continue;
            }
        };
        let listing = match sel.tls_listing(name) {
            Ok(l) => l,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let (meta_path, tls_path) = sel.storage(name);
        let mut v = match meta.to_json() {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        v.insert(
            "TLSMaterial".into(),
            Value::Object(
                listing
                    .into_iter()
                    .map(|(k, files)| (k, json!(files)))
                    .collect(),
            ),
        );
        v.insert(
            "Storage".into(),
            json!({"MetadataPath": meta_path, "TLSPath": tls_path}),
        );
        results.push(Value::Object(v));
    }
    crate::network::print_inspect(a.format.as_deref(), &results)?;
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(Failure::new(1, errors.join("\n")))
    }
}

fn rm(sel: &Selection, a: ContextRmArgs) -> CmdResult {
    check_args(
        &a.names,
        Arity::AtLeast(1),
        "context rm CONTEXT [CONTEXT...]",
    )?;
    let mut errors = Vec::new();
    for name in &a.names {
        if name == DEFAULT {
            errors.push("context \"default\" cannot be removed".to_string());
            continue;
        }
        let res = (|| -> Result<(), String> {
            if *name == sel.name {
                if !a.force {
                    return Err(format!(
                        "context {} is in use, set -f flag to force remove",
                        fmtutil::go_quote(name)
                    ));
                }
                // Back to the default, as docker: the config file forgets it.
                let mut cfg = crate::auth::ConfigFile::load();
                cfg.set_current_context(None);
                cfg.save()
                    .map_err(|e| go_path_error("open", &cfg.path, &e))?;
            }
            if !a.force && !sel.store.meta_dir(name).exists() {
                return Err(format!(
                    "context {} does not exist",
                    fmtutil::go_quote(name)
                ));
            }
            sel.store.remove(name)
        })();
        match res {
            Ok(()) => println!("{name}"),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(Failure::new(1, errors.join("\n")))
    }
}

const CREATE_USAGE: &str = "context create [OPTIONS] CONTEXT";

/// `--docker` values as pflag's string-to-string flag reads them: `k=v`, or
/// CSV fields `k=v,k2=v2` when there is more than one `=`; later keys win.
fn docker_options(
    values: &[String],
    usage: &str,
) -> Result<Option<BTreeMap<String, String>>, Failure> {
    if values.is_empty() {
        return Ok(None);
    }
    let mut out = BTreeMap::new();
    for val in values {
        let bad = |e: String| flag_error(usage, val, "--docker", &e);
        let pairs = match val.matches('=').count() {
            0 => return Err(bad(format!("{val} must be formatted as key=value"))),
            1 => vec![val.trim_matches('"').to_string()],
            _ => crate::netopts::csv_fields(val).map_err(bad)?,
        };
        for p in pairs {
            match p.split_once('=') {
                Some((k, v)) => {
                    out.insert(k.to_string(), v.to_string());
                }
                None => return Err(bad(format!("{p} must be formatted as key=value"))),
            }
        }
    }
    Ok(Some(out))
}

/// Go's `strconv.ParseBool`.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// The new context's docker endpoint and TLS files from `--docker`
/// (docker's `getDockerEndpoint`).
#[allow(clippy::type_complexity)]
fn endpoint_from_options(
    sel: &Selection,
    o: &BTreeMap<String, String>,
) -> Result<(Value, Vec<(String, String, Vec<u8>)>), String> {
    const KEYS: [&str; 6] = ["from", "host", "ca", "cert", "key", "skip-tls-verify"];
    let unknown: Vec<String> = o
        .keys()
        .filter(|k| !KEYS.contains(&k.as_str()))
        .map(|k| format!("unrecognized config key: {k}"))
        .collect();
    if !unknown.is_empty() {
        return Err(unknown.join("\n"));
    }
    if let Some(from) = o.get("from") {
        let meta = sel.get(from).map_err(|e| e.to_string())?;
        return match meta.endpoints.get(DOCKER_ENDPOINT) {
            Some(v @ Value::Object(_)) => Ok((v.clone(), Vec::new())),
            _ => Err(format!(
                "unable to get endpoint from context {}",
                fmtutil::go_quote(from)
            )),
        };
    }
    let mut files = Vec::new();
    for (key, file) in [("ca", CA), ("cert", CERT), ("key", KEY)] {
        if let Some(p) = o.get(key).filter(|p| !p.is_empty()) {
            let data = std::fs::read(p).map_err(|e| go_path_error("open", Path::new(p), &e))?;
            files.push((file, data));
        }
    }
    let skip = match o.get("skip-tls-verify") {
        None => false,
        Some(v) => parse_bool(v).ok_or_else(|| {
            format!(
                "skip-tls-verify: parsing {}: invalid syntax",
                fmtutil::go_quote(v)
            )
        })?,
    };
    let host = o.get("host").cloned().unwrap_or_default();
    if !host.is_empty() {
        let is_socket = host.starts_with("unix://") || host.starts_with("ssh://");
        if !is_socket && (!files.is_empty() || skip) {
            let get = |n: &str| {
                files
                    .iter()
                    .find(|(f, _)| *f == n)
                    .map(|(_, d)| d.as_slice())
            };
            api_client::tls::check_material(get(CA), get(CERT), get(KEY))
                .map_err(|e| format!("invalid docker endpoint options: {e}"))?;
        }
        api_client::Host::parse(&host).map_err(|_| {
            format!("unable to apply docker endpoint options: unable to parse docker host `{host}`")
        })?;
    }
    let files = files
        .into_iter()
        .map(|(f, d)| (DOCKER_ENDPOINT.to_string(), f.to_string(), d))
        .collect();
    Ok((docker_endpoint_json(&host, skip), files))
}

/// A name for a new context: valid and not taken (the docker CLI's
/// `checkContextNameForCreation`).
fn check_new_name(sel: &Selection, name: &str) -> Result<(), Failure> {
    validate_name(name)?;
    match sel.get(name) {
        Ok(_) => Err(Failure::new(
            1,
            format!("context {} already exists", fmtutil::go_quote(name)),
        )),
        Err(GetError::NotFound(_)) => Ok(()),
        Err(GetError::Other(e)) => Err(Failure::new(
            1,
            format!("error while getting existing contexts: {e}"),
        )),
    }
}

fn create(sel: &Selection, a: ContextCreateArgs) -> CmdResult {
    check_args(&a.args, Arity::Exactly(1), CREATE_USAGE)?;
    let name = &a.args[0];
    check_new_name(sel, name)?;
    let docker = docker_options(&a.docker, CREATE_USAGE)?;
    let description = a.description.clone().unwrap_or_default();
    let fail = |e: String| Failure::new(1, e);
    let (meta, files) = match (&a.from, &docker) {
        (from, None) | (from @ Some(_), Some(_)) => {
            // A copy of an existing context (the current one by default):
            // its metadata with the new name (and description), its TLS files.
            if docker.as_ref().is_some_and(|d| !d.is_empty()) {
                return Err(fail("cannot use --docker flag when --from is set".into()));
            }
            let from = from.clone().unwrap_or_else(|| sel.name.clone());
            let src = sel.get(&from).map_err(|e| fail(e.to_string()))?;
            let mut metadata = src.metadata.clone().unwrap_or_default();
            if src.name == DEFAULT {
                metadata.insert("Description".into(), json!(DEFAULT_DESCRIPTION));
            }
            if !description.is_empty() {
                metadata.insert("Description".into(), json!(description));
            }
            let mut files = Vec::new();
            for (ep, list) in sel.tls_listing(&from).map_err(fail)? {
                for f in list.into_iter().flatten() {
                    let p = sel.tls_file(&from, &ep, &f);
                    let data = std::fs::read(&p).map_err(|e| {
                        fail(format!(
                            "failed to read TLS data for endpoint {ep}: {}",
                            go_path_error("open", &p, &e)
                        ))
                    })?;
                    files.push((ep.clone(), f, data));
                }
            }
            let meta = Meta {
                name: name.clone(),
                metadata: Some(metadata),
                endpoints: src.endpoints,
            };
            (meta, files)
        }
        (None, Some(o)) => {
            let (ep, files) = endpoint_from_options(sel, o)
                .map_err(|e| fail(format!("unable to create docker endpoint config: {e}")))?;
            let mut metadata = Map::new();
            if !description.is_empty() {
                metadata.insert("Description".into(), json!(description));
            }
            let meta = Meta {
                name: name.clone(),
                metadata: Some(metadata),
                endpoints: BTreeMap::from([(DOCKER_ENDPOINT.to_string(), ep)]),
            };
            (meta, files)
        }
    };
    sel.store.write(&meta).map_err(|e| fail(e.to_string()))?;
    sel.store.reset_tls(name, None, &files).map_err(fail)?;
    println!("{name}");
    eprintln!("Successfully created context {}", fmtutil::go_quote(name));
    Ok(0)
}

const UPDATE_USAGE: &str = "context update [OPTIONS] CONTEXT";

/// `context update`: a new description and/or docker endpoint (whose TLS
/// files replace the endpoint's), as the docker CLI's `RunUpdate`.
fn update(sel: &Selection, a: ContextUpdateArgs) -> CmdResult {
    check_args(&a.args, Arity::Exactly(1), UPDATE_USAGE)?;
    let name = &a.args[0];
    validate_name(name)?;
    let fail = |e: String| Failure::new(1, e);
    let mut meta = sel.store.get(name).map_err(|e| fail(e.to_string()))?;
    if let Some(d) = a.description.as_ref().filter(|d| !d.is_empty()) {
        meta.metadata
            .get_or_insert_with(Map::new)
            .insert("Description".into(), json!(d));
    }
    let mut tls = None;
    if let Some(o) = docker_options(&a.docker, UPDATE_USAGE)? {
        let (ep, files) = endpoint_from_options(sel, &o)
            .map_err(|e| fail(format!("unable to create docker endpoint config: {e}")))?;
        meta.endpoints.insert(DOCKER_ENDPOINT.to_string(), ep);
        tls = Some(files);
    }
    meta.docker_endpoint().map_err(fail)?;
    sel.store.write(&meta).map_err(|e| fail(e.to_string()))?;
    if let Some(files) = tls {
        sel.store
            .reset_tls(name, Some(DOCKER_ENDPOINT), &files)
            .map_err(fail)?;
    }
    println!("{name}");
    eprintln!("Successfully updated context {}", fmtutil::go_quote(name));
    Ok(0)
}

/// A context as the docker CLI exports it: a tar of `meta.json` and
/// `tls/<endpoint>/<file>`.
fn export_archive(sel: &Selection, name: &str) -> Result<Vec<u8>, String> {
    let meta = sel.get(name).map_err(|e| e.to_string())?;
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |path: &str, mode: u32, dir: bool, data: &[u8]| -> Result<(), String> {
        let mut h = tar::Header::new_ustar();
        h.set_mode(mode);
        h.set_size(data.len() as u64);
        h.set_mtime(0);
        h.set_entry_type(if dir {
            tar::EntryType::Directory
        } else {
            tar::EntryType::Regular
        });
        b.append_data(&mut h, path, data)
            .map_err(|e| format!("write the archive: {e}"))
    };
    add(
        "meta.json",
        0o644,
        false,
        go_json(&meta.to_json()).as_bytes(),
    )?;
    add("tls", 0o700, true, &[])?;
    for (ep, files) in sel.tls_listing(name)? {
        add(&format!("tls/{ep}"), 0o700, true, &[])?;
        for f in files.into_iter().flatten() {
            let p = sel.tls_file(name, &ep, &f);
            let data = std::fs::read(&p).map_err(|e| go_path_error("open", &p, &e))?;
            add(&format!("tls/{ep}/{f}"), 0o600, false, &data)?;
        }
    }
    b.into_inner()
        .map_err(|e| format!("write the archive: {e}"))
}

/// `context export CONTEXT [FILE|-]` (FILE: `<CONTEXT>.dockercontext`).
fn export(sel: &Selection, a: ContextExportArgs) -> CmdResult {
    check_args(
        &a.args,
        Arity::Range(1, 2),
        "context export [OPTIONS] CONTEXT [FILE|-]",
    )?;
    let name = &a.args[0];
    if name != DEFAULT {
        validate_name(name)?;
    }
    let dest = a
        .args
        .get(1)
        .cloned()
        .unwrap_or_else(|| format!("{name}.dockercontext"));
    let fail = |e: String| Failure::new(1, e);
    if dest == "-" {
        if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            return Err(fail(
                "cowardly refusing to export to a terminal, specify a file path".into(),
            ));
        }
        let data = export_archive(sel, name).map_err(fail)?;
        let mut out = std::io::stdout().lock();
        out.write_all(&data)
            .and_then(|()| out.flush())
            .map_err(|e| fail(e.to_string()))?;
        return Ok(0);
    }
    // As the docker CLI: the file is opened (made, emptied) first.
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&dest)
        .map_err(|e| fail(go_path_error("open", Path::new(&dest), &e)))?;
    let data = export_archive(sel, name).map_err(fail)?;
    f.write_all(&data).map_err(|e| fail(e.to_string()))?;
    eprintln!("Written file {}", fmtutil::go_quote(&dest));
    Ok(0)
}

/// The most an import reads, as the docker CLI (`maxAllowedFileSizeToImport`).
const MAX_IMPORT: u64 = 10 << 20;

/// A path inside a context archive, as the docker CLI checks it
/// (`isValidFilePath`): `meta.json` or under `tls/`, clean, no `\`.
fn check_archive_path(p: &str) -> Result<(), String> {
    if p != "meta.json" && !p.starts_with("tls/") {
        return Err(format!("{p}: unexpected context file"));
    }
    if p.split('/').any(|c| c.is_empty() || c == "." || c == "..") {
        return Err(format!("{p}: unexpected path format"));
    }
    if p.contains('\\') {
        return Err(format!("{p}: unexpected '\\' in path"));
    }
    Ok(())
}

/// Reads a context archive: its metadata (named `name`) and TLS files.
/// Nothing is written here, so a bad archive leaves nothing behind.
#[allow(clippy::type_complexity)]
fn read_archive(name: &str, data: &[u8]) -> Result<(Meta, Vec<(String, String, Vec<u8>)>), String> {
    if data.starts_with(b"PK\x03\x04") {
        return Err(
            "berth does not support importing zip context archives yet: export the context as a tar"
                .into(),
        );
    }
    let mut meta = None;
    let mut files = Vec::new();
    // The docker CLI's exports end without the last entry's padding and
    // the end-of-archive blocks (its tar writer is closed after the pipe
    // it writes to), which Go's reader takes as the end: restore them, and
    // still refuse an entry whose data was cut short.
    let size = data.len() as u64;
    let mut whole = data.to_vec();
    whole.resize(data.len().div_ceil(512) * 512 + 1024, 0);
    let mut ar = tar::Archive::new(whole.as_slice());
    for entry in ar.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        let len = entry.header().entry_size().map_err(|e| e.to_string())?;
        if entry.raw_file_position() + len > size {
            return Err("unexpected EOF".into());
        }
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        check_archive_path(&path)?;
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut body).map_err(|e| e.to_string())?;
        if path == "meta.json" {
            let mut m = Meta::parse(&body)?;
            m.name = name.to_string();
            meta = Some(m);
        } else {
            match path["tls/".len()..].split_once('/') {
                // One file per name under its endpoint's directory.
                Some((ep, file)) if !file.contains('/') => {
                    files.retain(|(e, f, _): &(String, String, Vec<u8>)| !(e == ep && f == file));
                    files.push((ep.to_string(), file.to_string(), body));
                }
                _ => return Err("archive format is invalid".into()),
            }
        }
    }
    let meta = meta.ok_or("invalid context: no metadata found")?;
    Ok((meta, files))
}

/// `context import CONTEXT FILE|-`.
fn import(sel: &Selection, a: ContextImportArgs) -> CmdResult {
    check_args(&a.args, Arity::Exactly(2), "context import CONTEXT FILE|-")?;
    let (name, source) = (&a.args[0], &a.args[1]);
    check_new_name(sel, name)?;
    let fail = |e: String| Failure::new(1, e);
    let input: Box<dyn std::io::Read> = if source == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            std::fs::File::open(source)
                .map_err(|e| fail(go_path_error("open", Path::new(source), &e)))?,
        )
    };
    let mut data = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(input, MAX_IMPORT + 1), &mut data)
        .map_err(|e| fail(e.to_string()))?;
    if data.len() as u64 > MAX_IMPORT {
        return Err(fail("read size exceeded".into()));
    }
    let (meta, files) = read_archive(name, &data).map_err(fail)?;
    sel.store.write(&meta).map_err(|e| fail(e.to_string()))?;
    if let Err(e) = sel.store.reset_tls(name, None, &files) {
        let _ = sel.store.remove(name);
        return Err(fail(e));
    }
    println!("{name}");
    eprintln!("Successfully imported context {}", fmtutil::go_quote(name));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_names_are_sha256_of_the_name() {
        // As the docker CLI names them (digest.FromString(name).Encoded()).
        assert_eq!(
            dir_id("xy"),
            "769a4e6d0003189c7e96c5d9b7e810a0d11c3a12832527ec94b0f86d277f51ca"
        );
    }

    #[test]
    fn names() {
        assert!(validate_name("ab").is_ok());
        assert!(validate_name("a.b+c-d_e").is_ok());
        for bad in ["", "x", "default", "-ab", "a/b", "a b"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
        assert_eq!(
            validate_name("x").unwrap_err().msg,
            "context name \"x\" is invalid, names are validated against regexp \"^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$\""
        );
    }

    #[test]
    fn metadata_round_trip_as_docker_writes_it() {
        let raw = br#"{"Name":"xy","Metadata":{"Description":"hello \u003cb\u003e"},"Endpoints":{"docker":{"Host":"unix:///tmp/s.sock","SkipTLSVerify":false}}}"#;
        let m = Meta::parse(raw).unwrap();
        assert_eq!(m.description(), "hello <b>");
        assert_eq!(
            m.docker_endpoint().unwrap(),
            ("unix:///tmp/s.sock".to_string(), false)
        );
        assert_eq!(go_json(&m.to_json()).as_bytes(), raw);
        // Field names are matched as Go does, case aside; unknown endpoints
        // and metadata fields are kept (sorted).
        let m = Meta::parse(
            br#"{"name":"ab","metadata":{"Z":1,"A":{"y":1,"b":2}},"endpoints":{"docker":{"host":"tcp://h:1","skiptlsverify":true},"other":{"k":"v"}}}"#,
        )
        .unwrap();
        assert_eq!(
            go_json(&m.to_json()),
            r#"{"Name":"ab","Metadata":{"A":{"b":2,"y":1},"Z":1},"Endpoints":{"docker":{"Host":"tcp://h:1","SkipTLSVerify":true},"other":{"k":"v"}}}"#
        );
        assert!(Meta::parse(br#"{"Endpoints":{"docker":"x"}}"#).is_err());
        let m = Meta::parse(br#"{"Name":"ab"}"#).unwrap();
        assert_eq!(
            m.docker_endpoint().unwrap_err(),
            "cannot find docker endpoint in context"
        );
    }

    #[test]
    fn archives_as_the_docker_cli_writes_and_reads_them() {
        let meta = br#"{"Name":"x","Metadata":{},"Endpoints":{"docker":{"Host":"unix:///s","SkipTLSVerify":false}}}"#;
        let mut b = tar::Builder::new(Vec::new());
        for (p, data) in [
            ("meta.json", &meta[..]),
            ("tls/docker/ca.pem", b"0123456789"),
        ] {
            let mut h = tar::Header::new_ustar();
            h.set_size(data.len() as u64);
            h.set_mode(0o600);
            b.append_data(&mut h, p, data).unwrap();
        }
        let whole = b.into_inner().unwrap();
        // What the docker CLI writes: no padding after the last file's data
        // and no end-of-archive blocks.
        let docker_len = whole.len() - 1024 - (512 - 10);
        for data in [&whole[..], &whole[..docker_len]] {
            let (m, files) = read_archive("yy", data).unwrap();
            assert_eq!(m.name, "yy");
            assert_eq!(
                files,
                [("docker".into(), "ca.pem".into(), b"0123456789".to_vec())]
            );
        }
        // Cut into the data: refused, as Go's reader does.
        assert_eq!(
            read_archive("yy", &whole[..docker_len - 3]).unwrap_err(),
            "unexpected EOF"
        );
        assert!(read_archive("yy", b"PK\x03\x04rest")
            .unwrap_err()
            .contains("zip"));
        assert_eq!(
            read_archive("yy", &[0u8; 1024]).unwrap_err(),
            "invalid context: no metadata found"
        );
        for (p, want) in [
            ("../x", "../x: unexpected context file"),
            ("tls/a/../b", "tls/a/../b: unexpected path format"),
            ("tls//a", "tls//a: unexpected path format"),
            ("tls/a\\b", "tls/a\\b: unexpected '\\' in path"),
        ] {
            assert_eq!(check_archive_path(p).unwrap_err(), want);
        }
        assert!(check_archive_path("tls/docker/ca.pem").is_ok());
    }

    #[test]
    fn docker_flag_values() {
        let o = docker_options(
            &["host=tcp://h:1,ca=/a,skip-tls-verify=true".into()],
            CREATE_USAGE,
        )
        .unwrap()
        .unwrap();
        assert_eq!(o["host"], "tcp://h:1");
        assert_eq!(o["ca"], "/a");
        assert_eq!(o["skip-tls-verify"], "true");
        // One `=`: no CSV, commas belong to the value.
        let o = docker_options(&["host=a,b".into()], CREATE_USAGE)
            .unwrap()
            .unwrap();
        assert_eq!(o["host"], "a,b");
        let e = docker_options(&["a".into()], CREATE_USAGE).unwrap_err();
        assert_eq!(e.code, 125);
        assert!(e.msg.starts_with(
            "invalid argument \"a\" for \"--docker\" flag: a must be formatted as key=value"
        ));
        assert!(docker_options(&[], CREATE_USAGE).unwrap().is_none());
    }
}
