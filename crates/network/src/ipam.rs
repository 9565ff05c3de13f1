//! Address management: subnets handed out from address pools without
//! overlapping what is in use (other networks, the host's routes), and
//! addresses within a subnet. Pure arithmetic; no I/O.

use base::{Error, Result};
use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

/// An address pool: `base` split into subnets of `size` bits (dockerd's
/// `default-address-pools` entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    pub base: Ipv4Net,
    pub size: u8,
}

/// dockerd's default address pools: 172.17-31.0.0/16, then 192.168.0.0/16 in /20s.
pub fn default_pools() -> Vec<Pool> {
    vec![
        Pool {
            base: "172.17.0.0/16".parse().unwrap(),
            size: 16,
        },
        Pool {
            base: "172.18.0.0/15".parse().unwrap(),
            size: 16,
        },
        Pool {
            base: "172.20.0.0/14".parse().unwrap(),
            size: 16,
        },
        Pool {
            base: "172.24.0.0/14".parse().unwrap(),
            size: 16,
        },
        Pool {
            base: "172.28.0.0/14".parse().unwrap(),
            size: 16,
        },
        Pool {
            base: "192.168.0.0/16".parse().unwrap(),
            size: 20,
        },
    ]
}

/// Whether two subnets share any address.
pub fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// The first subnet of the pools that overlaps nothing in `used`.
pub fn pick_subnet(pools: &[Pool], used: &[Ipv4Net]) -> Option<Ipv4Net> {
    pools
        .iter()
        .flat_map(|p| {
            p.base
                .subnets(p.size.max(p.base.prefix_len()))
                .into_iter()
                .flatten()
        })
        .find(|s| !used.iter().any(|u| overlaps(s, u)))
}

/// One subnet of a network: its gateway, the range containers get
/// addresses from, and the addresses in use.
#[derive(Debug, Clone)]
pub struct Subnet {
    pub net: Ipv4Net,
    pub gateway: Ipv4Addr,
    pub range: Ipv4Net,
    used: BTreeSet<Ipv4Addr>,
}

impl Subnet {
    /// Validates `subnet`, `ip_range` and `gateway` as dockerd does; the
    /// gateway defaults to the first address of the subnet.
    pub fn new(subnet: &str, ip_range: &str, gateway: &str) -> Result<Subnet> {
        let net: Ipv4Net = parse_net(subnet)?;
        if net.prefix_len() > 30 {
            return Err(Error::invalid(format!(
                "invalid pool request: subnet {subnet} is too small"
            )));
        }
        let range = if ip_range.is_empty() {
            net
        } else {
            let r = parse_net(ip_range)?;
            if !net.contains(&r.network()) || r.prefix_len() < net.prefix_len() {
                return Err(Error::invalid(format!(
                    "Invalid Address: IPRange {ip_range} is not a subset of subnet {subnet}"
                )));
            }
            r
        };
        let gateway = if gateway.is_empty() {
            first_host(&net)
        } else {
            let g: Ipv4Addr = gateway
                .parse()
                .map_err(|_| Error::invalid(format!("invalid gateway address {gateway}")))?;
            if !net.contains(&g) {
                return Err(Error::invalid(format!(
                    "Invalid Address: gateway {g} is not in subnet {subnet}"
                )));
            }
            g
        };
        let mut used = BTreeSet::new();
        used.insert(gateway);
        Ok(Subnet {
            net: net.trunc(),
            gateway,
            range: range.trunc(),
            used,
        })
    }

    /// Marks an address as in use (an endpoint found at start).
    pub fn mark(&mut self, ip: Ipv4Addr) {
        self.used.insert(ip);
    }

    /// Frees an address.
    pub fn release(&mut self, ip: Ipv4Addr) {
        if ip != self.gateway {
            self.used.remove(&ip);
        }
    }

    /// Reserves `want`, or the lowest free address of the range.
    pub fn allocate(&mut self, want: Option<Ipv4Addr>) -> Result<Ipv4Addr> {
        if let Some(ip) = want {
            if !self.net.contains(&ip) {
                return Err(Error::invalid(format!(
                    "Invalid address {ip}: It does not belong to any of this network's subnets"
                )));
            }
            if ip == self.net.network() || ip == self.net.broadcast() || !self.used.insert(ip) {
                return Err(Error::invalid(format!("Address already in use: {ip}")));
            }
            return Ok(ip);
        }
        let ip = self
            .range
            .hosts()
            .filter(|ip| *ip != self.net.network() && *ip != self.net.broadcast())
            .find(|ip| !self.used.contains(ip))
            .ok_or_else(|| {
                Error::unavailable("no available IPv4 addresses on this network's address pools")
            })?;
        self.used.insert(ip);
        Ok(ip)
    }
}

fn first_host(net: &Ipv4Net) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(net.network()) + 1)
}

/// Parses a CIDR as dockerd does (the address need not be the network's).
pub fn parse_net(s: &str) -> Result<Ipv4Net> {
    s.parse::<Ipv4Net>()
        .map_err(|_| Error::invalid(format!("invalid CIDR address: {s}")))
}

/// The MAC address Docker derives from an IPv4 address: 02:42 and the four bytes.
pub fn mac_for(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x02, 0x42, o[0], o[1], o[2], o[3]]
}

/// `aa:bb:...` for a MAC address.
pub fn mac_string(m: &[u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Parses `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(s: &str) -> Result<[u8; 6]> {
    let parts: Vec<&str> = s.split([':', '-']).collect();
    let bad = || Error::invalid(format!("invalid MAC address: {s}"));
    if parts.len() != 6 {
        return Err(bad());
    }
    let mut m = [0u8; 6];
    for (i, p) in parts.iter().enumerate() {
        m[i] = u8::from_str_radix(p, 16).map_err(|_| bad())?;
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_skip_used_subnets() {
        let pools = default_pools();
        assert_eq!(
            pick_subnet(&pools, &[]).unwrap().to_string(),
            "172.17.0.0/16"
        );
        let used = vec![
            "172.17.0.0/16".parse().unwrap(),
            "172.18.5.0/24".parse().unwrap(),
        ];
        assert_eq!(
            pick_subnet(&pools, &used).unwrap().to_string(),
            "172.19.0.0/16"
        );
        let all: Vec<Ipv4Net> = vec!["172.16.0.0/12".parse().unwrap()];
        assert_eq!(
            pick_subnet(&pools, &all).unwrap().to_string(),
            "192.168.0.0/20"
        );
    }

    #[test]
    fn addresses_in_order_and_checked() {
        let mut s = Subnet::new("10.9.0.0/24", "", "").unwrap();
        assert_eq!(s.gateway.to_string(), "10.9.0.1");
        assert_eq!(s.allocate(None).unwrap().to_string(), "10.9.0.2");
        assert_eq!(
            s.allocate(Some("10.9.0.9".parse().unwrap()))
                .unwrap()
                .to_string(),
            "10.9.0.9"
        );
        assert_eq!(
            s.allocate(Some("10.9.0.9".parse().unwrap()))
                .unwrap_err()
                .message,
            "Address already in use: 10.9.0.9"
        );
        assert!(s
            .allocate(Some("10.9.1.9".parse().unwrap()))
            .unwrap_err()
            .message
            .contains("does not belong"));
        s.release("10.9.0.2".parse().unwrap());
        assert_eq!(s.allocate(None).unwrap().to_string(), "10.9.0.2");
        assert_eq!(s.allocate(None).unwrap().to_string(), "10.9.0.3");
        let r = Subnet::new("10.9.0.0/16", "10.9.4.0/24", "10.9.0.254").unwrap();
        assert_eq!(r.gateway.to_string(), "10.9.0.254");
        assert!(Subnet::new("10.9.0.0/24", "", "10.8.0.1").is_err());
        assert!(Subnet::new("10.9.0.0/24", "10.8.0.0/25", "").is_err());
        let mut tiny = Subnet::new("10.9.0.0/30", "", "").unwrap();
        assert!(tiny.allocate(None).is_ok());
        assert!(tiny.allocate(None).is_err());
    }

    #[test]
    fn macs_like_docker() {
        assert_eq!(
            mac_string(&mac_for("172.17.0.2".parse().unwrap())),
            "02:42:ac:11:00:02"
        );
        assert_eq!(
            parse_mac("02:42:ac:11:00:02").unwrap(),
            mac_for("172.17.0.2".parse().unwrap())
        );
        assert!(parse_mac("zz").is_err());
    }
}
