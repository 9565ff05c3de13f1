//! A byte stream to the daemon: unix socket, TCP, or TLS over TCP.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};

use crate::error::{Error, Result};
use crate::host::Host;

/// A connected socket.
#[derive(Debug)]
pub(crate) enum Conn {
    Unix(UnixStream),
    Tcp(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    Ssh(Box<SshStream>),
}

/// The stdio of `ssh host -- berth system dial-stdio`; the process goes
/// with the stream.
#[derive(Debug)]
pub(crate) struct SshStream {
    _child: tokio::process::Child,
    /// None once half-closed: a pipe's shutdown is closing it, which ssh
    /// passes on as the end of the remote command's stdin.
    stdin: Option<tokio::process::ChildStdin>,
    stdout: tokio::process::ChildStdout,
}

impl SshStream {
    fn spawn(user: Option<&str>, host: &str, port: Option<u16>) -> io::Result<SshStream> {
        let mut cmd = tokio::process::Command::new("ssh");
        if let Some(u) = user {
            cmd.arg("-l").arg(u);
        }
        if let Some(p) = port {
            cmd.arg("-p").arg(p.to_string());
        }
        // `--` and the host checked in Host::parse: no option injection.
        cmd.args([
            "-o",
            "ConnectTimeout=30",
            "-T",
            "--",
            host,
            "berth",
            "system",
            "dial-stdio",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true);
        let mut child = cmd.spawn()?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        Ok(SshStream {
            _child: child,
            stdin: Some(stdin),
            stdout,
        })
    }
}

impl Conn {
    pub(crate) async fn connect(
        host: &Host,
        host_str: &str,
        tls: Option<&std::sync::Arc<rustls::ClientConfig>>,
    ) -> Result<Conn> {
        let res = match host {
            Host::Unix(path) => UnixStream::connect(path).await.map(Conn::Unix),
            Host::Tcp { host, port } => TcpStream::connect((host.as_str(), *port)).await.map(|s| {
                let _ = s.set_nodelay(true);
                Conn::Tcp(s)
            }),
            Host::Ssh { user, host, port } => {
                SshStream::spawn(user.as_deref(), host, *port).map(|s| Conn::Ssh(Box::new(s)))
            }
        };
        let conn = res.map_err(|source| Error::Connect {
            host: host_str.to_string(),
            source,
        })?;
        match (conn, tls, host) {
            (Conn::Tcp(s), Some(cfg), Host::Tcp { host: name, .. }) => {
                let server = rustls::pki_types::ServerName::try_from(name.clone())
                    .map_err(|e| Error::Tls(format!("{name}: {e}")))?;
                let t = tokio_rustls::TlsConnector::from(cfg.clone())
                    .connect(server, s)
                    .await
                    .map_err(|e| {
                        Error::Tls(format!("error during connect to {host_str}: tls: {e}"))
                    })?;
                Ok(Conn::Tls(Box::new(t)))
            }
            (c, _, _) => Ok(c),
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Unix(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Conn::Ssh(s) => Pin::new(&mut s.stdout).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Unix(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Conn::Ssh(s) => match s.stdin.as_mut() {
                Some(w) => Pin::new(w).poll_write(cx, buf),
                None => Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
            },
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Unix(s) => Pin::new(s).poll_flush(cx),
            Conn::Tcp(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Conn::Ssh(s) => match s.stdin.as_mut() {
                Some(w) => Pin::new(w).poll_flush(cx),
                None => Poll::Ready(Ok(())),
            },
        }
    }

    /// Half-closes the write side (`shutdown(SHUT_WR)`); reading keeps working.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Conn::Ssh(s) => {
                s.stdin = None;
                Poll::Ready(Ok(()))
            }
        }
    }
}
