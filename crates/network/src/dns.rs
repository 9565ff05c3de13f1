//! The embedded DNS server of user-defined networks. Each container on such
//! a network gets sockets bound at 127.0.0.11:53 inside its own namespace
//! (made on a thread that entered the namespace, then served by the
//! daemon's tokio runtime). Answers come from one shared table: container
//! names, aliases and short ids of the networks the asking container is on.
//! Other names go to the upstream servers (the host's resolvers, or the
//! daemon's `dns`), from the daemon's namespace, unless forwarding is off.

use hickory_proto::op::{Message, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{name::PTR, A};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Names of one endpoint.
#[derive(Debug, Clone)]
struct Entry {
    container: String,
    network: String,
    names: Vec<String>,
    ip: Ipv4Addr,
}

#[derive(Default)]
struct Table {
    entries: Vec<Entry>,
    /// network id → (name, internal)
    networks: BTreeMap<String, (String, bool)>,
    /// container → its own upstream servers (`--dns`), instead of the daemon's
    servers: BTreeMap<String, Vec<SocketAddr>>,
    /// container → its links (alias, linked container: its id, or its name
    /// on a user-defined network), which only it
    /// resolves, on the networks it shares with the linked container
    links: BTreeMap<String, Vec<(String, String)>>,
}

/// The name table and upstream settings shared by every container's server.
pub struct Resolver {
    table: RwLock<Table>,
    upstreams: Vec<SocketAddr>,
    forward: bool,
    /// Time given to each upstream server (shorter than a client's 5 s).
    timeout: Duration,
}

const TTL: u32 = 600;

impl Resolver {
    pub fn new(upstreams: Vec<SocketAddr>, forward: bool) -> Resolver {
        Resolver {
            table: RwLock::new(Table::default()),
            upstreams,
            forward,
            timeout: Duration::from_millis(1500),
        }
    }

    /// Declares a network (its name answers `<container>.<network>`).
    pub fn set_network(&self, id: &str, name: &str, internal: bool) {
        self.table
            .write()
            .unwrap()
            .networks
            .insert(id.to_string(), (name.to_string(), internal));
    }

    pub fn remove_network(&self, id: &str) {
        let mut t = self.table.write().unwrap();
        t.networks.remove(id);
        t.entries.retain(|e| e.network != id);
    }

    /// Registers the names of a container's endpoint on a network.
    pub fn add(&self, container: &str, network: &str, names: &[String], ip: Ipv4Addr) {
        let mut t = self.table.write().unwrap();
        t.entries
            .retain(|e| !(e.container == container && e.network == network));
        t.entries.push(Entry {
            container: container.to_string(),
            network: network.to_string(),
            names: names.iter().map(|n| n.to_ascii_lowercase()).collect(),
            ip,
        });
    }

    /// Forgets a container's endpoint on `network` (all of them, and its
    /// servers, with None).
    pub fn remove(&self, container: &str, network: Option<&str>) {
        let mut t = self.table.write().unwrap();
        t.entries
            .retain(|e| !(e.container == container && network.is_none_or(|n| n == e.network)));
        if network.is_none() {
            t.servers.remove(container);
            t.links.remove(container);
        }
    }

    /// A container's links (`--link other:alias`, compose's `links:`): the
    /// alias resolves, for it alone, to the linked container.
    pub fn set_links(&self, container: &str, links: Vec<(String, String)>) {
        let mut t = self.table.write().unwrap();
        if links.is_empty() {
            t.links.remove(container);
        } else {
            let links = links
                .into_iter()
                .map(|(a, c)| (a.to_ascii_lowercase(), c.to_ascii_lowercase()))
                .collect();
            t.links.insert(container.to_string(), links);
        }
    }

    /// A container's own upstream servers (`--dns`): what the embedded DNS
    /// forwards its unknown names to, as dockerd does.
    pub fn set_servers(&self, container: &str, servers: Vec<SocketAddr>) {
        let mut t = self.table.write().unwrap();
        if servers.is_empty() {
            t.servers.remove(container);
        } else {
            t.servers.insert(container.to_string(), servers);
        }
    }

    /// Looks a name up for `asker`: addresses, and whether the name is
    /// authoritatively unknown (a single label on internal networks only).
    fn lookup(&self, asker: &str, qname: &str) -> (Vec<Ipv4Addr>, bool) {
        let t = self.table.read().unwrap();
        let nets: BTreeSet<&str> = t
            .entries
            .iter()
            .filter(|e| e.container == asker)
            .map(|e| e.network.as_str())
            .collect();
        let name = qname.trim_end_matches('.').to_ascii_lowercase();
        let mut ips = Vec::new();
        for e in t
            .entries
            .iter()
            .filter(|e| nets.contains(e.network.as_str()))
        {
            let netname = t
                .networks
                .get(&e.network)
                .map(|n| n.0.as_str())
                .unwrap_or("");
            let hit = e.names.iter().any(|n| {
                *n == name
                    || name
                        .strip_prefix(n.as_str())
                        .and_then(|r| r.strip_prefix('.'))
                        .is_some_and(|r| r == netname)
            });
            let linked = t.links.get(asker).is_some_and(|l| {
                l.iter()
                    .any(|(a, c)| *a == name && (*c == e.container || e.names.contains(c)))
            });
            if (hit || linked) && !ips.contains(&e.ip) {
                ips.push(e.ip);
            }
        }
        let internal_only =
            !nets.is_empty() && nets.iter().all(|n| t.networks.get(*n).is_some_and(|x| x.1));
        let nx = ips_empty_single_label(&ips, &name) && internal_only;
        (ips, nx)
    }

    fn reverse(&self, asker: &str, ip: Ipv4Addr) -> Option<String> {
        let t = self.table.read().unwrap();
        let nets: BTreeSet<&str> = t
            .entries
            .iter()
            .filter(|e| e.container == asker)
            .map(|e| e.network.as_str())
            .collect();
        t.entries
            .iter()
            .find(|e| e.ip == ip && nets.contains(e.network.as_str()))
            .and_then(|e| {
                let net = t.networks.get(&e.network)?;
                Some(format!("{}.{}.", e.names.first()?, net.0))
            })
    }

    /// Answers one query message for the container `asker`.
    pub async fn answer(&self, asker: &str, packet: &[u8]) -> Option<Vec<u8>> {
        let req = Message::from_vec(packet).ok()?;
        let q = req.queries.first()?.clone();
        let mut resp = Message::response(req.metadata.id, OpCode::Query);
        resp.metadata.recursion_desired = req.metadata.recursion_desired;
        resp.metadata.recursion_available = true;
        resp.add_query(q.clone());
        let qname = q.name().to_ascii();
        match q.query_type() {
            RecordType::A | RecordType::AAAA => {
                let (ips, nx) = self.lookup(asker, &qname);
                if !ips.is_empty() {
                    resp.metadata.authoritative = true;
                    if q.query_type() == RecordType::A {
                        for ip in ips {
                            resp.add_answer(Record::from_rdata(
                                q.name().clone(),
                                TTL,
                                RData::A(A(ip)),
                            ));
                        }
                    }
                    return resp.to_vec().ok();
                }
                if nx {
                    resp.metadata.response_code = ResponseCode::NXDomain;
                    return resp.to_vec().ok();
                }
            }
            RecordType::PTR => {
                if let Some(ip) = ptr_ip(&qname) {
                    if let Some(n) = self.reverse(asker, ip) {
                        let target = Name::from_ascii(&n).ok()?;
                        resp.add_answer(Record::from_rdata(
                            q.name().clone(),
                            TTL,
                            RData::PTR(PTR(target)),
                        ));
                        return resp.to_vec().ok();
                    }
                }
            }
            _ => {}
        }
        if self.forward {
            if let Some(r) = self.forward_query(asker, packet).await {
                return Some(r);
            }
        }
        resp.metadata.response_code = ResponseCode::ServFail;
        resp.to_vec().ok()
    }

    async fn forward_query(&self, asker: &str, packet: &[u8]) -> Option<Vec<u8>> {
        let own = self.table.read().unwrap().servers.get(asker).cloned();
        for up in own.as_ref().unwrap_or(&self.upstreams) {
            let sock =
                tokio::net::UdpSocket::bind(if up.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" })
                    .await
                    .ok()?;
            if sock.send_to(packet, up).await.is_err() {
                continue;
            }
            let mut buf = vec![0u8; 4096];
            if let Ok(Ok((n, _))) =
                tokio::time::timeout(self.timeout, sock.recv_from(&mut buf)).await
            {
                buf.truncate(n);
                return Some(buf);
            }
        }
        None
    }
}

fn ips_empty_single_label(ips: &[Ipv4Addr], name: &str) -> bool {
    ips.is_empty() && !name.contains('.')
}

/// `4.3.2.1.in-addr.arpa.` → 1.2.3.4
fn ptr_ip(q: &str) -> Option<Ipv4Addr> {
    let rest = q.trim_end_matches('.').strip_suffix(".in-addr.arpa")?;
    let mut o: Vec<u8> = rest
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    if o.len() != 4 {
        return None;
    }
    o.reverse();
    Some(Ipv4Addr::new(o[0], o[1], o[2], o[3]))
}

/// Serves one container's sockets until the returned tasks are aborted.
pub fn serve(
    resolver: Arc<Resolver>,
    container: String,
    socks: crate::kernel::DnsSockets,
) -> std::io::Result<Vec<tokio::task::JoinHandle<()>>> {
    let udp = Arc::new(tokio::net::UdpSocket::from_std(socks.udp)?);
    let tcp = tokio::net::TcpListener::from_std(socks.tcp)?;
    let (r1, c1) = (resolver.clone(), container.clone());
    let u = tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok((n, from)) = udp.recv_from(&mut buf).await else {
                return;
            };
            let (r, c, udp, q) = (r1.clone(), c1.clone(), udp.clone(), buf[..n].to_vec());
            tokio::spawn(async move {
                if let Some(a) = r.answer(&c, &q).await {
                    let _ = udp.send_to(&a, from).await;
                }
            });
        }
    });
    let t = tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = tcp.accept().await else {
                return;
            };
            let (r, c) = (resolver.clone(), container.clone());
            tokio::spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(10), async {
                    loop {
                        let len = s.read_u16().await? as usize;
                        let mut q = vec![0u8; len];
                        s.read_exact(&mut q).await?;
                        let a = r.answer(&c, &q).await.unwrap_or_default();
                        s.write_u16(a.len() as u16).await?;
                        s.write_all(&a).await?;
                    }
                    #[allow(unreachable_code)]
                    Ok::<(), std::io::Error>(())
                })
                .await;
            });
        }
    });
    Ok(vec![u, t])
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{MessageType, Query};

    fn query(name: &str, t: RecordType) -> Vec<u8> {
        let mut m = Message::query();
        m.metadata.id = 7;
        m.add_query(Query::query(Name::from_ascii(name).unwrap(), t));
        m.to_vec().unwrap()
    }

    #[tokio::test]
    async fn names_on_shared_networks_only() {
        let r = Resolver::new(vec![], false);
        r.set_network("n1", "front", false);
        r.set_network("n2", "back", true);
        r.add(
            "a",
            "n1",
            &["web".into(), "alias1".into()],
            "10.0.0.2".parse().unwrap(),
        );
        r.add("b", "n1", &["client".into()], "10.0.0.3".parse().unwrap());
        r.add("c", "n2", &["db".into()], "10.1.0.2".parse().unwrap());
        let a = Message::from_vec(&r.answer("b", &query("web.", RecordType::A)).await.unwrap())
            .unwrap();
        assert_eq!(a.metadata.message_type, MessageType::Response);
        assert_eq!(a.answers.len(), 1);
        assert_eq!(a.metadata.id, 7);
        let a = Message::from_vec(
            &r.answer("b", &query("ALIAS1.front.", RecordType::A))
                .await
                .unwrap(),
        )
        .unwrap();
        assert_eq!(a.answers.len(), 1);
        // db is on a network b is not on; forwarding is off: SERVFAIL.
        let a =
            Message::from_vec(&r.answer("b", &query("db.", RecordType::A)).await.unwrap()).unwrap();
        assert!(a.answers.is_empty());
        assert_eq!(a.metadata.response_code, ResponseCode::ServFail);
        // c is on an internal network only: unknown single labels are NXDOMAIN.
        let a = Message::from_vec(&r.answer("c", &query("web.", RecordType::A)).await.unwrap())
            .unwrap();
        assert_eq!(a.metadata.response_code, ResponseCode::NXDomain);
        let a = Message::from_vec(
            &r.answer("b", &query("2.0.0.10.in-addr.arpa.", RecordType::PTR))
                .await
                .unwrap(),
        )
        .unwrap();
        assert_eq!(a.answers.len(), 1);
        r.remove("a", None);
        let a = Message::from_vec(&r.answer("b", &query("web.", RecordType::A)).await.unwrap())
            .unwrap();
        assert!(a.answers.is_empty());
    }

    #[tokio::test]
    async fn forwards_to_an_upstream() {
        let up = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = up.local_addr().unwrap();
        tokio::spawn(async move {
            let mut b = [0u8; 512];
            let (n, from) = up.recv_from(&mut b).await.unwrap();
            let q = Message::from_vec(&b[..n]).unwrap();
            let mut resp = Message::response(q.metadata.id, OpCode::Query);
            resp.add_query(q.queries[0].clone());
            resp.add_answer(Record::from_rdata(
                q.queries[0].name().clone(),
                5,
                RData::A(A(Ipv4Addr::new(192, 0, 2, 77))),
            ));
            up.send_to(&resp.to_vec().unwrap(), from).await.unwrap();
        });
        let r = Resolver::new(vec![addr], true);
        let a = Message::from_vec(
            &r.answer("x", &query("example.test.", RecordType::A))
                .await
                .unwrap(),
        )
        .unwrap();
        assert_eq!(a.answers.len(), 1);
    }
}
