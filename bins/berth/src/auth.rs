//! Registry credentials as the docker CLI keeps them: `config.json` in
//! `$DOCKER_CONFIG` (default `~/.docker`) with `auths.<server>.auth` =
//! base64(`user:password`), or a credential helper (`credsStore`,
//! `credHelpers`); and the `X-Registry-Auth` header built from them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Map, Value};

/// The key under which Docker Hub credentials are stored.
pub const INDEX_SERVER: &str = "https://index.docker.io/v1/";

// ------------------------------------------------------------------ base64

const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn b64_encode(data: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(alphabet[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64 with padding (Go's `base64.StdEncoding`).
pub fn base64_std(data: &[u8]) -> String {
    b64_encode(data, STD)
}

/// URL-safe base64 with padding (Go's `base64.URLEncoding`).
pub fn base64_url(data: &[u8]) -> String {
    b64_encode(data, URL)
}

/// Decode standard base64 (padding optional).
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = STD.iter().position(|&x| x == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    (bits < 6).then_some(out)
}

// ------------------------------------------------------------------ AuthConfig

/// Docker's `registry.AuthConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthConfig {
    pub username: String,
    pub password: String,
    pub auth: String,
    pub email: String,
    pub server_address: String,
    pub identity_token: String,
    pub registry_token: String,
}

impl AuthConfig {
    /// The JSON docker sends (`omitempty` fields, Go field order).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        for (k, v) in [
            ("username", &self.username),
            ("password", &self.password),
            ("auth", &self.auth),
            ("email", &self.email),
            ("serveraddress", &self.server_address),
            ("identitytoken", &self.identity_token),
            ("registrytoken", &self.registry_token),
        ] {
            if !v.is_empty() {
                m.insert(k.into(), Value::String(v.clone()));
            }
        }
        Value::Object(m)
    }

    /// The `X-Registry-Auth` header value: base64url(JSON); `e30=` (`{}`)
    /// when there are no credentials.
    pub fn encode_header(&self) -> String {
        base64_url(self.to_json().to_string().as_bytes())
    }
}

/// Docker's `ConvertToHostname`: strip `http(s)://` and any path.
pub fn convert_to_hostname(url: &str) -> String {
    let stripped = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or(url);
    stripped.split('/').next().unwrap_or("").to_string()
}

/// The credential key for a registry domain (`docker.io` → [`INDEX_SERVER`]).
pub fn key_for_domain(domain: &str) -> String {
    if domain == "docker.io" || domain == "index.docker.io" {
        INDEX_SERVER.to_string()
    } else {
        domain.to_string()
    }
}

// ------------------------------------------------------------------ config.json

/// `$DOCKER_CONFIG`, else `~/.docker`.
pub fn config_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            nix::unistd::User::from_uid(nix::unistd::getuid())
                .ok()
                .flatten()
                .map(|u| u.dir)
        })
        .unwrap_or_else(|| PathBuf::from("/"));
    home.join(".docker")
}

/// The CLI configuration file. All keys are kept as read; only `auths`
/// is changed by [`ConfigFile::store`] / [`ConfigFile::erase`].
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: PathBuf,
    data: Map<String, Value>,
}

/// Split a stored `auth` value into (user, password) like docker's `decodeAuth`.
fn decode_auth(auth: &str) -> Result<(String, String), String> {
    if auth.is_empty() {
        return Ok((String::new(), String::new()));
    }
    let raw = base64_decode(auth).ok_or("illegal base64 data in auth")?;
    let text = String::from_utf8_lossy(&raw);
    match text.split_once(':') {
        Some((user, pass)) if !user.is_empty() => {
            Ok((user.to_string(), pass.trim_matches('\0').to_string()))
        }
        _ => Err("invalid auth configuration file".into()),
    }
}

impl ConfigFile {
    /// Load `config.json` from [`config_dir`]. A missing file is an empty
    /// configuration; an unreadable one too, after docker's warning.
    pub fn load() -> ConfigFile {
        Self::load_from(&config_dir().join("config.json"))
    }

    pub fn load_from(path: &Path) -> ConfigFile {
        let mut cfg = ConfigFile {
            path: path.to_path_buf(),
            data: Map::new(),
        };
        match std::fs::read(path) {
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => {}
            Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(m)) => cfg.data = m,
                Ok(_) => eprintln!(
                    "WARNING: Error loading config file: {}: invalid config file",
                    path.display()
                ),
                Err(e) => eprintln!(
                    "WARNING: Error loading config file: {}: {e}",
                    path.display()
                ),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => eprintln!(
                "WARNING: Error loading config file: {}: {e}",
                path.display()
            ),
        }
        cfg
    }

    /// A string setting of the file (`volumesFormat`, ...).
    pub fn string(&self, key: &str) -> Option<String> {
        self.data
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    /// Sets `currentContext` (`None` removes it, as docker's `omitempty`).
    /// A new file gets `auths` first, as docker writes it.
    pub fn set_current_context(&mut self, name: Option<&str>) {
        match name {
            Some(n) => {
                if !self.data.contains_key("auths") {
                    self.data.insert("auths".into(), Value::Object(Map::new()));
                }
                self.data
                    .insert("currentContext".into(), Value::String(n.into()));
            }
            None => {
                self.data.shift_remove("currentContext");
            }
        }
    }

    /// `pruneFilters` (`key=value` strings) from the file.
    pub fn prune_filters(&self) -> Vec<String> {
        self.data
            .get("pruneFilters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }

    fn auths(&self) -> Option<&Map<String, Value>> {
        self.data.get("auths").and_then(Value::as_object)
    }

    fn auths_mut(&mut self) -> &mut Map<String, Value> {
        let v = self
            .data
            .entry("auths")
            .or_insert_with(|| Value::Object(Map::new()));
        if !v.is_object() {
            *v = Value::Object(Map::new());
        }
        match v {
            Value::Object(m) => m,
            _ => unreachable!("auths was just made an object"),
        }
    }

    fn file_entry(&self, key: &str) -> Option<AuthConfig> {
        let e = self.auths()?.get(key)?;
        let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let (username, password) = decode_auth(&s("auth")).unwrap_or_default();
        Some(AuthConfig {
            username,
            password,
            auth: String::new(),
            email: s("email"),
            server_address: key.to_string(),
            identity_token: s("identitytoken"),
            registry_token: s("registrytoken"),
        })
    }

    /// Credentials from the file (docker's `fileStore.Get`, including the
    /// legacy `https://host/v1/` keys).
    fn file_get(&self, key: &str) -> AuthConfig {
        if let Some(a) = self.file_entry(key) {
            return a;
        }
        let legacy = self
            .auths()
            .into_iter()
            .flat_map(|m| m.keys())
            .find(|k| convert_to_hostname(k) == key)
            .cloned();
        legacy.and_then(|k| self.file_entry(&k)).unwrap_or_default()
    }

    /// The credential helper for `key`: `credHelpers[key]`, else `credsStore`,
    /// else (when the file holds no credentials at all) the platform default
    /// helper if it is installed, as docker does.
    fn helper_for(&self, key: &str) -> Option<String> {
        if let Some(h) = self
            .data
            .get("credHelpers")
            .and_then(|h| h.get(key))
            .and_then(Value::as_str)
        {
            return Some(h.to_string());
        }
        if let Some(s) = self
            .data
            .get("credsStore")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            return Some(s.to_string());
        }
        let has_auth = self.auths().is_some_and(|a| !a.is_empty())
            || self
                .data
                .get("credHelpers")
                .and_then(Value::as_object)
                .is_some_and(|h| !h.is_empty());
        if has_auth {
            return None;
        }
        let default = if in_path("pass") {
            "pass"
        } else {
            "secretservice"
        };
        in_path(&format!("docker-credential-{default}")).then(|| default.to_string())
    }

    /// Credentials for a registry key (a hostname, or [`INDEX_SERVER`]).
    /// Empty when none are stored.
    pub fn get(&self, key: &str) -> Result<AuthConfig, String> {
        match self.helper_for(key) {
            Some(helper) => {
                let mut auth = self.file_get(key);
                let creds = helper_get(&helper, key)?;
                if let Some(c) = creds {
                    auth.username = c.username;
                    auth.password = c.password;
                    auth.identity_token = c.identity_token;
                    auth.server_address = key.to_string();
                }
                Ok(auth)
            }
            None => Ok(self.file_get(key)),
        }
    }

    /// Store credentials under `auth.server_address` (docker's `Store`).
    /// Returns whether the plain-text warning applies (a password was written
    /// to the file).
    pub fn store(&mut self, auth: &AuthConfig) -> Result<bool, String> {
        let key = auth.server_address.clone();
        let mut file_auth = auth.clone();
        if let Some(helper) = self.helper_for(&key) {
            helper_store(&helper, auth)?;
            file_auth.username.clear();
            file_auth.password.clear();
            file_auth.identity_token.clear();
        }
        if self.file_entry(&key).as_ref() == Some(&file_auth) {
            return Ok(false);
        }
        let mut entry = Map::new();
        if !file_auth.username.is_empty() || !file_auth.password.is_empty() {
            let plain = format!("{}:{}", file_auth.username, file_auth.password);
            entry.insert("auth".into(), Value::String(base64_std(plain.as_bytes())));
        }
        for (k, v) in [
            ("email", &file_auth.email),
            ("identitytoken", &file_auth.identity_token),
            ("registrytoken", &file_auth.registry_token),
        ] {
            if !v.is_empty() {
                entry.insert(k.into(), Value::String(v.clone()));
            }
        }
        self.auths_mut().insert(key, Value::Object(entry));
        self.save().map_err(|e| e.to_string())?;
        Ok(!file_auth.password.is_empty())
    }

    /// Remove the credentials for `key` (docker's `Erase`; a no-op when absent).
    pub fn erase(&mut self, key: &str) -> Result<(), String> {
        if let Some(helper) = self.helper_for(key) {
            helper_erase(&helper, key)?;
        }
        if self.auths().is_some_and(|a| a.contains_key(key)) {
            self.auths_mut().remove(key);
            self.save().map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// The file as docker writes it: tab-indented JSON.
    fn render(&self) -> Vec<u8> {
        let mut data = self.data.clone();
        data.entry("auths")
            .or_insert_with(|| Value::Object(Map::new()));
        let mut buf = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
        serde::Serialize::serialize(&data, &mut ser).expect("serializing JSON to memory");
        buf
    }

    /// Write atomically: a 0600 temporary file in the same directory (created
    /// 0700 if needed), the old file's mode and owner copied, then renamed.
    pub fn save(&self) -> std::io::Result<()> {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let target = std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
        let base = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "config.json".into());
        let tmp = dir.join(format!(".{base}.{}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(&self.render())?;
            f.sync_all()?;
            if let Ok(old) = std::fs::metadata(&target) {
                let _ = std::fs::set_permissions(
                    &tmp,
                    std::fs::Permissions::from_mode(old.mode() & 0o7777),
                );
                let _ = std::os::unix::fs::chown(&tmp, Some(old.uid()), Some(old.gid()));
            }
            std::fs::rename(&tmp, &target)
        };
        let res = write();
        if res.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        res
    }
}

/// docker's warning after storing a password in the file.
pub fn plaintext_warning(path: &Path) -> String {
    format!(
        "\nWARNING! Your credentials are stored unencrypted in '{}'.\n\
         Configure a credential helper to remove this warning. See\n\
         https://docs.docker.com/go/credential-store/\n",
        path.display()
    )
}

// ------------------------------------------------------------------ credential helpers

fn in_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
}

/// Run `docker-credential-<helper> <action>` with `input`; (success, stdout).
fn run_helper(helper: &str, action: &str, input: &[u8]) -> Result<(bool, String), String> {
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("exec: \"{program}\": {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input);
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    ))
}

fn helper_get(helper: &str, key: &str) -> Result<Option<AuthConfig>, String> {
    let (ok, out) = run_helper(helper, "get", key.as_bytes())?;
    if !ok {
        if out == "credentials not found in native keychain" {
            return Ok(None);
        }
        return Err(format!(
            "error getting credentials - err: exit status 1, out: `{out}`"
        ));
    }
    let v: Value = serde_json::from_str(&out).map_err(|e| e.to_string())?;
    let user = v["Username"].as_str().unwrap_or("").to_string();
    let secret = v["Secret"].as_str().unwrap_or("").to_string();
    Ok(Some(if user == "<token>" {
        AuthConfig {
            identity_token: secret,
            ..Default::default()
        }
    } else {
        AuthConfig {
            username: user,
            password: secret,
            ..Default::default()
        }
    }))
}

fn helper_store(helper: &str, a: &AuthConfig) -> Result<(), String> {
    let (user, secret) = if a.identity_token.is_empty() {
        (a.username.as_str(), a.password.as_str())
    } else {
        ("<token>", a.identity_token.as_str())
    };
    let body =
        serde_json::json!({"ServerURL": a.server_address, "Username": user, "Secret": secret});
    let (ok, out) = run_helper(helper, "store", body.to_string().as_bytes())?;
    if !ok {
        return Err(format!(
            "error storing credentials - err: exit status 1, out: `{out}`"
        ));
    }
    Ok(())
}

fn helper_erase(helper: &str, key: &str) -> Result<(), String> {
    let (ok, out) = run_helper(helper, "erase", key.as_bytes())?;
    if !ok {
        return Err(format!(
            "error erasing credentials - err: exit status 1, out: `{out}`"
        ));
    }
    Ok(())
}

/// The `X-Registry-Auth` value for pulling or pushing `domain`'s images
/// (docker's `RetrieveAuthTokenFromImage`).
pub fn registry_auth_header(domain: &str) -> Result<String, String> {
    let cfg = ConfigFile::load();
    Ok(cfg.get(&key_for_domain(domain))?.encode_header())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("berth-tcli-auth-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn base64_codecs() {
        assert_eq!(base64_std(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64_std(b"a"), "YQ==");
        assert_eq!(base64_std(b"ab"), "YWI=");
        assert_eq!(base64_url(&[0xfb, 0xff]), "-_8=");
        assert_eq!(base64_decode("dXNlcjpwYXNz").unwrap(), b"user:pass");
        assert_eq!(base64_decode("YWI=").unwrap(), b"ab");
        assert!(base64_decode("!!").is_none());
    }

    #[test]
    fn auth_header_encoding() {
        // docker sends `{}` when there are no credentials.
        assert_eq!(AuthConfig::default().encode_header(), "e30=");
        let a = AuthConfig {
            username: "user".into(),
            password: "pass".into(),
            server_address: "127.0.0.1:5000".into(),
            ..Default::default()
        };
        let h = a.encode_header();
        assert!(!h.contains('+') && !h.contains('/'), "{h}");
        let json =
            String::from_utf8(base64_decode(&h.replace('-', "+").replace('_', "/")).unwrap())
                .unwrap();
        assert_eq!(
            json,
            r#"{"username":"user","password":"pass","serveraddress":"127.0.0.1:5000"}"#
        );
        let t = AuthConfig {
            identity_token: "tok".into(),
            server_address: "r.example".into(),
            ..Default::default()
        };
        assert_eq!(
            t.to_json().to_string(),
            r#"{"serveraddress":"r.example","identitytoken":"tok"}"#
        );
        assert_eq!(key_for_domain("docker.io"), INDEX_SERVER);
        assert_eq!(key_for_domain("127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(
            convert_to_hostname("https://r.example:5000/v2/"),
            "r.example:5000"
        );
        assert_eq!(convert_to_hostname("r.example"), "r.example");
    }

    #[test]
    fn config_file_editing() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tmpdir("edit");
        let path = dir.join("sub").join("config.json");
        // A new file is created 0600 (and its directory 0700).
        let mut cfg = ConfigFile::load_from(&path);
        assert_eq!(cfg.get("127.0.0.1:5000").unwrap(), AuthConfig::default());
        let a = AuthConfig {
            username: "user".into(),
            password: "pass".into(),
            server_address: "127.0.0.1:5000".into(),
            ..Default::default()
        };
        assert!(cfg.store(&a).unwrap());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dmode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dmode & 0o777, 0o700);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\n\t\"auths\": {\n\t\t\"127.0.0.1:5000\": {\n\t\t\t\"auth\": \"dXNlcjpwYXNz\"\n\t\t}\n\t}\n}"
        );
        // Storing the same credentials again changes nothing (no warning).
        assert!(!cfg.store(&a).unwrap());

        // Other keys and entries are preserved, in order.
        std::fs::write(
            &path,
            r#"{"psFormat": "table {{.ID}}", "auths": {"other:1": {"auth": "YTpi"}, "https://legacy:2/v1/": {"auth": "Yzpk"}}, "proxies": {"default": {"httpProxy": "x"}}}"#,
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let mut cfg = ConfigFile::load_from(&path);
        let got = cfg.get("other:1").unwrap();
        assert_eq!((got.username.as_str(), got.password.as_str()), ("a", "b"));
        assert_eq!(got.server_address, "other:1");
        // Legacy keys match by hostname.
        let legacy = cfg.get("legacy:2").unwrap();
        assert_eq!(legacy.username, "c");
        assert_eq!(legacy.server_address, "https://legacy:2/v1/");
        let tok = AuthConfig {
            username: "user".into(),
            identity_token: "tok".into(),
            server_address: "127.0.0.1:5000".into(),
            ..Default::default()
        };
        assert!(!cfg.store(&tok).unwrap());
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["psFormat", "auths", "proxies"]);
        assert_eq!(v["proxies"]["default"]["httpProxy"], "x");
        assert_eq!(v["auths"]["other:1"]["auth"], "YTpi");
        assert_eq!(v["auths"]["127.0.0.1:5000"]["auth"], "dXNlcjo=");
        assert_eq!(v["auths"]["127.0.0.1:5000"]["identitytoken"], "tok");
        // The existing file's mode is kept.
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        let back = ConfigFile::load_from(&path).get("127.0.0.1:5000").unwrap();
        assert_eq!(back.identity_token, "tok");

        cfg.erase("127.0.0.1:5000").unwrap();
        cfg.erase("absent:1").unwrap();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(v["auths"].get("127.0.0.1:5000").is_none());
        assert_eq!(v["auths"]["other:1"]["auth"], "YTpi");
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, ["config.json"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_config_is_ignored() {
        let dir = tmpdir("bad");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.json");
        std::fs::write(&path, "{not json").unwrap();
        let cfg = ConfigFile::load_from(&path);
        assert_eq!(cfg.get("x").unwrap(), AuthConfig::default());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
