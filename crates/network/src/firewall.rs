//! berth's firewall: one nftables table of its own (`ip <table>`), made
//! whole from the current networks and published ports and applied as one
//! atomic batch (`nft -f -`), so it is idempotent and re-applied as is at
//! start. Nothing outside the table is touched.
//!
//! - **Published ports** are DNATed in the kernel (prerouting for traffic
//!   from outside and from containers, output for the host's own), with no
//!   userland proxy in the path.
//! - **Loopback** (`-p 127.0.0.1:P:...`): `route_localnet` on the bridge lets
//!   the DNATed packet leave with its 127.x source, which is masqueraded to
//!   the bridge address; a raw-priority rule drops packets for those
//!   addresses that did not come in on `lo`, so a port published on
//!   127.0.0.1 is never reachable from the LAN.
//! - **Hairpin** (a container reaching a published port through a host
//!   address): the DNATed packet is masqueraded so the reply comes back
//!   through the host.
//! - **Forwarding**: `internal` networks never leave their bridge; with
//!   `ip-forward` off no container traffic is routed off its bridge at all.
//! - **Masquerade** of outbound traffic only with `ip-masq` (and ip-forward).

use base::{Error, Result};
use ipnet::Ipv4Net;
use std::fmt::Write;
use std::io::Write as _;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

/// Daemon-wide firewall settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Manage the table at all (dockerd's `iptables`).
    pub enabled: bool,
    /// The nftables table (family `ip`) that holds every berth rule.
    pub table: String,
    /// Containers' traffic may be routed off their bridge (dockerd's `ip-forward`).
    pub ip_forward: bool,
    /// Masquerade outbound traffic (dockerd's `ip-masq`).
    pub ip_masq: bool,
}

/// A network's bridge, as the firewall sees it.
#[derive(Debug, Clone)]
pub struct Bridge {
    pub name: String,
    pub subnet: Ipv4Net,
    pub internal: bool,
}

/// A published port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dnat {
    pub proto: String,
    /// None: every local address.
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
    pub container_ip: Ipv4Addr,
    pub container_port: u16,
}

/// The whole table as nft script: creating it first makes the delete
/// valid when it did not exist, and the batch replaces it atomically.
pub fn render(s: &Settings, bridges: &[Bridge], ports: &[Dnat]) -> String {
    let t = &s.table;
    let mut o = String::new();
    let _ = writeln!(o, "table ip {t} {{}}\ndelete table ip {t}\ntable ip {t} {{");
    // Drop traffic for loopback-published ports that did not come in on lo.
    o.push_str(
        "  chain raw_prerouting {\n    type filter hook prerouting priority raw; policy accept;\n",
    );
    for p in ports
        .iter()
        .filter(|p| p.host_ip.is_some_and(|ip| ip.is_loopback()))
    {
        let _ = writeln!(
            o,
            "    iifname != \"lo\" ip daddr {} {} dport {} drop",
            p.host_ip.unwrap(),
            p.proto,
            p.host_port
        );
    }
    o.push_str("  }\n");
    o.push_str("  chain ports {\n");
    for p in ports {
        let daddr = p
            .host_ip
            .map(|ip| format!("ip daddr {ip} "))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "    {daddr}{} dport {} dnat to {}:{}",
            p.proto, p.host_port, p.container_ip, p.container_port
        );
    }
    o.push_str("  }\n");
    o.push_str("  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n    fib daddr type local jump ports\n  }\n");
    o.push_str("  chain output {\n    type nat hook output priority -100; policy accept;\n    fib daddr type local jump ports\n  }\n");
    o.push_str(
        "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n",
    );
    for b in bridges {
        let n = &b.name;
        let _ = writeln!(o, "    oifname \"{n}\" ip saddr 127.0.0.0/8 masquerade");
        let _ = writeln!(
            o,
            "    oifname \"{n}\" ct status dnat ip saddr {} masquerade",
            b.subnet
        );
        if s.ip_masq && s.ip_forward && !b.internal {
            let _ = writeln!(o, "    oifname != \"{n}\" ip saddr {} masquerade", b.subnet);
        }
    }
    o.push_str("  }\n");
    o.push_str("  chain forward {\n    type filter hook forward priority filter; policy accept;\n");
    for b in bridges {
        let n = &b.name;
        if b.internal || !s.ip_forward {
            let _ = writeln!(o, "    iifname \"{n}\" oifname != \"{n}\" drop");
        }
        if b.internal {
            let _ = writeln!(o, "    oifname \"{n}\" iifname != \"{n}\" drop");
        }
    }
    o.push_str("  }\n}\n");
    o
}

/// Applies an nft script in one transaction.
pub fn apply(script: &str) -> Result<()> {
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::internal(format!("run nft (install the nftables package): {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .map_err(|e| Error::internal(format!("write to nft: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| Error::internal(format!("run nft: {e}")))?;
    if !out.status.success() {
        return Err(Error::internal(format!(
            "nft failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// Deletes berth's table (no error when it is absent).
pub fn remove(table: &str) -> Result<()> {
    apply(&format!("table ip {table} {{}}\ndelete table ip {table}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_for_ports_and_bridges() {
        let s = Settings {
            enabled: true,
            table: "berth".into(),
            ip_forward: false,
            ip_masq: true,
        };
        let b = [Bridge {
            name: "berth0".into(),
            subnet: "172.17.0.0/16".parse().unwrap(),
            internal: false,
        }];
        let p = [
            Dnat {
                proto: "tcp".into(),
                host_ip: Some("127.0.0.1".parse().unwrap()),
                host_port: 8080,
                container_ip: "172.17.0.2".parse().unwrap(),
                container_port: 80,
            },
            Dnat {
                proto: "udp".into(),
                host_ip: None,
                host_port: 53,
                container_ip: "172.17.0.3".parse().unwrap(),
                container_port: 5353,
            },
        ];
        let t = render(&s, &b, &p);
        assert!(t.starts_with("table ip berth {}\ndelete table ip berth\n"));
        assert!(t.contains("iifname != \"lo\" ip daddr 127.0.0.1 tcp dport 8080 drop"));
        assert!(t.contains("ip daddr 127.0.0.1 tcp dport 8080 dnat to 172.17.0.2:80"));
        assert!(t.contains("    udp dport 53 dnat to 172.17.0.3:5353"));
        assert!(!t.contains("udp dport 53 drop"));
        // ip-forward off: nothing leaves the bridge, and no outbound masquerade.
        assert!(t.contains("iifname \"berth0\" oifname != \"berth0\" drop"));
        assert!(!t.contains("oifname != \"berth0\" ip saddr"));
        let on = Settings {
            ip_forward: true,
            ..s
        };
        let t = render(&on, &b, &p);
        assert!(t.contains("oifname != \"berth0\" ip saddr 172.17.0.0/16 masquerade"));
        assert!(!t.contains("iifname \"berth0\" oifname != \"berth0\" drop"));
    }
}
