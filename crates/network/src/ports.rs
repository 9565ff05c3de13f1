//! Published ports: which host ports a container asked for, and holding
//! them. An IPv4 host port is reserved by a socket bound to it in the
//! daemon (not listening; the kernel's DNAT carries the traffic), so no
//! other program and no other container can take it. IPv6 addresses (`::`
//! for a port published on every address, `::1`) have no DNAT here: with
//! `userland-proxy` a small TCP proxy in the daemon listens there instead.

use api_types::network::{PortBinding, PortMap};
use base::{Error, Result};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::OwnedFd;

/// One published port of a running container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    pub proto: String,
    pub container_port: u16,
    /// None: every IPv4 address (0.0.0.0); an IPv6 address is served by the proxy.
    pub host_ip: Option<IpAddr>,
    pub host_port: u16,
}

impl Published {
    /// The IPv4 address DNAT matches (None: every local address), or None
    /// with false for an IPv6 binding, which the kernel path does not serve.
    pub fn ipv4(&self) -> (Option<Ipv4Addr>, bool) {
        match self.host_ip {
            None => (None, true),
            Some(IpAddr::V4(a)) if a.is_unspecified() => (None, true),
            Some(IpAddr::V4(a)) => (Some(a), true),
            Some(IpAddr::V6(_)) => (None, false),
        }
    }
}

/// A port request of `PortBindings`: container port, and host port range
/// (0..0 for any free port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub proto: String,
    pub container_port: u16,
    /// None: every address, IPv4 and (through the proxy) IPv6.
    pub host_ip: Option<IpAddr>,
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

fn parse_host_ip(s: &str) -> Result<Option<IpAddr>> {
    match s {
        "" => Ok(None),
        s => s
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .map(Some)
            .map_err(|_| Error::invalid(format!("invalid IP address: {s}"))),
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

/// A held host port: a bound socket, or a proxy's listener and task.
pub struct Reservation {
    _sock: Option<OwnedFd>,
    proxy: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(t) = self.proxy.take() {
            t.abort();
        }
    }
}

/// Whether an IPv6 bind failed because the host has no IPv6 (skip it, as
/// dockerd does) rather than because the port is taken.
pub fn no_ipv6(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EADDRNOTAVAIL) | Some(libc::EAFNOSUPPORT)
    )
}

/// Binds `ip:port` (port 0: the kernel picks a free ephemeral port) and
/// returns the port.
///
/// IPv6 addresses are served by the proxy, and so are IPv4 ones when
/// `kernel` is false (the firewall is off: no DNAT carries them).
pub fn reserve(
    proto: &str,
    ip: Option<IpAddr>,
    port: u16,
    target: SocketAddrV4,
    kernel: bool,
) -> std::io::Result<(Reservation, u16)> {
    let ip = match ip {
        Some(v6 @ IpAddr::V6(_)) => return proxy(proto, v6, port, target),
        v4 if !kernel => {
            return proxy(
                proto,
                v4.unwrap_or(Ipv4Addr::UNSPECIFIED.into()),
                port,
                target,
            )
        }
        Some(IpAddr::V4(v4)) => Some(v4),
        None => None,
    };
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
    Ok((
        Reservation {
            _sock: Some(fd),
            proxy: None,
        },
        got.port(),
    ))
}

/// Listens on `ip:port` (an IPv6 socket is IPv6 only, so the IPv4 port
/// stays the kernel's) and copies each TCP connection to `target`, on the
/// daemon's runtime.
fn proxy(
    proto: &str,
    ip: IpAddr,
    port: u16,
    target: SocketAddrV4,
) -> std::io::Result<(Reservation, u16)> {
    use nix::sys::socket::{
        bind, getsockname, listen, setsockopt, socket, sockopt, AddressFamily, Backlog, SockFlag,
        SockType, SockaddrIn6,
    };
    if proto != "tcp" {
        return Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "only TCP ports are published through the userland proxy (IPv6 addresses, or iptables off)",
        ));
    }
    let ip = match ip {
        IpAddr::V6(v6) => v6,
        IpAddr::V4(v4) => {
            let l = std::net::TcpListener::bind((v4, port))?;
            let port = l.local_addr()?.port();
            return serve_proxy(l, port, target);
        }
    };
    let fd = socket(
        AddressFamily::Inet6,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    setsockopt(&fd, sockopt::Ipv6V6Only, &true)?;
    setsockopt(&fd, sockopt::ReuseAddr, &true)?;
    let addr = std::net::SocketAddrV6::new(ip, port, 0, 0);
    bind(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        &SockaddrIn6::from(addr),
    )?;
    listen(&fd, Backlog::new(128).unwrap_or(Backlog::MAXCONN))?;
    let got: SockaddrIn6 = getsockname(std::os::fd::AsRawFd::as_raw_fd(&fd))?;
    serve_proxy(std::net::TcpListener::from(fd), got.port(), target)
}

fn serve_proxy(
    std_listener: std::net::TcpListener,
    port: u16,
    target: SocketAddrV4,
) -> std::io::Result<(Reservation, u16)> {
    std_listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(std_listener)?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                if let Ok(mut upstream) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
    Ok((
        Reservation {
            _sock: None,
            proxy: Some(task),
        },
        port,
    ))
}

/// Docker's words for a host port someone else holds.
pub fn already_allocated(ip: Option<IpAddr>, port: u16) -> String {
    let ip = match ip {
        None => "0.0.0.0".to_string(),
        Some(IpAddr::V6(v6)) => format!("[{v6}]"),
        Some(IpAddr::V4(v4)) => v4.to_string(),
    };
    format!("Bind for {ip}:{port} failed: port is already allocated")
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
            host_ip: p
                .host_ip
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
                .to_string(),
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
        let t = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 9);
        let lo = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let (_r, port) = reserve("tcp", lo, 0, t, true).unwrap();
        assert!(port >= 1024);
        assert!(reserve("tcp", lo, port, t, true).is_err());
        assert!(reserve("udp", lo, port, t, true).is_ok());
    }

    #[tokio::test]
    async fn the_ipv6_proxy_forwards_tcp() {
        use std::net::Ipv6Addr;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let backend = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let std::net::SocketAddr::V4(target) = backend.local_addr().unwrap() else {
            unreachable!()
        };
        let (r, port) = match reserve(
            "tcp",
            Some(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            0,
            target,
            true,
        ) {
            Ok(x) => x,
            Err(e) if no_ipv6(&e) => return, // a host without IPv6
            Err(e) => panic!("{e}"),
        };
        let server = tokio::spawn(async move {
            let (mut s, _) = backend.accept().await.unwrap();
            let mut b = [0u8; 5];
            s.read_exact(&mut b).await.unwrap();
            s.write_all(&b).await.unwrap();
        });
        let mut c = tokio::net::TcpStream::connect(("::1", port)).await.unwrap();
        c.write_all(b"hello").await.unwrap();
        let mut b = [0u8; 5];
        c.read_exact(&mut b).await.unwrap();
        assert_eq!(&b, b"hello");
        server.await.unwrap();
        assert!(reserve(
            "udp",
            Some(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            0,
            target,
            true
        )
        .is_err());
        drop(r);
    }
}
