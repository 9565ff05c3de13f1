//! Configuration: defaults, then a TOML file, then command-line flags.
//! Unknown keys are an error.
//!
//! ```toml
//! [http]
//! addr = "127.0.0.1:5000"
//! [http.tls]                       # serve HTTPS
//! cert = "/etc/berth-registry/cert.pem"
//! key = "/etc/berth-registry/key.pem"
//! [storage]
//! root = "/var/lib/berth-registry"
//! delete_enabled = true
//! [auth.htpasswd]                  # Basic auth (bcrypt entries, htpasswd -B)
//! path = "/etc/berth-registry/htpasswd"
//! [auth.token]                     # or: issue and require JWT bearer tokens
//! issuer = "berth-registry"
//! anonymous_pull = true
//! ```

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub http: HttpConfig,
    pub storage: StorageConfig,
    pub auth: AuthConfig,
    pub log: LogConfig,
}

/// Listener settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    pub addr: SocketAddr,
    pub tls: Option<TlsConfig>,
    /// Serve `/metrics` (Prometheus text format).
    pub metrics: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            addr: ([127, 0, 0, 1], 5000).into(),
            tls: None,
            metrics: true,
        }
    }
}

/// PEM certificate chain and private key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Which driver stores the content and what it allows.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// `filesystem` (default) or `inmemory` (lost at exit; for tests).
    pub driver: String,
    pub root: PathBuf,
    /// Whether manifests, tags and blobs may be deleted.
    pub delete_enabled: bool,
    /// Largest accepted manifest, in bytes.
    pub max_manifest_size: u64,
    /// Unfinished uploads idle this long are removed.
    pub upload_purge_after_secs: u64,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            driver: "filesystem".into(),
            root: PathBuf::from("/var/lib/berth-registry"),
            delete_enabled: true,
            max_manifest_size: 4 << 20,
            upload_purge_after_secs: 24 * 3600,
        }
    }
}

/// Authentication: none, htpasswd Basic, or bearer tokens.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    pub htpasswd: Option<HtpasswdConfig>,
    pub token: Option<TokenConfig>,
}

/// Basic authentication against an htpasswd file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HtpasswdConfig {
    pub path: PathBuf,
    #[serde(default = "default_realm")]
    pub realm: String,
}

fn default_realm() -> String {
    "berth-registry".into()
}

/// The token flow: the registry issues tokens at `/token` (authenticating
/// users against `auth.htpasswd`) and requires them on `/v2/`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenConfig {
    /// The realm URL in challenges; default: this server's `/token`.
    pub realm: Option<String>,
    pub service: String,
    pub issuer: String,
    pub expiration_secs: u64,
    /// A file holding the HMAC key (at least 32 bytes); default: random per start.
    pub secret_file: Option<PathBuf>,
    /// Whether anonymous clients get `pull` on every repository.
    pub anonymous_pull: bool,
    /// Grants; with none, every authenticated user gets everything.
    pub acl: Vec<AclRule>,
}

impl Default for TokenConfig {
    fn default() -> Self {
        TokenConfig {
            realm: None,
            service: "berth-registry".into(),
            issuer: "berth-registry".into(),
            expiration_secs: 300,
            secret_file: None,
            anonymous_pull: false,
            acl: Vec::new(),
        }
    }
}

/// Grants `actions` on repositories matching `repository` (a name, or a
/// prefix ending in `*`) to `account` (a user name, or `*` for any user).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AclRule {
    pub account: String,
    pub repository: String,
    pub actions: Vec<String>,
}

/// Logging.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A tracing filter (`info`, `registry=debug`); `RUST_LOG` wins.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
        }
    }
}

/// A configuration problem.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("parsing {path}: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Parses TOML text.
    pub fn from_toml(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let c: Config = toml::from_str(text).map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        c.validate()?;
        Ok(c)
    }

    /// Reads a TOML file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::from_toml(&text, path)
    }

    /// Checks cross-field rules.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !matches!(self.storage.driver.as_str(), "filesystem" | "inmemory") {
            return Err(ConfigError::Invalid(format!(
                "storage.driver {:?}: expected filesystem or inmemory",
                self.storage.driver
            )));
        }
        if let Some(t) = &self.auth.token {
            for r in &t.acl {
                if let Some(a) = r
                    .actions
                    .iter()
                    .find(|a| !matches!(a.as_str(), "pull" | "push" | "delete" | "*"))
                {
                    return Err(ConfigError::Invalid(format!("acl action {a:?}")));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_full_and_defaults() {
        let c = Config::from_toml("", Path::new("x")).unwrap();
        assert_eq!(c.http.addr.to_string(), "127.0.0.1:5000");
        assert!(c.storage.delete_enabled && c.auth.htpasswd.is_none());
        let c = Config::from_toml(
            r#"
[http]
addr = "0.0.0.0:5443"
tls = { cert = "c.pem", key = "k.pem" }
[storage]
root = "/r"
delete_enabled = false
[auth.htpasswd]
path = "/h"
[auth.token]
anonymous_pull = true
acl = [{ account = "alice", repository = "alice/*", actions = ["pull", "push"] }]
"#,
            Path::new("x"),
        )
        .unwrap();
        assert_eq!(c.http.tls.unwrap().key, PathBuf::from("k.pem"));
        assert!(!c.storage.delete_enabled);
        let t = c.auth.token.unwrap();
        assert!(t.anonymous_pull && t.acl[0].repository == "alice/*");
        assert_eq!(c.auth.htpasswd.unwrap().realm, "berth-registry");
    }

    #[test]
    fn unknown_keys_and_bad_values() {
        for bad in [
            "[http]\nport = 1",
            "bogus = 1",
            "[storage]\ndriver = \"s3\"",
            "[auth.token]\nacl = [{ account = \"a\", repository = \"r\", actions = [\"fly\"] }]",
        ] {
            assert!(Config::from_toml(bad, Path::new("x")).is_err(), "{bad}");
        }
    }
}
