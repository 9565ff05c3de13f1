//! Registry credentials and authentication: Docker's `X-Registry-Auth`
//! payload, `WWW-Authenticate` challenges, and the Bearer token flow with a
//! token cache keyed by (registry, scope, credentials).

use crate::error::{Error, RegistryErrors, Result};
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, Engine as _};
use http::HeaderValue;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);

/// Decodes base64 in either alphabet (url-safe or standard), padded or not.
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    URL_SAFE_LENIENT
        .decode(s)
        .or_else(|_| STANDARD_LENIENT.decode(s))
        .ok()
}

/// Credentials for one registry, as in Docker's `X-Registry-Auth` header and
/// `POST /auth` body (`AuthConfig` in the Engine API).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthConfig {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub password: String,
    /// base64 of `username:password` (used when `username` is empty).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auth: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub email: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub serveraddress: String,
    /// A refresh token from an earlier login, exchanged for access tokens.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub identitytoken: String,
    /// A bearer token sent to the registry as is.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub registrytoken: String,
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |s: &str| if s.is_empty() { "" } else { "<redacted>" };
        f.debug_struct("AuthConfig")
            .field("username", &self.username)
            .field("password", &redact(&self.password))
            .field("auth", &redact(&self.auth))
            .field("serveraddress", &self.serveraddress)
            .field("identitytoken", &redact(&self.identitytoken))
            .field("registrytoken", &redact(&self.registrytoken))
            .finish()
    }
}

impl AuthConfig {
    /// Username and password.
    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> AuthConfig {
        AuthConfig {
            username: username.into(),
            password: password.into(),
            ..AuthConfig::default()
        }
    }

    /// Decodes an `X-Registry-Auth` header: base64url JSON (padded or not;
    /// standard base64 is accepted too). An empty header is anonymous.
    /// Note: dockerd ignores an undecodable header on pull; the caller decides.
    pub fn from_header(value: &str) -> Result<AuthConfig> {
        if value.trim().is_empty() {
            return Ok(AuthConfig::default());
        }
        let json = decode_base64(value).ok_or_else(|| {
            Error::InvalidArgument("invalid X-Registry-Auth header: not base64".into())
        })?;
        AuthConfig::from_json(&json)
            .map_err(|e| Error::InvalidArgument(format!("invalid X-Registry-Auth header: {e}")))
    }

    /// Parses the JSON form. Keys match case-insensitively, as Go's
    /// `encoding/json` (which dockerd uses) does.
    pub fn from_json(json: &[u8]) -> Result<AuthConfig> {
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(json)
            .map_err(|e| Error::InvalidArgument(format!("invalid auth config: {e}")))?;
        let mut a = AuthConfig::default();
        for (k, v) in map {
            let v = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Null => continue,
                other => {
                    return Err(Error::InvalidArgument(format!(
                        "invalid auth config: {k} must be a string, not {other}"
                    )))
                }
            };
            match k.to_ascii_lowercase().as_str() {
                "username" => a.username = v,
                "password" => a.password = v,
                "auth" => a.auth = v,
                "email" => a.email = v,
                "serveraddress" => a.serveraddress = v,
                "identitytoken" => a.identitytoken = v,
                "registrytoken" => a.registrytoken = v,
                _ => {}
            }
        }
        Ok(a)
    }

    /// Encodes as dockerd's clients do (base64url JSON), e.g. for tests.
    pub fn to_header(&self) -> String {
        let json = serde_json::to_vec(self).expect("plain strings serialize");
        base64::engine::general_purpose::URL_SAFE.encode(json)
    }

    /// Whether no credential of any form is set.
    pub fn is_anonymous(&self) -> bool {
        self.username.is_empty()
            && self.password.is_empty()
            && self.auth.is_empty()
            && self.identitytoken.is_empty()
            && self.registrytoken.is_empty()
    }

    /// Resolves the effective credential (decoding `auth` when needed).
    pub(crate) fn credential(&self) -> Result<Credential> {
        if !self.registrytoken.is_empty() {
            return Ok(Credential::RegistryToken(self.registrytoken.clone()));
        }
        if !self.identitytoken.is_empty() {
            return Ok(Credential::IdentityToken {
                username: self.username.clone(),
                token: self.identitytoken.clone(),
            });
        }
        if !self.username.is_empty() || !self.password.is_empty() {
            return Ok(Credential::Basic {
                username: self.username.clone(),
                password: self.password.clone(),
            });
        }
        if !self.auth.is_empty() {
            let raw = decode_base64(&self.auth).ok_or_else(|| {
                Error::InvalidArgument("invalid auth configuration: auth is not base64".into())
            })?;
            let s = String::from_utf8(raw).map_err(|_| {
                Error::InvalidArgument("invalid auth configuration: auth is not utf-8".into())
            })?;
            let (u, p) = s.split_once(':').ok_or_else(|| {
                Error::InvalidArgument(
                    "invalid auth configuration: auth is not username:password".into(),
                )
            })?;
            return Ok(Credential::Basic {
                username: u.to_string(),
                password: p.to_string(),
            });
        }
        Ok(Credential::Anonymous)
    }
}

/// The credential actually presented to a registry.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Credential {
    Anonymous,
    Basic { username: String, password: String },
    IdentityToken { username: String, token: String },
    RegistryToken(String),
}

impl Credential {
    /// A digest identifying the credential, so cached tokens are never shared
    /// between two callers with different credentials.
    pub(crate) fn fingerprint(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        match self {
            Credential::Anonymous => h.update(b"anon"),
            Credential::Basic { username, password } => {
                h.update(b"basic\0");
                h.update(username.as_bytes());
                h.update(b"\0");
                h.update(password.as_bytes());
            }
            Credential::IdentityToken { username, token } => {
                h.update(b"identity\0");
                h.update(username.as_bytes());
                h.update(b"\0");
                h.update(token.as_bytes());
            }
            Credential::RegistryToken(t) => {
                h.update(b"registry\0");
                h.update(t.as_bytes());
            }
        }
        h.finalize().into()
    }

    pub(crate) fn is_anonymous(&self) -> bool {
        matches!(self, Credential::Anonymous)
    }

    fn basic_header(&self) -> Option<HeaderValue> {
        match self {
            Credential::Basic { username, password } => {
                let enc = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{password}"));
                let mut v = HeaderValue::from_str(&format!("Basic {enc}")).ok()?;
                v.set_sensitive(true);
                Some(v)
            }
            _ => None,
        }
    }
}

/// One `WWW-Authenticate` challenge: a scheme (lowercased) and its parameters
/// (keys lowercased), e.g. `bearer` with `realm`, `service`, `scope`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    /// A parameter by (lowercase) name.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }
}

/// Parses a `WWW-Authenticate` value, which may hold several challenges:
/// `Basic realm="x", Bearer realm="https://auth/token",service="reg",scope="repository:a:pull"`.
pub fn parse_challenges(header: &str) -> Vec<Challenge> {
    let b = header.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    let is_sep = |c: u8| c == b',' || c.is_ascii_whitespace();
    let skip = |i: &mut usize, also_comma: bool| {
        while *i < b.len() && (b[*i].is_ascii_whitespace() || (also_comma && b[*i] == b',')) {
            *i += 1;
        }
    };
    let token = |i: &mut usize| {
        let start = (*i).min(b.len());
        *i = start;
        while *i < b.len() && !is_sep(b[*i]) && b[*i] != b'=' && b[*i] != b'"' {
            *i += 1;
        }
        &header[start..*i]
    };
    loop {
        skip(&mut i, true);
        if i >= b.len() {
            break;
        }
        let scheme = token(&mut i);
        if scheme.is_empty() {
            i += 1; // a stray character: skip it
            continue;
        }
        let mut ch = Challenge {
            scheme: scheme.to_ascii_lowercase(),
            params: BTreeMap::new(),
        };
        loop {
            skip(&mut i, false);
            let save = i;
            let key = token(&mut i);
            skip(&mut i, false);
            if key.is_empty() || i >= b.len() || b[i] != b'=' {
                i = save; // the next challenge's scheme (or the end)
                break;
            }
            i += 1;
            skip(&mut i, false);
            let value = if i < b.len() && b[i] == b'"' {
                i += 1;
                let mut v = String::new();
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' && i + 1 < b.len() {
                        i += 1;
                    }
                    let c = header[i..].chars().next().expect("in bounds");
                    v.push(c);
                    i += c.len_utf8();
                }
                // The closing quote, when there is one (an unclosed value
                // ends the header: found by fuzz/, a slice out of bounds).
                if i < b.len() {
                    i += 1;
                }
                v
            } else {
                let start = i;
                while i < b.len() && !is_sep(b[i]) {
                    i += 1;
                }
                header[start..i].to_string()
            };
            ch.params.insert(key.to_ascii_lowercase(), value);
            skip(&mut i, false);
            if i < b.len() && b[i] == b',' {
                i += 1;
            }
        }
        out.push(ch);
    }
    out
}

/// Picks the challenge to answer: Bearer over Basic, others ignored.
pub(crate) fn pick_challenge(challenges: Vec<Challenge>) -> Option<Challenge> {
    let mut basic = None;
    for c in challenges {
        match c.scheme.as_str() {
            "bearer" if c.param("realm").is_some() => return Some(c),
            "basic" => basic = Some(c),
            _ => {}
        }
    }
    basic
}

/// A token endpoint's answer (distribution's token spec; `access_token` is the OAuth2 name).
#[derive(Debug, Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: String,
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
}

/// What a token request yields.
pub(crate) struct Token {
    pub header: HeaderValue,
    pub expires: Instant,
    pub refresh_token: Option<String>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct TokenKey {
    host: String,
    scope: String,
    credential: [u8; 32],
}

/// Challenges seen per registry host and tokens per (host, scope, credential).
#[derive(Default)]
pub(crate) struct AuthCache {
    challenges: Mutex<HashMap<String, Challenge>>,
    tokens: Mutex<HashMap<TokenKey, (HeaderValue, Instant)>>,
}

/// Tokens are refreshed this long before they expire, so a request started
/// with one does not arrive with a stale one.
const EXPIRY_MARGIN: Duration = Duration::from_secs(10);
/// The token spec's minimum and default lifetime.
const MIN_TOKEN_LIFETIME: u64 = 60;

impl AuthCache {
    pub(crate) fn set_challenge(&self, host: &str, ch: Challenge) {
        self.challenges
            .lock()
            .expect("auth cache lock")
            .insert(host.to_string(), ch);
    }

    pub(crate) fn challenge(&self, host: &str) -> Option<Challenge> {
        self.challenges
            .lock()
            .expect("auth cache lock")
            .get(host)
            .cloned()
    }

    /// The `Authorization` value for a request to `host` needing `scopes`,
    /// fetching a token when the host uses Bearer auth and none is cached (or
    /// `refresh` is set). `None` when no challenge is known or the challenge
    /// cannot be answered with this credential.
    pub(crate) async fn header(
        &self,
        http: &reqwest::Client,
        host: &str,
        scopes: &[String],
        cred: &Credential,
        refresh: bool,
    ) -> Result<Option<HeaderValue>> {
        let Some(ch) = self.challenge(host) else {
            return Ok(None);
        };
        match ch.scheme.as_str() {
            "basic" => Ok(cred.basic_header()),
            "bearer" => {
                if let Credential::RegistryToken(t) = cred {
                    return Ok(bearer(t));
                }
                let key = TokenKey {
                    host: host.to_string(),
                    scope: scopes.join(" "),
                    credential: cred.fingerprint(),
                };
                if !refresh {
                    let tokens = self.tokens.lock().expect("auth cache lock");
                    if let Some((h, exp)) = tokens.get(&key) {
                        if Instant::now() + EXPIRY_MARGIN < *exp {
                            return Ok(Some(h.clone()));
                        }
                    }
                }
                let t = fetch_token(http, host, &ch, scopes, cred, false).await?;
                let mut tokens = self.tokens.lock().expect("auth cache lock");
                // Drop expired tokens so a long-running daemon's cache stays small.
                let now = Instant::now();
                tokens.retain(|_, (_, exp)| *exp > now);
                tokens.insert(key, (t.header.clone(), t.expires));
                Ok(Some(t.header))
            }
            _ => Ok(None),
        }
    }
}

fn bearer(token: &str) -> Option<HeaderValue> {
    let mut v = HeaderValue::from_str(&format!("Bearer {token}")).ok()?;
    v.set_sensitive(true);
    Some(v)
}

/// Calls the challenge's realm for a token. With `offline` (login) it asks
/// for a refresh token too, which becomes Docker's `IdentityToken`.
pub(crate) async fn fetch_token(
    http: &reqwest::Client,
    registry: &str,
    ch: &Challenge,
    scopes: &[String],
    cred: &Credential,
    offline: bool,
) -> Result<Token> {
    let realm = ch.param("realm").unwrap_or_default();
    let mut url = url::Url::parse(realm).map_err(|e| Error::Protocol {
        registry: registry.to_string(),
        message: format!("invalid token realm {realm:?}: {e}"),
    })?;
    let service = ch.param("service").unwrap_or_default();
    let (method, req) = match cred {
        Credential::IdentityToken { token, .. } => {
            // OAuth2 refresh-token grant, as the docker CLI's identity tokens expect.
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "refresh_token")
                .append_pair("refresh_token", token)
                .append_pair("client_id", "berth");
            if !service.is_empty() {
                form.append_pair("service", service);
            }
            if !scopes.is_empty() {
                form.append_pair("scope", &scopes.join(" "));
            }
            let req = http
                .post(url.clone())
                .header(
                    http::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(form.finish());
            ("POST", req)
        }
        _ => {
            {
                let mut q = url.query_pairs_mut();
                if !service.is_empty() {
                    q.append_pair("service", service);
                }
                for s in scopes {
                    q.append_pair("scope", s);
                }
                if let Credential::Basic { username, .. } = cred {
                    q.append_pair("account", username);
                    if offline {
                        q.append_pair("offline_token", "true")
                            .append_pair("client_id", "berth");
                    }
                }
            }
            let mut req = http.get(url.clone());
            if let Some(h) = cred.basic_header() {
                req = req.header(http::header::AUTHORIZATION, h);
            }
            ("GET", req)
        }
    };
    let shown = {
        let mut u = url.clone();
        u.set_query(None);
        u.to_string()
    };
    let resp = req.send().await.map_err(|source| Error::Connection {
        registry: registry.to_string(),
        request: crate::error::request(method, shown.clone()),
        source,
    })?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(|source| Error::Connection {
        registry: registry.to_string(),
        request: crate::error::request(method, shown.clone()),
        source,
    })?;
    if status == 401 || status == 403 {
        // Docker Hub answers {"details":"incorrect username or password"}.
        #[derive(Deserialize)]
        struct Details {
            details: String,
        }
        let detail = serde_json::from_slice::<Details>(&body)
            .map(|d| d.details)
            .unwrap_or_else(|_| RegistryErrors::parse(status.as_u16(), &body).to_string());
        return Err(Error::Unauthorized {
            registry: registry.to_string(),
            repository: None,
            message: format!("{method} \"{shown}\": unauthorized: {detail}"),
        });
    }
    if !status.is_success() {
        return Err(Error::Registry {
            registry: registry.to_string(),
            repository: None,
            request: crate::error::request(method, shown),
            detail: RegistryErrors::parse(status.as_u16(), &body),
        });
    }
    let t: TokenResponse = serde_json::from_slice(&body).map_err(|e| Error::Protocol {
        registry: registry.to_string(),
        message: format!("invalid token response from {shown}: {e}"),
    })?;
    let token = if t.token.is_empty() {
        t.access_token
    } else {
        t.token
    };
    if token.is_empty() {
        return Err(Error::Protocol {
            registry: registry.to_string(),
            message: format!("token response from {shown} has no token"),
        });
    }
    let lifetime = t
        .expires_in
        .unwrap_or(MIN_TOKEN_LIFETIME)
        .max(MIN_TOKEN_LIFETIME);
    Ok(Token {
        header: bearer(&token).ok_or_else(|| Error::Protocol {
            registry: registry.to_string(),
            message: "token is not a valid header value".into(),
        })?,
        expires: Instant::now() + Duration::from_secs(lifetime),
        refresh_token: t.refresh_token.filter(|s| !s.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(scheme: &str, params: &[(&str, &str)]) -> Challenge {
        Challenge {
            scheme: scheme.into(),
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// Found by fuzz/registry_auth: an unclosed quoted value at the end.
    #[test]
    fn an_unclosed_quote_ends_the_header() {
        let c = parse_challenges("Bearer realm=\"x");
        assert_eq!(c[0].param("realm"), Some("x"));
        let _ = parse_challenges(" \t \n=\" \t");
        let _ = parse_challenges("a b=\"\\");
    }

    #[test]
    fn challenges() {
        let cases: Vec<(&str, Vec<Challenge>)> = vec![
            (
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#,
                vec![ch(
                    "bearer",
                    &[
                        ("realm", "https://auth.docker.io/token"),
                        ("service", "registry.docker.io"),
                        ("scope", "repository:library/busybox:pull"),
                    ],
                )],
            ),
            (
                r#"Basic realm="Registry Realm""#,
                vec![ch("basic", &[("realm", "Registry Realm")])],
            ),
            (
                r#"Basic realm="a, b", Bearer realm="https://t/x", service=reg , scope="repository:a/b:pull,push""#,
                vec![
                    ch("basic", &[("realm", "a, b")]),
                    ch(
                        "bearer",
                        &[
                            ("realm", "https://t/x"),
                            ("service", "reg"),
                            ("scope", "repository:a/b:pull,push"),
                        ],
                    ),
                ],
            ),
            (
                r#"BEARER Realm="q\"x",error="insufficient_scope""#,
                vec![ch(
                    "bearer",
                    &[("realm", "q\"x"), ("error", "insufficient_scope")],
                )],
            ),
            ("Negotiate", vec![ch("negotiate", &[])]),
            ("", vec![]),
        ];
        for (input, want) in cases {
            assert_eq!(parse_challenges(input), want, "{input}");
        }
    }

    #[test]
    fn pick_prefers_bearer() {
        let got = pick_challenge(parse_challenges(
            r#"Basic realm="x", Bearer realm="https://t""#,
        ))
        .unwrap();
        assert_eq!(got.scheme, "bearer");
        assert_eq!(
            pick_challenge(parse_challenges(r#"Basic realm="x""#))
                .unwrap()
                .scheme,
            "basic"
        );
        assert!(pick_challenge(parse_challenges("Bearer service=x")).is_none());
    }

    #[test]
    fn header_decoding() {
        let json = br#"{"username":"u","password":"p?>","serveraddress":"127.0.0.1:5000"}"#;
        let url_nopad = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
        let url_pad = base64::engine::general_purpose::URL_SAFE.encode(json);
        let std_pad = base64::engine::general_purpose::STANDARD.encode(json);
        assert_ne!(url_pad, std_pad, "the sample must differ between alphabets");
        for h in [&url_nopad, &url_pad, &std_pad] {
            let a = AuthConfig::from_header(h).unwrap();
            assert_eq!(a.username, "u");
            assert_eq!(a.password, "p?>");
            assert_eq!(a.serveraddress, "127.0.0.1:5000");
        }
        assert!(AuthConfig::from_header("").unwrap().is_anonymous());
        // "{}"
        assert!(AuthConfig::from_header("e30=").unwrap().is_anonymous());
        assert!(AuthConfig::from_header("%%%").is_err());
        let a = AuthConfig::basic("me", "secret");
        assert_eq!(AuthConfig::from_header(&a.to_header()).unwrap(), a);
        assert!(!format!("{a:?}").contains("secret"));
    }

    #[test]
    fn json_keys_are_case_insensitive_and_auth_decodes() {
        let a = AuthConfig::from_json(br#"{"Username":"x","Password":"y","Email":null}"#).unwrap();
        assert!(
            matches!(a.credential().unwrap(), Credential::Basic { username, password } if username == "x" && password == "y")
        );
        // auth = base64("user:pa:ss")
        let a = AuthConfig::from_json(br#"{"auth":"dXNlcjpwYTpzcw=="}"#).unwrap();
        assert!(
            matches!(a.credential().unwrap(), Credential::Basic { username, password } if username == "user" && password == "pa:ss")
        );
        let a = AuthConfig::from_json(br#"{"identitytoken":"rt","username":"u"}"#).unwrap();
        assert!(matches!(
            a.credential().unwrap(),
            Credential::IdentityToken { .. }
        ));
        assert!(AuthConfig::from_json(br#"{"auth":"bm9jb2xvbg=="}"#)
            .unwrap()
            .credential()
            .is_err());
        assert!(AuthConfig::from_json(br#"{"username":1}"#).is_err());
    }

    #[test]
    fn fingerprints_differ() {
        let a = Credential::Basic {
            username: "a".into(),
            password: "b".into(),
        };
        let b = Credential::Basic {
            username: "a".into(),
            password: "c".into(),
        };
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), Credential::Anonymous.fingerprint());
    }
}
