//! Parsing of daemon addresses (`unix:///path`, `tcp://host:port`,
//! `ssh://[user@]host[:port]`).

use std::path::PathBuf;

use crate::error::{Error, Result};

/// Default daemon address used when neither `BERTH_HOST` nor `DOCKER_HOST` is set.
pub const DEFAULT_HOST: &str = "unix:///run/berth/berth.sock";

/// Default TCP port when `tcp://host` has none (same as Docker's plain-HTTP port).
pub const DEFAULT_TCP_PORT: u16 = 2375;

/// A parsed daemon address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A unix domain socket path.
    Unix(PathBuf),
    /// A TCP `host:port` (host may be a bracketed IPv6 literal).
    Tcp {
        /// Host name or IP (without brackets).
        host: String,
        /// Port number.
        port: u16,
    },
    /// A daemon reached through the system `ssh`, running
    /// `berth system dial-stdio` on the remote host (as the docker CLI runs
    /// `docker system dial-stdio`).
    Ssh {
        user: Option<String>,
        host: String,
        port: Option<u16>,
    },
}

impl Host {
    /// Parse `unix:///path`, `tcp://host[:port]`, `http://host[:port]` or a bare
    /// absolute socket path.
    pub fn parse(s: &str) -> Result<Host> {
        let s = s.trim();
        let bad = || Error::InvalidHost(s.to_string());
        if let Some(path) = s.strip_prefix("unix://") {
            if path.is_empty() {
                return Err(bad());
            }
            return Ok(Host::Unix(PathBuf::from(path)));
        }
        if s.starts_with('/') {
            return Ok(Host::Unix(PathBuf::from(s)));
        }
        if let Some(rest) = s.strip_prefix("ssh://") {
            let rest = rest.strip_suffix('/').unwrap_or(rest);
            if rest.is_empty() || rest.contains('/') {
                return Err(bad());
            }
            let (user, hostport) = match rest.rsplit_once('@') {
                Some((u, h)) if !u.is_empty() => (Some(u.to_string()), h),
                Some(_) => return Err(bad()),
                None => (None, rest),
            };
            let (host, port) = match hostport.rsplit_once(':') {
                Some((h, p)) if !hostport.starts_with('[') => {
                    (h.to_string(), Some(p.parse().map_err(|_| bad())?))
                }
                _ => (hostport.to_string(), None),
            };
            if host.is_empty() || host.starts_with('-') {
                return Err(bad());
            }
            return Ok(Host::Ssh { user, host, port });
        }
        let rest = s
            .strip_prefix("tcp://")
            .or_else(|| s.strip_prefix("http://"))
            .ok_or_else(bad)?;
        // Allow (and ignore) a single trailing slash.
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() || rest.contains('/') {
            return Err(bad());
        }
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let end = v6.find(']').ok_or_else(bad)?;
            let host = &v6[..end];
            let after = &v6[end + 1..];
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| bad())?,
                None if after.is_empty() => DEFAULT_TCP_PORT,
                None => return Err(bad()),
            };
            (host.to_string(), port)
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), p.parse().map_err(|_| bad())?),
                None => (rest.to_string(), DEFAULT_TCP_PORT),
            }
        };
        let host = if host.is_empty() {
            "127.0.0.1".to_string()
        } else {
            host
        };
        Ok(Host::Tcp { host, port })
    }

    /// Value for the HTTP `Host` header.
    pub fn http_host(&self) -> String {
        match self {
            // Same placeholder the Docker CLI uses for socket connections.
            Host::Unix(_) => "api.moby.localhost".to_string(),
            Host::Tcp { host, port } => {
                if host.contains(':') {
                    format!("[{host}]:{port}")
                } else {
                    format!("{host}:{port}")
                }
            }
            // As the docker CLI: the remote end is a local socket.
            Host::Ssh { .. } => "api.moby.localhost".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_hosts() {
        assert_eq!(
            Host::parse("ssh://me@example.org:2222").unwrap(),
            Host::Ssh {
                user: Some("me".into()),
                host: "example.org".into(),
                port: Some(2222)
            }
        );
        assert_eq!(
            Host::parse("ssh://box").unwrap(),
            Host::Ssh {
                user: None,
                host: "box".into(),
                port: None
            }
        );
        for bad in [
            "ssh://",
            "ssh://@h",
            "ssh://h:x",
            "ssh://-oProxyCommand=x",
            "ssh://h/p",
        ] {
            assert!(Host::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unix_hosts() {
        assert_eq!(
            Host::parse("unix:///run/berth/berth.sock").unwrap(),
            Host::Unix("/run/berth/berth.sock".into())
        );
        assert_eq!(
            Host::parse("/tmp/x.sock").unwrap(),
            Host::Unix("/tmp/x.sock".into())
        );
        assert!(Host::parse("unix://").is_err());
    }

    #[test]
    fn tcp_hosts() {
        assert_eq!(
            Host::parse("tcp://127.0.0.1:2375").unwrap(),
            Host::Tcp {
                host: "127.0.0.1".into(),
                port: 2375
            }
        );
        assert_eq!(
            Host::parse("tcp://example:1234/").unwrap(),
            Host::Tcp {
                host: "example".into(),
                port: 1234
            }
        );
        assert_eq!(
            Host::parse("http://localhost").unwrap(),
            Host::Tcp {
                host: "localhost".into(),
                port: 2375
            }
        );
        assert_eq!(
            Host::parse("tcp://[::1]:99").unwrap(),
            Host::Tcp {
                host: "::1".into(),
                port: 99
            }
        );
        assert_eq!(
            Host::parse("tcp://[::1]:99").unwrap().http_host(),
            "[::1]:99"
        );
        assert_eq!(
            Host::parse("tcp://:5000").unwrap(),
            Host::Tcp {
                host: "127.0.0.1".into(),
                port: 5000
            }
        );
    }

    #[test]
    fn bad_hosts() {
        for h in [
            "",
            "tcp://",
            "tcp://a:b",
            "tcp://a:1/path",
            "npipe:////./pipe/x",
            "foo",
        ] {
            assert!(Host::parse(h).is_err(), "{h} should fail");
        }
    }
}
