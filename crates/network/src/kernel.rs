//! Kernel state over netlink: bridges, veth pairs, addresses and routes,
//! and persistent network namespaces (bind-mounted files, as `ip netns`
//! makes them). A namespace change affects only the calling thread, so
//! every operation inside a namespace runs on a thread of its own that
//! ends with it (never on a tokio worker or a pooled blocking thread).

use base::{Error, Result};
use futures_util::TryStreamExt;
use rtnetlink::{
    packet_route::link::{InfoData, InfoPortKind, InfoVeth},
    Handle, LinkBridge, LinkBridgePort, LinkMessageBuilder, LinkUnspec, LinkVeth,
    RouteMessageBuilder,
};
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

fn nl_err(what: impl std::fmt::Display) -> impl FnOnce(rtnetlink::Error) -> Error {
    move |e| Error::internal(format!("{what}: {e}"))
}

fn sys_err(what: impl std::fmt::Display) -> impl FnOnce(nix::Error) -> Error {
    move |e| Error::internal(format!("{what}: {e}"))
}

/// Runs `f` with a netlink handle of the calling thread's network namespace,
/// on a current-thread runtime of this thread.
fn with_netlink<T>(f: impl AsyncFnOnce(Handle) -> Result<T>) -> Result<T> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(|e| Error::internal(format!("netlink runtime: {e}")))?;
    rt.block_on(async {
        let (conn, handle, _) = rtnetlink::new_connection()
            .map_err(|e| Error::internal(format!("netlink socket: {e}")))?;
        let task = tokio::spawn(conn);
        let r = f(handle).await;
        task.abort();
        r
    })
}

/// Runs `f` on a new thread, which may change its namespaces freely.
fn on_thread<T: Send>(f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    std::thread::scope(|s| {
        s.spawn(f)
            .join()
            .unwrap_or_else(|_| Err(Error::internal("network thread panicked")))
    })
}

async fn link_index(h: &Handle, name: &str) -> Result<Option<u32>> {
    let mut links = h.link().get().match_name(name.to_string()).execute();
    match links.try_next().await {
        Ok(Some(l)) => Ok(Some(l.header.index)),
        Ok(None) => Ok(None),
        Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code() == -libc::ENODEV => Ok(None),
        Err(e) => Err(Error::internal(format!("find link {name}: {e}"))),
    }
}

fn sysctl(path: &str, value: &str) -> Result<()> {
    std::fs::write(path, value).map_err(|e| Error::internal(format!("write {path}: {e}")))
}

/// The `net.ipv6.conf.<name>` whose `disable_ipv6` turns IPv6 off in a
/// container's namespace, as dockerd does: every interface, those made
/// later, and `lo`.
pub const IPV6_OFF: [&str; 3] = ["all", "default", "lo"];

/// Whether the kernel has IPv6 (its sysctls exist to be set).
pub fn host_has_ipv6() -> bool {
    static V6: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *V6.get_or_init(|| Path::new("/proc/sys/net/ipv6").exists())
}

/// Turns IPv6 off ([`IPV6_OFF`]) in the calling thread's network namespace
/// (`/proc/sys/net` is the caller's). Nothing to do on a kernel without IPv6.
///
/// One write of `all` does it: the kernel copies `all` to `default` and to
/// every interface there is (`lo`). Each write of `disable_ipv6` spins in
/// the kernel while anyone holds the rtnl lock (it try-locks and restarts
/// the system call), so fewer writes are cheaper when containers start in
/// parallel.
fn disable_ipv6_here() -> Result<()> {
    if !host_has_ipv6() {
        return Ok(());
    }
    sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1")
}

/// Creates the bridge `name` if it is missing, gives it `addr/prefix`
/// (keeping other addresses), brings it up, and enables what published
/// ports need on it: `route_localnet` (DNAT of 127.0.0.1) and, with
/// `forwarding`, forwarding from the bridge (hairpin through a host address;
/// only when berth's firewall keeps that traffic on the bridge or
/// ip-forward allows it anywhere).
pub fn ensure_bridge(name: &str, addr: Ipv4Addr, prefix: u8, forwarding: bool) -> Result<()> {
    on_thread(|| {
        with_netlink(async |h| {
            let idx = match link_index(&h, name).await? {
                Some(i) => i,
                None => {
                    h.link()
                        .add(LinkBridge::new(name).build())
                        .execute()
                        .await
                        .map_err(nl_err(format!("create bridge {name}")))?;
                    link_index(&h, name)
                        .await?
                        .ok_or_else(|| Error::internal(format!("bridge {name} vanished")))?
                }
            };
            let has = h
                .address()
                .get()
                .set_link_index_filter(idx)
                .execute()
                .try_collect::<Vec<_>>()
                .await
                .map_err(nl_err("list addresses"))?
                .iter()
                .any(|m| {
                    m.attributes.iter().any(|a| {
                        matches!(a, rtnetlink::packet_route::address::AddressAttribute::Address(IpAddr::V4(a)) if *a == addr)
                    })
                });
            if !has {
                h.address()
                    .add(idx, IpAddr::V4(addr), prefix)
                    .execute()
                    .await
                    .map_err(nl_err(format!("address {addr}/{prefix} on {name}")))?;
            }
            h.link()
                .set(LinkUnspec::new_with_index(idx).up().build())
                .execute()
                .await
                .map_err(nl_err(format!("bring up {name}")))?;
            Ok(())
        })
    })?;
    sysctl(
        &format!("/proc/sys/net/ipv4/conf/{name}/route_localnet"),
        "1",
    )?;
    sysctl(
        &format!("/proc/sys/net/ipv4/conf/{name}/forwarding"),
        if forwarding { "1" } else { "0" },
    )
}

/// Deletes a link (a bridge, or the host end of a veth) if it exists.
pub fn delete_link(name: &str) -> Result<()> {
    on_thread(|| {
        with_netlink(async |h| {
            if let Some(idx) = link_index(&h, name).await? {
                match h.link().del(idx).execute().await {
                    Ok(()) => {}
                    Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code() == -libc::ENODEV => {}
                    Err(e) => return Err(Error::internal(format!("delete link {name}: {e}"))),
                }
            }
            Ok(())
        })
    })
}

/// Whether a link exists in the daemon's namespace.
pub fn link_exists(name: &str) -> bool {
    Path::new("/sys/class/net").join(name).exists()
}

/// One interface of a container: a veth pair whose host end is on `bridge`.
#[derive(Debug, Clone)]
pub struct Interface {
    pub bridge: String,
    pub host_name: String,
    /// `eth0`, `eth1`, ... inside the container (up once paired: a veth
    /// cannot come up at creation).
    pub name: String,
    pub addr: Ipv4Addr,
    pub prefix: u8,
    pub mac: [u8; 6],
    /// Default route through this gateway.
    pub gateway: Option<Ipv4Addr>,
    /// More addresses on the interface (`--link-local-ip`).
    pub extra: Vec<(Ipv4Addr, u8)>,
    /// An isolated bridge port (`enable_icc=false`): the bridge forwards
    /// nothing between two isolated ports, so the network's containers
    /// reach the host and the world but not one another.
    pub isolated: bool,
}

/// The sockets of the embedded DNS server, bound at 127.0.0.11:53 inside a
/// container's namespace.
pub struct DnsSockets {
    pub udp: std::net::UdpSocket,
    pub tcp: std::net::TcpListener,
}

/// Unmounts and removes a namespace file made by [`create_sandbox`]; the
/// kernel frees the namespace, and the veths in it, once nothing holds it.
pub fn remove_netns(path: &Path) -> Result<()> {
    match nix::mount::umount2(path, nix::mount::MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::Error::EINVAL) | Err(nix::Error::ENOENT) => {}
        Err(e) => return Err(Error::internal(format!("unmount {}: {e}", path.display()))),
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::internal(format!("remove {}: {e}", path.display()))),
    }
}

fn open_ns(path: &Path) -> Result<OwnedFd> {
    std::fs::File::open(path)
        .map(OwnedFd::from)
        .map_err(|e| Error::internal(format!("open {}: {e}", path.display())))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(|e| Error::internal(format!("netlink runtime: {e}")))
}

fn connect() -> Result<Handle> {
    let (conn, handle, _) =
        rtnetlink::new_connection().map_err(|e| Error::internal(format!("netlink socket: {e}")))?;
    tokio::spawn(conn);
    Ok(handle)
}

/// Makes the veth pairs of `ifs` from the host (`host`, a handle of the
/// host's namespace): each host end on its bridge and up, each peer
/// created directly inside the namespace `ns` with its name and MAC.
async fn make_veths(host: &Handle, ns: &OwnedFd, ifs: &[Interface]) -> Result<()> {
    for i in ifs {
        let bridge = link_index(host, &i.bridge)
            .await?
            .ok_or_else(|| Error::not_found(format!("bridge {} not found", i.bridge)))?;
        let peer = LinkMessageBuilder::<LinkUnspec>::new()
            .name(i.name.clone())
            .address(i.mac.to_vec())
            .setns_by_fd(ns.as_raw_fd())
            .build();
        let msg = LinkVeth::new(&i.host_name, &i.name)
            .controller(bridge)
            .up()
            .set_info_data(InfoData::Veth(InfoVeth::Peer(peer)))
            .build();
        host.link()
            .add(msg)
            .execute()
            .await
            .map_err(nl_err(format!("create veth {}", i.host_name)))?;
        // Hairpin: with br_netfilter, a container reaching its own
        // published port is DNATed on the bridge back to its own port. Over
        // netlink, not sysfs: sysfs's brport files spin on the rtnl lock
        // while other containers' veths are being made.
        let port = LinkMessageBuilder::<LinkBridgePort>::default()
            .name(i.host_name.clone())
            .set_port_kind(InfoPortKind::Bridge)
            .hairpin(true)
            .isolated(i.isolated)
            .build();
        host.link()
            .set_port(port)
            .execute()
            .await
            .map_err(nl_err(format!("hairpin on {}", i.host_name)))?;
    }
    Ok(())
}

/// Inside the namespace (`h` is a handle of it): addresses, links up (a
/// veth cannot come up before it is paired) and default routes.
async fn configure(h: &Handle, ifs: &[Interface]) -> Result<()> {
    for i in ifs {
        let idx = link_index(h, &i.name)
            .await?
            .ok_or_else(|| Error::internal(format!("{} missing in the sandbox", i.name)))?;
        h.address()
            .add(idx, IpAddr::V4(i.addr), i.prefix)
            .execute()
            .await
            .map_err(nl_err(format!("address {} on {}", i.addr, i.name)))?;
        for (a, p) in &i.extra {
            h.address()
                .add(idx, IpAddr::V4(*a), *p)
                .execute()
                .await
                .map_err(nl_err(format!("address {a} on {}", i.name)))?;
        }
        h.link()
            .set(LinkUnspec::new_with_index(idx).up().build())
            .execute()
            .await
            .map_err(nl_err(format!("bring up {}", i.name)))?;
        if let Some(gw) = i.gateway {
            h.route()
                .add(
                    RouteMessageBuilder::<Ipv4Addr>::new()
                        .output_interface(idx)
                        .gateway(gw)
                        .build(),
                )
                .replace()
                .execute()
                .await
                .map_err(nl_err(format!("default route via {gw}")))?;
        }
    }
    Ok(())
}

async fn loopback_up(h: &Handle) -> Result<()> {
    h.link()
        .set(LinkUnspec::new_with_index(1).up().build())
        .execute()
        .await
        .map_err(nl_err("bring up lo"))
}

/// Makes a persistent network namespace at `path` (a bind mount of the
/// namespace, so it lives on without any process, and across daemon
/// restarts, until [`remove_netns`]) and plugs `ifs` into it, all on one
/// thread that enters the new namespace. Binds the DNS sockets when `dns`
/// is set. On error the namespace is removed.
pub fn create_sandbox(path: &Path, ifs: &[Interface], dns: bool) -> Result<Option<DnsSockets>> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)
            .map_err(|e| Error::internal(format!("create {}: {e}", d.display())))?;
    }
    std::fs::File::create(path)
        .map_err(|e| Error::internal(format!("create {}: {e}", path.display())))?;
    let r = on_thread(|| {
        let rt = runtime()?;
        let _g = rt.enter();
        // Netlink sockets belong to the namespace they were made in.
        let host = connect()?;
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).map_err(sys_err("unshare"))?;
        nix::mount::mount(
            Some("/proc/thread-self/ns/net"),
            path,
            None::<&str>,
            nix::mount::MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(sys_err(format!("bind {}", path.display())))?;
        let ns = open_ns(path)?;
        // berth's networks have no IPv6: as dockerd, it is off in the
        // namespace before any interface comes in, so none gets a
        // link-local address, runs duplicate address detection or sends
        // router solicitations and MLD reports onto the bridge.
        disable_ipv6_here()?;
        let inside = connect()?;
        rt.block_on(async {
            loopback_up(&inside).await?;
            make_veths(&host, &ns, ifs).await?;
            configure(&inside, ifs).await
        })?;
        if dns {
            bind_dns().map(Some)
        } else {
            Ok(None)
        }
    });
    if r.is_err() {
        let _ = remove_netns(path);
    }
    r
}

/// Plugs `ifs` into the existing namespace at `netns` (`network connect`).
/// Binds the DNS sockets when `dns` is set.
pub fn plug(netns: &Path, ifs: &[Interface], dns: bool) -> Result<Option<DnsSockets>> {
    let ns = open_ns(netns)?;
    on_thread(|| {
        let rt = runtime()?;
        let _g = rt.enter();
        let host = connect()?;
        nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(sys_err("setns"))?;
        let inside = connect()?;
        rt.block_on(async {
            make_veths(&host, &ns, ifs).await?;
            configure(&inside, ifs).await
        })?;
        if dns {
            bind_dns().map(Some)
        } else {
            Ok(None)
        }
    })
}

/// Binds the DNS sockets inside the namespace at `netns` (after a daemon
/// restart, for containers already running).
pub fn dns_sockets(netns: &Path) -> Result<DnsSockets> {
    let ns = open_ns(netns)?;
    on_thread(|| {
        nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(sys_err("setns"))?;
        bind_dns()
    })
}

fn bind_dns() -> Result<DnsSockets> {
    let addr = (Ipv4Addr::new(127, 0, 0, 11), 53);
    let udp = std::net::UdpSocket::bind(addr)
        .map_err(|e| Error::internal(format!("bind DNS udp socket: {e}")))?;
    let tcp = std::net::TcpListener::bind(addr)
        .map_err(|e| Error::internal(format!("bind DNS tcp socket: {e}")))?;
    udp.set_nonblocking(true).ok();
    tcp.set_nonblocking(true).ok();
    Ok(DnsSockets { udp, tcp })
}

/// Removes the interface `name` from the namespace at `netns` (its veth
/// peer in the host goes with it).
pub fn unplug(netns: &Path, name: &str) -> Result<()> {
    let ns = open_ns(netns)?;
    on_thread(|| {
        nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(sys_err("setns"))?;
        with_netlink(async |h| {
            if let Some(idx) = link_index(&h, name).await? {
                h.link()
                    .del(idx)
                    .execute()
                    .await
                    .map_err(nl_err(format!("delete {name}")))?;
            }
            Ok(())
        })
    })
}

/// Where a container's namespace file lives.
pub fn netns_path(exec_root: &Path, id: &str) -> PathBuf {
    exec_root.join("netns").join(id)
}

/// The host's IPv4 routes (destinations), to keep new subnets off them.
pub fn host_routes() -> Vec<ipnet::Ipv4Net> {
    let text = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let dst = u32::from_str_radix(f.get(1)?, 16).ok()?;
            let mask = u32::from_str_radix(f.get(7)?, 16).ok()?;
            if mask == 0 {
                return None; // the default route overlaps everything
            }
            let prefix = u32::from_be(mask).count_ones() as u8;
            ipnet::Ipv4Net::new(Ipv4Addr::from(u32::from_be(dst)), prefix).ok()
        })
        .collect()
}
