//! Authentication and authorization: none, htpasswd Basic, or the token
//! flow (the registry issues JWT bearer tokens at `/token` and requires
//! them, with repository scopes `pull`, `push`, `delete`).

mod htpasswd;
mod token;

pub use htpasswd::Htpasswd;
pub use token::{Claims, TokenIssuer, TokenResponse};

use crate::config::AuthConfig;
use crate::error::{Error, Result};
use base64::Engine as _;

/// One access a request needs: `repository:<name>:<actions>` or
/// `registry:catalog:*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub kind: String,
    pub name: String,
    pub actions: Vec<String>,
}

impl Access {
    /// Access to a repository.
    pub fn repo(name: &str, actions: &[&str]) -> Access {
        Access {
            kind: "repository".into(),
            name: name.into(),
            actions: actions.iter().map(|a| a.to_string()).collect(),
        }
    }

    /// Access to the catalog.
    pub fn catalog() -> Access {
        Access {
            kind: "registry".into(),
            name: "catalog".into(),
            actions: vec!["*".into()],
        }
    }

    /// The scope string (`repository:foo/bar:pull,push`).
    pub fn scope(&self) -> String {
        format!("{}:{}:{}", self.kind, self.name, self.actions.join(","))
    }

    /// Parses a scope; the resource type may carry a `(class)`.
    pub fn parse_scope(s: &str) -> Option<Access> {
        let (kind, rest) = s.split_once(':')?;
        let (name, actions) = rest.rsplit_once(':')?;
        let kind = kind.split('(').next().unwrap_or(kind);
        if kind.is_empty() || name.is_empty() {
            return None;
        }
        Some(Access {
            kind: kind.into(),
            name: name.into(),
            actions: actions
                .split(',')
                .filter(|a| !a.is_empty())
                .map(String::from)
                .collect(),
        })
    }
}

/// Who made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    Anonymous,
    User(String),
}

enum Mode {
    Open,
    Basic {
        users: Htpasswd,
        realm: String,
    },
    Token {
        issuer: Box<TokenIssuer>,
        users: Option<Htpasswd>,
    },
}

/// The configured authentication.
pub struct Auth {
    mode: Mode,
}

/// What a request's `Authorization` header carried.
enum Credentials {
    None,
    Basic(String, String),
    Bearer(String),
}

fn credentials(header: Option<&str>) -> Credentials {
    let Some(h) = header else {
        return Credentials::None;
    };
    let (scheme, value) = h.trim().split_once(' ').unwrap_or((h, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        if let Some((u, p)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
            return Credentials::Basic(u.to_string(), p.to_string());
        }
    } else if scheme.eq_ignore_ascii_case("bearer") {
        return Credentials::Bearer(value.trim().to_string());
    }
    Credentials::None
}

fn quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

impl Auth {
    /// No authentication.
    pub fn open() -> Auth {
        Auth { mode: Mode::Open }
    }

    /// Builds the authentication a configuration asks for.
    pub fn from_config(cfg: &AuthConfig) -> std::result::Result<Auth, AuthSetupError> {
        let users = cfg
            .htpasswd
            .as_ref()
            .map(|h| Htpasswd::load(&h.path))
            .transpose()?;
        let mode = match (&cfg.token, users) {
            (Some(t), users) => Mode::Token {
                issuer: Box::new(TokenIssuer::new(t)?),
                users,
            },
            (None, Some(users)) => Mode::Basic {
                users,
                realm: cfg
                    .htpasswd
                    .as_ref()
                    .map(|h| h.realm.clone())
                    .unwrap_or_default(),
            },
            (None, None) => Mode::Open,
        };
        Ok(Auth { mode })
    }

    /// Whether the token endpoint is served.
    pub fn issues_tokens(&self) -> bool {
        matches!(self.mode, Mode::Token { .. })
    }

    /// Checks that a request may do everything in `needed`. `base_url`
    /// (`http://host:port`) builds the default token realm.
    pub async fn authorize(
        &self,
        authorization: Option<&str>,
        needed: &[Access],
        base_url: &str,
    ) -> Result<Identity> {
        match &self.mode {
            Mode::Open => Ok(Identity::Anonymous),
            Mode::Basic { users, realm } => {
                if let Credentials::Basic(u, p) = credentials(authorization) {
                    if users.verify(&u, &p).await {
                        return Ok(Identity::User(u));
                    }
                }
                Err(Error::Unauthorized {
                    challenge: format!("Basic realm=\"{}\"", quote(realm)),
                    scope: None,
                })
            }
            Mode::Token { issuer, .. } => {
                let scope: Vec<String> = needed.iter().map(Access::scope).collect();
                let scope = (!scope.is_empty()).then(|| scope.join(" "));
                let challenge = |error: Option<&str>| {
                    let mut c = format!(
                        "Bearer realm=\"{}\",service=\"{}\"",
                        quote(&issuer.realm(base_url)),
                        quote(issuer.service())
                    );
                    if let Some(s) = &scope {
                        c.push_str(&format!(",scope=\"{}\"", quote(s)));
                    }
                    if let Some(e) = error {
                        c.push_str(&format!(",error=\"{e}\""));
                    }
                    c
                };
                let Credentials::Bearer(tok) = credentials(authorization) else {
                    return Err(Error::Unauthorized {
                        challenge: challenge(None),
                        scope,
                    });
                };
                let claims = match issuer.verify(&tok) {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::debug!(error = %e, "bearer token rejected");
                        return Err(Error::Unauthorized {
                            challenge: challenge(Some("invalid_token")),
                            scope,
                        });
                    }
                };
                if needed.iter().all(|n| claims.allows(n)) {
                    Ok(if claims.sub.is_empty() {
                        Identity::Anonymous
                    } else {
                        Identity::User(claims.sub)
                    })
                } else {
                    Err(Error::Unauthorized {
                        challenge: challenge(Some("insufficient_scope")),
                        scope,
                    })
                }
            }
        }
    }

    /// The token endpoint: authenticates the client (Basic, or anonymous)
    /// and issues a token for the granted part of `scopes`.
    pub async fn issue_token(
        &self,
        authorization: Option<&str>,
        service: Option<&str>,
        scopes: &[String],
    ) -> Result<TokenResponse> {
        let Mode::Token { issuer, users } = &self.mode else {
            return Err(Error::Unsupported("token issuing is not configured".into()));
        };
        if let Some(s) = service {
            if s != issuer.service() {
                return Err(Error::InvalidRequest(format!("unknown service {s:?}")));
            }
        }
        let who = match credentials(authorization) {
            Credentials::None => Identity::Anonymous,
            Credentials::Basic(u, p) => match users {
                Some(users) if users.verify(&u, &p).await => Identity::User(u),
                _ => {
                    return Err(Error::Unauthorized {
                        challenge: "Basic realm=\"berth-registry token\"".into(),
                        scope: None,
                    })
                }
            },
            Credentials::Bearer(_) => Identity::Anonymous,
        };
        let requested: Vec<Access> = scopes
            .iter()
            .flat_map(|s| s.split(' '))
            .filter(|s| !s.is_empty())
            .filter_map(Access::parse_scope)
            .collect();
        Ok(issuer.issue(&who, &requested))
    }
}

/// A failure building the configured authentication.
#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    #[error("reading {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        let cases = [
            (
                "repository:a/b:pull,push",
                Some(("repository", "a/b", "pull,push")),
            ),
            (
                "repository(plugin):x:pull",
                Some(("repository", "x", "pull")),
            ),
            ("registry:catalog:*", Some(("registry", "catalog", "*"))),
            ("repository:x", None),
            ("bogus", None),
        ];
        for (s, want) in cases {
            let got = Access::parse_scope(s);
            assert_eq!(
                got.as_ref()
                    .map(|a| (a.kind.as_str(), a.name.as_str(), a.actions.join(","))),
                want.map(|(k, n, a)| (k, n, a.to_string())),
                "{s}"
            );
        }
        assert_eq!(
            Access::repo("a", &["pull", "push"]).scope(),
            "repository:a:pull,push"
        );
    }

    #[test]
    fn basic_credentials() {
        let h = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("u:p:w")
        );
        assert!(
            matches!(credentials(Some(&h)), Credentials::Basic(u, p) if u == "u" && p == "p:w")
        );
        assert!(matches!(credentials(Some("Bearer abc")), Credentials::Bearer(t) if t == "abc"));
        assert!(matches!(credentials(Some("Basic !!")), Credentials::None));
    }
}
