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

    /// Fully-qualified name, e.g. `docker.io/library/busybox:latest`.
    pub fn full(&self) -> String {
        let mut s = full_name(&self.name);
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

    /// Value for the `tag` query parameter of `/images/create`.
    pub fn tag_or_digest(&self) -> String {
        self.digest
            .clone()
            .or_else(|| self.tag.clone())
            .unwrap_or_else(|| "latest".into())
    }
}

/// `busybox` -> `docker.io/library/busybox`; names with a registry domain are kept.
pub fn full_name(name: &str) -> String {
    match name.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            name.to_string()
        }
        Some(_) => format!("docker.io/{name}"),
        None => format!("docker.io/library/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_refs() {
        let r = Reference::parse("busybox");
        assert_eq!(r.familiar_tagged(), "busybox:latest");
        assert_eq!(r.full(), "docker.io/library/busybox:latest");
        assert_eq!(r.tag_or_digest(), "latest");
        let r = Reference::parse("localhost:5000/foo/bar:v1");
        assert_eq!(r.name, "localhost:5000/foo/bar");
        assert_eq!(r.tag.as_deref(), Some("v1"));
        assert_eq!(r.full(), "localhost:5000/foo/bar:v1");
        let r = Reference::parse("localhost:5000/foo");
        assert_eq!(r.name, "localhost:5000/foo");
        assert_eq!(r.tag, None);
        let r = Reference::parse("foo/bar@sha256:abc");
        assert_eq!(r.digest.as_deref(), Some("sha256:abc"));
        assert_eq!(r.familiar_tagged(), "foo/bar@sha256:abc");
        assert_eq!(r.full(), "docker.io/foo/bar@sha256:abc");
    }
}
