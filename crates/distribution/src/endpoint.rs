//! Registry addressing: which URLs serve a registry name, over HTTP or
//! HTTPS, and the mirrors tried first for Docker Hub.
//!
//! dockerd's rules, simplified: `docker.io` is served by
//! `registry-1.docker.io`; loopback hosts (`localhost`, 127.0.0.0/8, ::1) and
//! hosts or CIDRs in `insecure-registries` use plain HTTP; everything else
//! uses HTTPS. (dockerd tries HTTPS without verification before falling back
//! to HTTP for insecure registries; berth goes straight to HTTP.)

use crate::error::{Error, Result};
use std::net::IpAddr;
use url::Url;

/// The name under which Docker Hub images are referenced.
pub const DOCKER_HUB: &str = "docker.io";
/// The host that actually serves Docker Hub's registry API.
pub const DOCKER_HUB_HOST: &str = "registry-1.docker.io";

/// One base URL serving a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Base URL, e.g. `https://registry-1.docker.io/` (ends with `/`).
    pub url: Url,
    /// `host[:port]` of the URL: the key for auth challenges, tokens and `certs.d`.
    pub host: String,
    /// Whether this is a pull-through mirror (never sent credentials).
    pub mirror: bool,
}

impl Endpoint {
    pub(crate) fn new(url: Url, mirror: bool) -> Endpoint {
        let host = authority(&url);
        Endpoint { url, host, mirror }
    }

    /// `<base>/v2/<path>`; `path` is not escaped (repository names contain `/`).
    pub(crate) fn v2(&self, path: &str) -> Url {
        self.url
            .join(&format!("v2/{path}"))
            .expect("registry paths are valid URL paths")
    }
}

fn authority(url: &Url) -> String {
    let host = match url.host() {
        Some(url::Host::Ipv6(a)) => format!("[{a}]"),
        Some(h) => h.to_string(),
        None => String::new(),
    };
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    }
}

/// An `insecure-registries` entry: a `host[:port]` or a CIDR.
#[derive(Debug, Clone, PartialEq, Eq)]
enum InsecureEntry {
    Host(String),
    Cidr(IpAddr, u8),
}

/// The parsed `insecure-registries` list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InsecureRegistries(Vec<InsecureEntry>);

impl InsecureRegistries {
    /// Parses entries such as `myreg:5000`, `10.0.0.0/8`, `http://myreg`
    /// (the scheme is dropped, as dockerd does).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<InsecureRegistries> {
        let mut out = Vec::new();
        for e in entries {
            let e = e.as_ref().trim();
            let e = e
                .strip_prefix("http://")
                .or_else(|| e.strip_prefix("https://"))
                .unwrap_or(e)
                .trim_end_matches('/');
            if e.is_empty() {
                continue;
            }
            if let Some((ip, bits)) = e.split_once('/') {
                let bad =
                    || Error::InvalidArgument(format!("invalid insecure registry CIDR {e:?}"));
                let ip: IpAddr = ip.parse().map_err(|_| bad())?;
                let bits: u8 = bits.parse().map_err(|_| bad())?;
                let max = if ip.is_ipv4() { 32 } else { 128 };
                if bits > max {
                    return Err(bad());
                }
                out.push(InsecureEntry::Cidr(ip, bits));
            } else if e.contains("://") {
                return Err(Error::InvalidArgument(format!(
                    "insecure registry {e:?} should not contain '://'"
                )));
            } else {
                out.push(InsecureEntry::Host(e.to_ascii_lowercase()));
            }
        }
        Ok(InsecureRegistries(out))
    }

    /// Whether `host[:port]` (as in a reference's domain) is spoken to over
    /// plain HTTP: loopback names and addresses, listed hosts (exactly, port
    /// included) and addresses inside a listed CIDR. Names are not resolved.
    pub fn is_insecure(&self, domain: &str) -> bool {
        let domain = domain.to_ascii_lowercase();
        let host = host_part(&domain);
        if host == "localhost" || host.ends_with(".localhost") {
            return true;
        }
        let ip = host.parse::<IpAddr>().ok();
        if ip.is_some_and(|ip| ip.is_loopback()) {
            return true;
        }
        self.0.iter().any(|e| match e {
            InsecureEntry::Host(h) => *h == domain,
            InsecureEntry::Cidr(net, bits) => ip.is_some_and(|ip| cidr_contains(*net, *bits, ip)),
        })
    }
}

/// The host of `host[:port]` or `[v6]:port`, without brackets.
fn host_part(domain: &str) -> &str {
    if let Some(rest) = domain.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match domain.rsplit_once(':') {
        // A bare IPv6 address has several colons and no port.
        Some((h, p)) if !h.contains(':') && p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => domain,
    }
}

fn cidr_contains(net: IpAddr, bits: u8, ip: IpAddr) -> bool {
    let mask = |len: u32, bits: u8| -> u128 {
        if bits == 0 {
            0
        } else {
            (!0u128 << (len - bits as u32)) & (!0u128 >> (128 - len))
        }
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let m = mask(32, bits);
            (u32::from(n) as u128 & m) == (u32::from(i) as u128 & m)
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let m = mask(128, bits);
            (u128::from(n) & m) == (u128::from(i) & m)
        }
        (IpAddr::V4(n), IpAddr::V6(i)) => i
            .to_ipv4_mapped()
            .is_some_and(|i| cidr_contains(IpAddr::V4(n), bits, IpAddr::V4(i))),
        _ => false,
    }
}

/// Parses `registry-mirrors` entries: absolute http(s) URLs without a path,
/// query or fragment, as dockerd requires.
pub(crate) fn parse_mirrors<S: AsRef<str>>(mirrors: &[S]) -> Result<Vec<Url>> {
    mirrors
        .iter()
        .map(|m| {
            let m = m.as_ref().trim();
            let bad = |why: &str| Error::InvalidArgument(format!("invalid mirror {m:?}: {why}"));
            let url = Url::parse(m).map_err(|e| bad(&e.to_string()))?;
            if url.scheme() != "http" && url.scheme() != "https" {
                return Err(bad("unsupported scheme"));
            }
            if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
                return Err(bad("path, query and fragment are not allowed"));
            }
            if url.host().is_none() {
                return Err(bad("no host"));
            }
            Ok(url)
        })
        .collect()
}

/// The endpoint serving `domain` itself (no mirrors).
pub(crate) fn origin(domain: &str, insecure: &InsecureRegistries) -> Result<Endpoint> {
    let (scheme, host) = if domain == DOCKER_HUB {
        ("https", DOCKER_HUB_HOST)
    } else if insecure.is_insecure(domain) {
        ("http", domain)
    } else {
        ("https", domain)
    };
    let url = Url::parse(&format!("{scheme}://{host}/"))
        .map_err(|e| Error::InvalidArgument(format!("invalid registry {domain:?}: {e}")))?;
    Ok(Endpoint::new(url, false))
}

/// Endpoints to pull from, in order: the mirrors (Docker Hub only), then the origin.
pub(crate) fn pull_endpoints(
    domain: &str,
    insecure: &InsecureRegistries,
    mirrors: &[Url],
) -> Result<Vec<Endpoint>> {
    let mut eps = Vec::new();
    if domain == DOCKER_HUB {
        eps.extend(mirrors.iter().map(|m| Endpoint::new(m.clone(), true)));
    }
    eps.push(origin(domain, insecure)?);
    Ok(eps)
}

/// Normalizes a login server address (`https://index.docker.io/v1/`,
/// `registry-1.docker.io`, `http://127.0.0.1:5000`) to a registry domain.
pub fn normalize_registry(server: &str) -> String {
    let s = server.trim();
    let s = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(s);
    let s = s.split('/').next().unwrap_or(s).to_ascii_lowercase();
    match s.as_str() {
        ""
        | "index.docker.io"
        | "registry-1.docker.io"
        | "docker.io"
        | "registry.hub.docker.com" => DOCKER_HUB.to_string(),
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insecure_decisions() {
        let list = InsecureRegistries::parse(&[
            "myreg:5000",
            "http://plain.example",
            "10.1.0.0/16",
            "fd00::/8",
        ])
        .unwrap();
        let cases = [
            ("localhost", true),
            ("localhost:5000", true),
            ("foo.localhost:80", true),
            ("127.0.0.1:5000", true),
            ("127.8.9.10", true),
            ("[::1]:5000", true),
            ("::1", true),
            ("myreg:5000", true),
            ("myreg", false),
            ("myreg:5001", false),
            ("plain.example", true),
            ("10.1.200.3:443", true),
            ("10.2.0.1", false),
            ("[fd12::1]:5000", true),
            ("[fe80::1]:5000", false),
            ("registry.example.com", false),
            ("docker.io", false),
            ("128.0.0.1", false),
        ];
        for (host, want) in cases {
            assert_eq!(list.is_insecure(host), want, "{host}");
        }
        assert!(InsecureRegistries::parse(&["10.0.0.0/33"]).is_err());
        assert!(InsecureRegistries::parse(&["ftp://x"]).is_err());
        let all = InsecureRegistries::parse(&["0.0.0.0/0"]).unwrap();
        assert!(all.is_insecure("8.8.8.8"));
        assert!(!all.is_insecure("name.example"));
    }

    #[test]
    fn origins_and_mirrors() {
        let none = InsecureRegistries::default();
        let mirrors = parse_mirrors(&["http://127.0.0.1:5001", "https://mirror.example/"]).unwrap();
        let eps = pull_endpoints("docker.io", &none, &mirrors).unwrap();
        let urls: Vec<_> = eps.iter().map(|e| (e.url.as_str(), e.mirror)).collect();
        assert_eq!(
            urls,
            [
                ("http://127.0.0.1:5001/", true),
                ("https://mirror.example/", true),
                ("https://registry-1.docker.io/", false)
            ]
        );
        assert_eq!(eps[0].host, "127.0.0.1:5001");
        let eps = pull_endpoints("127.0.0.1:5000", &none, &mirrors).unwrap();
        assert_eq!(eps.len(), 1);
        assert_eq!(
            eps[0].v2("a/b/manifests/x").as_str(),
            "http://127.0.0.1:5000/v2/a/b/manifests/x"
        );
        assert_eq!(
            origin("[::1]:5000", &none).unwrap().url.as_str(),
            "http://[::1]:5000/"
        );
        assert_eq!(origin("[::1]:5000", &none).unwrap().host, "[::1]:5000");
        assert_eq!(
            origin("ghcr.io", &none).unwrap().url.as_str(),
            "https://ghcr.io/"
        );
        assert!(parse_mirrors(&["mirror.example"]).is_err());
        assert!(parse_mirrors(&["https://m.example/path"]).is_err());
    }

    #[test]
    fn login_addresses() {
        for (input, want) in [
            ("https://index.docker.io/v1/", "docker.io"),
            ("registry-1.docker.io", "docker.io"),
            ("", "docker.io"),
            ("http://127.0.0.1:5000", "127.0.0.1:5000"),
            ("127.0.0.1:5000/", "127.0.0.1:5000"),
            ("Ghcr.io", "ghcr.io"),
        ] {
            assert_eq!(normalize_registry(input), want, "{input}");
        }
    }
}
