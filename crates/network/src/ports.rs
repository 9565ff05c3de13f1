//! Published ports: which host ports a container asked for, and holding
//! them. A host port is reserved by a socket bound to it in the daemon (not
//! listening; the kernel's DNAT carries the traffic), so no other program
//! and no other container can take it.

use api_types::network::{PortBinding, PortMap};
use base::{Error, Result};
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::OwnedFd;

/// One published port of a running container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    pub proto: String,
    pub container_port: u16,
    /// None: every address (0.0.0.0).
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
}

/// A port request of `PortBindings`: container port, and host port range
/// (0..0 for any free port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub proto: String,
    pub container_port: u16,
    pub host_ip: Option<Ipv4Addr>,
    pub host_ports: (u16, u16),
}

/// `80/tcp` → (80, "tcp").
pub fn parse_key(key: &str) -> Result<(u16, String)> {
    let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    let proto = proto.to_ascii_lowercase();
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(Error::invalid(format!("invalid proto: {proto}")));
    }
    if proto == "sctp" {
        return Err(Error::invalid(
            "publishing sctp ports is not supported by berth yet",
        ));
    }
    let p: u16 = port
        .parse()
        .map_err(|_| Error::invalid(format!("invalid port specification: \"{port}\"")))?;
    Ok((p, proto))
}

fn parse_host_ports(s: &str) -> Result<(u16, u16)> {
    if s.is_empty() {
        return Ok((0, 0));
    }
    let bad = || Error::invalid(format!("invalid hostPort: {s}"));
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let (a, b): (u16, u16) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
    if b < a {
        return Err(bad());
    }
    Ok((a, b))
}

fn parse_host_ip(s: &str) -> Result<Option<Ipv4Addr>> {
    match s {
        "" | "0.0.0.0" => Ok(None),
        s => match s.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(ip)) => Ok(Some(ip)),
            Ok(std::net::IpAddr::V6(_)) => Err(Error::invalid(format!(
                "publishing on IPv6 address {s} is not supported by berth yet"
            ))),
            Err(_) => Err(Error::invalid(format!("invalid IP address: {s}"))),
        },
    }
}

/// The requests of a container: its `PortBindings`, plus with `-P` every
/// exposed port not bound already, on a random port.
pub fn requests(
    bindings: Option<&PortMap>,
    publish_all: bool,
    exposed: &[String],
) -> Result<Vec<Request>> {
    let mut out = Vec::new();
    let mut bound = std::collections::BTreeSet::new();
    for (key, list) in bindings.into_iter().flatten() {
        let (container_port, proto) = parse_key(key)?;
        let default = vec![PortBinding::default()];
        let list = match list {
            Some(l) if !l.is_empty() => l,
            _ if publish_all => &default,
            _ => continue,
        };
        for b in list {
            // IPv6 wildcard bindings ([::]) are dropped: IPv4 only for now.
            if b.host_ip == "::" {
                continue;
            }
            out.push(Request {
                proto: proto.clone(),
                container_port,
                host_ip: parse_host_ip(&b.host_ip)?,
                host_ports: parse_host_ports(&b.host_port)?,
            });
            bound.insert(key.clone());
        }
    }
    if publish_all {
        for key in exposed {
            let (container_port, proto) = parse_key(key)?;
            let norm = format!("{container_port}/{proto}");
            if bound.contains(key) || bound.contains(&norm) {
                continue;
            }
            out.push(Request {
                proto,
                container_port,
                host_ip: None,
                host_ports: (0, 0),
            });
        }
    }
    Ok(out)
}

/// A held host port.
pub struct Reservation {
    _sock: OwnedFd,
}

/// Binds `ip:port` (port 0: the kernel picks a free ephemeral port) and
/// returns the port.
pub fn reserve(
    proto: &str,
    ip: Option<Ipv4Addr>,
    port: u16,
) -> std::io::Result<(Reservation, u16)> {
    use nix::sys::socket::{
        bind, getsockname, socket, AddressFamily, SockFlag, SockType, SockaddrIn,
    };
    let ty = if proto == "udp" {
        SockType::Datagram
    } else {
        SockType::Stream
    };
    let fd = socket(AddressFamily::Inet, ty, SockFlag::SOCK_CLOEXEC, None)?;
    let addr = SocketAddr::new(ip.unwrap_or(Ipv4Addr::UNSPECIFIED).into(), port);
    let SocketAddr::V4(v4) = addr else {
        unreachable!()
    };
    bind(std::os::fd::AsRawFd::as_raw_fd(&fd), &SockaddrIn::from(v4))?;
    let got: SockaddrIn = getsockname(std::os::fd::AsRawFd::as_raw_fd(&fd))?;
    Ok((Reservation { _sock: fd }, got.port()))
}

/// Docker's words for a host port someone else holds.
pub fn already_allocated(ip: Option<Ipv4Addr>, port: u16) -> String {
    format!(
        "Bind for {}:{port} failed: port is already allocated",
        ip.unwrap_or(Ipv4Addr::UNSPECIFIED)
    )
}

/// Exposed-port keys (`80/tcp`) of the image and container config.
pub fn exposed_keys(m: Option<&serde_json::Map<String, serde_json::Value>>) -> Vec<String> {
    m.map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

/// The `Ports` map of inspect: every exposed or bound port, with its
/// bindings (null when it is not published).
pub fn port_map(exposed: &[String], published: &[Published]) -> PortMap {
    let mut m = PortMap::new();
    for k in exposed {
        if let Ok((p, proto)) = parse_key(k) {
            m.insert(format!("{p}/{proto}"), None);
        }
    }
    for p in published {
        let e = m
            .entry(format!("{}/{}", p.container_port, p.proto))
            .or_insert(None)
            .get_or_insert_with(Vec::new);
        e.push(PortBinding {
            host_ip: p.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED).to_string(),
            host_port: p.host_port.to_string(),
        });
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_from_bindings_and_publish_all() {
        let mut m = PortMap::new();
        m.insert(
            "80/tcp".into(),
            Some(vec![PortBinding {
                host_ip: "127.0.0.1".into(),
                host_port: "8080".into(),
            }]),
        );
        m.insert("53/udp".into(), Some(vec![PortBinding::default()]));
        m.insert(
            "9000/tcp".into(),
            Some(vec![PortBinding {
                host_ip: "".into(),
                host_port: "9000-9005".into(),
            }]),
        );
        let r = requests(Some(&m), true, &["443/tcp".into(), "80/tcp".into()]).unwrap();
        assert_eq!(r.len(), 4);
        assert!(r.contains(&Request {
            proto: "tcp".into(),
            container_port: 80,
            host_ip: Some("127.0.0.1".parse().unwrap()),
            host_ports: (8080, 8080)
        }));
        assert!(r.contains(&Request {
            proto: "udp".into(),
            container_port: 53,
            host_ip: None,
            host_ports: (0, 0)
        }));
        assert!(r.contains(&Request {
            proto: "tcp".into(),
            container_port: 9000,
            host_ip: None,
            host_ports: (9000, 9005)
        }));
        assert!(r.contains(&Request {
            proto: "tcp".into(),
            container_port: 443,
            host_ip: None,
            host_ports: (0, 0)
        }));
        assert!(parse_key("80/xyz").is_err());
        assert!(parse_host_ports("9-1").is_err());
        assert!(parse_host_ip("nope").is_err());
    }

    #[test]
    fn reserving_twice_fails() {
        let (_r, port) = reserve("tcp", Some(Ipv4Addr::LOCALHOST), 0).unwrap();
        assert!(port >= 1024);
        assert!(reserve("tcp", Some(Ipv4Addr::LOCALHOST), port).is_err());
        assert!(reserve("udp", Some(Ipv4Addr::LOCALHOST), port).is_ok());
    }
}
