//! The container's own network namespace starts with `lo` down; runc brings
//! it up, and so does Docker for `--network none`. Do the same.

use anyhow::{Context, Result};
use nix::unistd::Pid;

/// Sets `lo` up in `pid`'s network namespace when it is not the caller's.
pub fn bring_up_loopback(pid: Pid) -> Result<()> {
    let theirs =
        std::fs::read_link(format!("/proc/{pid}/ns/net")).context("read the container's netns")?;
    let ours = std::fs::read_link("/proc/self/ns/net").context("read our netns")?;
    if theirs == ours {
        return Ok(());
    }
    // setns(CLONE_NEWNET) changes only the calling thread: use a scratch one.
    std::thread::spawn(move || -> Result<()> {
        let ns = std::fs::File::open(format!("/proc/{pid}/ns/net"))
            .context("open the container's netns")?;
        nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET)
            .context("enter the container's netns")?;
        // SAFETY: plain socket and ioctl calls on a zeroed, NUL-terminated ifreq.
        unsafe {
            let sock = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
            if sock < 0 {
                return Err(std::io::Error::last_os_error()).context("socket");
            }
            let mut ifr: libc::ifreq = std::mem::zeroed();
            for (dst, src) in ifr.ifr_name.iter_mut().zip(b"lo\0") {
                *dst = *src as libc::c_char;
            }
            let mut r = libc::ioctl(sock, libc::SIOCGIFFLAGS, &mut ifr);
            if r == 0 {
                ifr.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
                r = libc::ioctl(sock, libc::SIOCSIFFLAGS, &ifr);
            }
            let err = std::io::Error::last_os_error();
            libc::close(sock);
            if r != 0 {
                return Err(err).context("set lo up");
            }
        }
        Ok(())
    })
    .join()
    .map_err(|_| anyhow::anyhow!("loopback thread panicked"))?
}
