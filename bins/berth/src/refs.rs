//! Image reference helpers (docker's familiar vs. fully-qualified names).

/// A parsed `[domain/]path[:tag][@digest]` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Repository name as written (without tag/digest).
    pub name: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl Reference {
    pub fn parse(s: &str) -> Reference {
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(d.to_string())),
            None => (s, None),
        };
        let last_slash = rest.rfind('/').map(|p| p + 1).unwrap_or(0);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(p) => (
                rest[..last_slash + p].to_string(),
                Some(rest[last_slash + p + 1..].to_string()),
            ),
            None => (rest.to_string(), None),
        };
        Reference { name, tag, digest }
    }

    /// Name with `:latest` added when neither tag nor digest is given.
    pub fn familiar_tagged(&self) -> String {
        let mut s = self.name.clone();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        } else if self.digest.is_none() {
            s.push_str(":latest");
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }
}

/// A reference normalized like docker's `reference.ParseNormalizedNamed`:
/// `busybox` → domain `docker.io`, path `library/busybox`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub domain: String,
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

const INVALID_FORMAT: &str = "invalid reference format";

fn is_alnum_lower(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `path-component := [a-z0-9]+ (separator [a-z0-9]+)*`, separator `[_.]|__|-+`.
fn valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() || !is_alnum_lower(b[0]) || !is_alnum_lower(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_alnum_lower(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !is_alnum_lower(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// `domain := host [':' port]`, host a DNS name, IPv4 address or `[IPv6]`.
fn valid_domain(d: &str) -> bool {
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        match rest.split_once(']') {
            Some((v6, tail)) => {
                if v6.is_empty() || !v6.bytes().all(|c| c.is_ascii_hexdigit() || c == b':') {
                    return false;
                }
                match tail {
                    "" => return true,
                    t => match t.strip_prefix(':') {
                        Some(p) => ("x", p),
                        None => return false,
                    },
                }
            }
            None => return false,
        }
    } else {
        match d.split_once(':') {
            Some((h, p)) => (h, p),
            None => (d, "0"),
        }
    };
    if port.is_empty() || !port.bytes().all(|c| c.is_ascii_digit()) {
        return false;
    }
    host.split('.').all(|c| {
        let b = c.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
    })
}

fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// Digest syntax and, for the registered algorithms, length (go-digest's checks).
fn check_digest(d: &str) -> Result<(), String> {
    let Some((alg, hex)) = d.split_once(':') else {
        return Err(INVALID_FORMAT.into());
    };
    let alg_ok = !alg.is_empty()
        && alg.split(['+', '.', '-', '_']).all(|c| {
            let b = c.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphabetic()
                && b.iter().all(|x| x.is_ascii_alphanumeric())
        });
    if !alg_ok || hex.len() < 32 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(INVALID_FORMAT.into());
    }
    let want = match alg {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return Err("unsupported digest algorithm".into()),
    };
    if hex.len() != want {
        return Err("invalid checksum digest length".into());
    }
    if hex.bytes().any(|c| c.is_ascii_uppercase()) {
        return Err("invalid checksum digest format".into());
    }
    Ok(())
}

impl Named {
    /// Parse and normalize like `reference.ParseNormalizedNamed`, with the
    /// same error messages.
    pub fn parse(s: &str) -> Result<Named, String> {
        if s.len() == 64 && s.bytes().all(|c| matches!(c, b'a'..=b'f' | b'0'..=b'9')) {
            return Err(format!(
                "invalid repository name ({s}), cannot specify 64-byte hexadecimal strings"
            ));
        }
        // splitDockerDomain
        let (mut domain, mut remainder) = match s.split_once('/') {
            Some((first, rest))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.to_lowercase() != first =>
            {
                (first.to_string(), rest.to_string())
            }
            _ => ("docker.io".to_string(), s.to_string()),
        };
        if domain == "index.docker.io" {
            domain = "docker.io".into();
        }
        if domain == "docker.io" && !remainder.contains('/') {
            remainder = format!("library/{remainder}");
        }
        let remote = remainder.split(':').next().unwrap_or("");
        if remote.to_lowercase() != remote {
            return Err(format!(
                "{INVALID_FORMAT}: repository name ({remote}) must be lowercase"
            ));
        }
        // reference.Parse(domain + "/" + remainder)
        let (name_tag, digest) = match remainder.split_once('@') {
            Some((n, d)) => (n, Some(d.to_string())),
            None => (remainder.as_str(), None),
        };
        let (path, tag) = match name_tag.rfind(':') {
            Some(p) if !name_tag[p..].contains('/') => {
                (&name_tag[..p], Some(name_tag[p + 1..].to_string()))
            }
            _ => (name_tag, None),
        };
        if path.is_empty() && tag.is_none() && digest.is_none() {
            return Err("repository name must have at least one component".into());
        }
        if !valid_domain(&domain) || !path.split('/').all(valid_path_component) {
            return Err(INVALID_FORMAT.into());
        }
        if tag.as_deref().is_some_and(|t| !valid_tag(t)) {
            return Err(INVALID_FORMAT.into());
        }
        if let Some(d) = &digest {
            check_digest(d)?;
        }
        if domain.len() + 1 + path.len() > 255 {
            return Err("repository name must not be more than 255 characters".into());
        }
        Ok(Named {
            domain,
            path: path.to_string(),
            tag,
            digest,
        })
    }

    /// `domain/path`, e.g. `docker.io/library/busybox`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// Docker's familiar name: `busybox`, `user/app`, `host:5000/x`.
    pub fn familiar_name(&self) -> String {
        if self.domain == "docker.io" {
            match self.path.strip_prefix("library/") {
                Some(rest) if !rest.contains('/') => rest.to_string(),
                _ => self.path.clone(),
            }
        } else {
            self.name()
        }
    }

    pub fn is_name_only(&self) -> bool {
        self.tag.is_none() && self.digest.is_none()
    }

    /// `reference.TagNameOnly`: add `latest` to a bare name.
    pub fn with_default_tag(mut self) -> Named {
        if self.is_name_only() {
            self.tag = Some("latest".into());
        }
        self
    }

    fn suffix(&self) -> String {
        let mut s = String::new();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }

    /// Fully-qualified string, e.g. `docker.io/library/busybox:latest`.
    pub fn full(&self) -> String {
        format!("{}{}", self.name(), self.suffix())
    }

    /// The `tag` query value of `/images/create` (docker's
    /// `getAPITagFromNamedRef`): the digest, else the tag, else `latest`.
    pub fn api_tag(&self) -> String {
        self.digest
            .clone()
            .or_else(|| self.tag.clone())
            .unwrap_or_else(|| "latest".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_refs() {
        let r = Reference::parse("busybox");
        assert_eq!(r.familiar_tagged(), "busybox:latest");
        let r = Reference::parse("localhost:5000/foo/bar:v1");
        assert_eq!(r.name, "localhost:5000/foo/bar");
        assert_eq!(r.tag.as_deref(), Some("v1"));
        let r = Reference::parse("localhost:5000/foo");
        assert_eq!(r.name, "localhost:5000/foo");
        assert_eq!(r.tag, None);
        let r = Reference::parse("foo/bar@sha256:abc");
        assert_eq!(r.digest.as_deref(), Some("sha256:abc"));
        assert_eq!(r.familiar_tagged(), "foo/bar@sha256:abc");
    }

    #[test]
    fn normalized_names() {
        let n = Named::parse("busybox").unwrap();
        assert_eq!(n.name(), "docker.io/library/busybox");
        assert_eq!(n.familiar_name(), "busybox");
        assert!(n.is_name_only());
        assert_eq!(
            n.clone().with_default_tag().full(),
            "docker.io/library/busybox:latest"
        );
        let n = Named::parse("127.0.0.1:5000/x/y:v1").unwrap();
        assert_eq!(
            (n.domain.as_str(), n.path.as_str()),
            ("127.0.0.1:5000", "x/y")
        );
        assert_eq!(n.tag.as_deref(), Some("v1"));
        assert_eq!(n.full(), "127.0.0.1:5000/x/y:v1");
        assert_eq!(n.familiar_name(), "127.0.0.1:5000/x/y");
        let n = Named::parse("index.docker.io/user/app").unwrap();
        assert_eq!(n.name(), "docker.io/user/app");
        assert_eq!(n.familiar_name(), "user/app");
        let n = Named::parse("localhost/app").unwrap();
        assert_eq!(n.domain, "localhost");
        let d = format!("sha256:{}", "a".repeat(64));
        let n = Named::parse(&format!("busybox@{d}")).unwrap();
        assert_eq!(n.api_tag(), d);
        assert_eq!(n.full(), format!("docker.io/library/busybox@{d}"));
        assert_eq!(
            Named::parse("Busybox").unwrap_err(),
            "invalid reference format: repository name (library/Busybox) must be lowercase"
        );
        assert_eq!(Named::parse("a b").unwrap_err(), "invalid reference format");
        assert_eq!(Named::parse("x:").unwrap_err(), "invalid reference format");
        assert_eq!(
            Named::parse("x/-y").unwrap_err(),
            "invalid reference format"
        );
        assert_eq!(
            Named::parse("x@sha256:abcd").unwrap_err(),
            "invalid reference format"
        );
        assert_eq!(
            Named::parse(&"a".repeat(64)).unwrap_err(),
            format!(
                "invalid repository name ({}), cannot specify 64-byte hexadecimal strings",
                "a".repeat(64)
            )
        );
        assert!(Named::parse("my.registry:5000/a__b/c-d.e:1.0_x").is_ok());
        assert!(Named::parse("[::1]:5000/x").is_ok());
    }
}
