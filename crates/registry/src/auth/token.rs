//! JWT bearer tokens in the distribution token format (`access` claims with
//! repository scopes), signed with HMAC-SHA256. The registry both issues
//! and verifies them, so a shared secret is all it needs; only `HS256` is
//! accepted, which rules out `alg` confusion.

use super::{Access, AuthSetupError, Identity};
use crate::config::{AclRule, TokenConfig};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use ring::hmac;
use serde::{Deserialize, Serialize};

/// Tolerated clock skew when checking `nbf`/`exp`, in seconds.
const LEEWAY: i64 = 30;

/// One entry of the `access` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEntry {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub actions: Vec<String>,
}

/// The claim set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: String,
    #[serde(default)]
    pub access: Vec<AccessEntry>,
}

impl Claims {
    /// Whether the token grants `a` (every action of it).
    pub fn allows(&self, a: &Access) -> bool {
        a.actions.iter().all(|act| {
            self.access.iter().any(|e| {
                e.kind == a.kind
                    && e.name == a.name
                    && e.actions.iter().any(|x| x == act || x == "*")
            })
        })
    }
}

/// The token endpoint's response body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    pub token: String,
    pub access_token: String,
    pub expires_in: u64,
    pub issued_at: String,
}

/// Issues and verifies tokens.
pub struct TokenIssuer {
    key: hmac::Key,
    kid: String,
    cfg: TokenConfig,
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    typ: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    kid: String,
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token")]
    Malformed,
    #[error("unsupported algorithm {0:?}")]
    Algorithm(String),
    #[error("bad signature")]
    Signature,
    #[error("wrong issuer or audience")]
    Audience,
    #[error("expired or not yet valid")]
    Time,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn rule_matches(rule: &AclRule, who: &Identity, kind: &str, name: &str) -> bool {
    let account_ok = match who {
        Identity::User(u) => rule.account == "*" || &rule.account == u,
        Identity::Anonymous => rule.account == "anonymous",
    };
    let target = if kind == "registry" {
        format!("registry:{name}")
    } else {
        name.to_string()
    };
    let repo_ok = match rule.repository.strip_suffix('*') {
        Some(prefix) => {
            target.starts_with(prefix) && kind == "repository" || rule.repository == "*"
        }
        None => rule.repository == target,
    };
    account_ok && repo_ok
}

impl TokenIssuer {
    /// Sets up signing from the configuration (secret file or a random key).
    pub fn new(cfg: &TokenConfig) -> Result<TokenIssuer, AuthSetupError> {
        let secret = match &cfg.secret_file {
            Some(p) => {
                let s = std::fs::read(p).map_err(|source| AuthSetupError::Read {
                    path: p.clone(),
                    source,
                })?;
                let s = s.trim_ascii().to_vec();
                if s.len() < 32 {
                    return Err(AuthSetupError::Invalid(format!(
                        "{}: a token secret needs at least 32 bytes",
                        p.display()
                    )));
                }
                s
            }
            None => {
                let mut s = vec![0u8; 32];
                getrandom::fill(&mut s).map_err(|e| AuthSetupError::Invalid(e.to_string()))?;
                s
            }
        };
        let kid = ring::digest::digest(&ring::digest::SHA256, &secret);
        Ok(TokenIssuer {
            key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
            kid: hex_prefix(kid.as_ref()),
            cfg: cfg.clone(),
        })
    }

    /// The service name in challenges and the tokens' audience.
    pub fn service(&self) -> &str {
        &self.cfg.service
    }

    /// The realm URL: configured, or `<base_url>/token`.
    pub fn realm(&self, base_url: &str) -> String {
        self.cfg
            .realm
            .clone()
            .unwrap_or_else(|| format!("{base_url}/token"))
    }

    /// What `who` may do of `requested`.
    fn grant(&self, who: &Identity, requested: &Access) -> Vec<String> {
        let all = ["pull", "push", "delete"];
        let allowed: Vec<String> = if self.cfg.acl.is_empty() {
            match who {
                Identity::User(_) => all.iter().map(|s| s.to_string()).collect(),
                Identity::Anonymous if self.cfg.anonymous_pull => vec!["pull".into()],
                Identity::Anonymous => Vec::new(),
            }
        } else {
            let mut v: Vec<String> = self
                .cfg
                .acl
                .iter()
                .filter(|r| rule_matches(r, who, &requested.kind, &requested.name))
                .flat_map(|r| r.actions.iter().cloned())
                .collect();
            if matches!(who, Identity::Anonymous) && self.cfg.anonymous_pull {
                v.push("pull".into());
            }
            v
        };
        if requested.kind == "registry" {
            let ok = matches!(who, Identity::User(_))
                && (self.cfg.acl.is_empty() || allowed.iter().any(|a| a == "*"));
            return if ok { vec!["*".into()] } else { Vec::new() };
        }
        requested
            .actions
            .iter()
            .filter(|a| {
                allowed.iter().any(|x| x == *a || x == "*")
                    || (a.as_str() == "*" && allowed.len() >= all.len())
            })
            .cloned()
            .collect()
    }

    /// Issues a token granting the allowed part of `requested`.
    pub fn issue(&self, who: &Identity, requested: &[Access]) -> TokenResponse {
        let iat = now();
        let access = requested
            .iter()
            .filter(|r| r.kind == "repository" || r.kind == "registry")
            .map(|r| AccessEntry {
                kind: r.kind.clone(),
                name: r.name.clone(),
                actions: self.grant(who, r),
            })
            .filter(|e| !e.actions.is_empty())
            .collect();
        let mut jti = [0u8; 16];
        getrandom::fill(&mut jti).expect("system random source");
        let claims = Claims {
            iss: self.cfg.issuer.clone(),
            sub: match who {
                Identity::User(u) => u.clone(),
                Identity::Anonymous => String::new(),
            },
            aud: self.cfg.service.clone(),
            exp: iat + self.cfg.expiration_secs as i64,
            nbf: iat - 1,
            iat,
            jti: hex_prefix(&jti),
            access,
        };
        let token = self.sign(&claims);
        TokenResponse {
            access_token: token.clone(),
            token,
            expires_in: self.cfg.expiration_secs,
            issued_at: chrono::DateTime::from_timestamp(iat, 0)
                .unwrap_or_default()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }

    /// Signs claims into a compact JWS.
    pub fn sign(&self, claims: &Claims) -> String {
        let header = Header {
            alg: "HS256".into(),
            typ: "JWT".into(),
            kid: self.kid.clone(),
        };
        let h = B64.encode(serde_json::to_vec(&header).expect("header serializes"));
        let c = B64.encode(serde_json::to_vec(claims).expect("claims serialize"));
        let input = format!("{h}.{c}");
        let sig = hmac::sign(&self.key, input.as_bytes());
        format!("{input}.{}", B64.encode(sig.as_ref()))
    }

    /// Verifies signature, issuer, audience and validity period.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let mut parts = token.split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let header: Header = B64
            .decode(h)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(TokenError::Malformed)?;
        if header.alg != "HS256" {
            return Err(TokenError::Algorithm(header.alg));
        }
        let sig = B64.decode(s).map_err(|_| TokenError::Malformed)?;
        hmac::verify(&self.key, format!("{h}.{c}").as_bytes(), &sig)
            .map_err(|_| TokenError::Signature)?;
        let claims: Claims = B64
            .decode(c)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(TokenError::Malformed)?;
        if claims.iss != self.cfg.issuer || claims.aud != self.cfg.service {
            return Err(TokenError::Audience);
        }
        let t = now();
        if claims.exp + LEEWAY < t || claims.nbf - LEEWAY > t {
            return Err(TokenError::Time);
        }
        Ok(claims)
    }
}

fn hex_prefix(b: &[u8]) -> String {
    b.iter().take(16).map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer(acl: Vec<AclRule>, anonymous_pull: bool) -> TokenIssuer {
        TokenIssuer::new(&TokenConfig {
            acl,
            anonymous_pull,
            ..TokenConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn issue_and_verify() {
        let t = issuer(Vec::new(), true);
        let want = Access::repo("a/b", &["pull", "push"]);
        let user = t.issue(&Identity::User("u".into()), std::slice::from_ref(&want));
        let c = t.verify(&user.token).unwrap();
        assert!(c.allows(&want) && c.sub == "u");
        assert!(!c.allows(&Access::repo("a/c", &["pull"])));
        let anon = t.issue(&Identity::Anonymous, std::slice::from_ref(&want));
        let c = t.verify(&anon.token).unwrap();
        assert!(c.allows(&Access::repo("a/b", &["pull"])));
        assert!(!c.allows(&want));
        // Another key, a tampered payload, alg none and expiry are refused.
        assert!(matches!(
            issuer(Vec::new(), true).verify(&user.token),
            Err(TokenError::Signature)
        ));
        let mut parts: Vec<&str> = user.token.split('.').collect();
        let forged = B64.encode(br#"{"iss":"berth-registry","sub":"x","aud":"berth-registry","exp":9999999999,"nbf":0,"iat":0,"jti":"","access":[]}"#);
        parts[1] = &forged;
        assert!(matches!(
            t.verify(&parts.join(".")),
            Err(TokenError::Signature)
        ));
        let none = format!(
            "{}.{}.",
            B64.encode(br#"{"alg":"none","typ":"JWT"}"#),
            forged
        );
        assert!(matches!(t.verify(&none), Err(TokenError::Algorithm(_))));
        let mut old = t.verify(&user.token).unwrap();
        old.exp = now() - 3600;
        assert!(matches!(t.verify(&t.sign(&old)), Err(TokenError::Time)));
        assert!(matches!(t.verify("a.b"), Err(TokenError::Malformed)));
    }

    #[test]
    fn acl_rules() {
        let rule = |account: &str, repository: &str, actions: &[&str]| AclRule {
            account: account.into(),
            repository: repository.into(),
            actions: actions.iter().map(|s| s.to_string()).collect(),
        };
        let t = issuer(
            vec![
                rule("alice", "alice/*", &["pull", "push", "delete"]),
                rule("*", "shared", &["pull"]),
            ],
            false,
        );
        let alice = Identity::User("alice".into());
        let bob = Identity::User("bob".into());
        let all = ["pull", "push", "delete"];
        assert_eq!(t.grant(&alice, &Access::repo("alice/x", &all)), all);
        assert_eq!(
            t.grant(&bob, &Access::repo("alice/x", &all)),
            Vec::<String>::new()
        );
        assert_eq!(t.grant(&bob, &Access::repo("shared", &all)), ["pull"]);
        assert!(t
            .grant(&Identity::Anonymous, &Access::repo("shared", &all))
            .is_empty());
        assert!(t.grant(&bob, &Access::catalog()).is_empty());
    }
}
