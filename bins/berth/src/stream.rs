//! Attached I/O: copy stdin to a hijacked connection, output to stdout/stderr,
//! terminal resize and signal forwarding.

use std::io::Read;

use api_client::{Client, Hijacked};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

/// Read the process's stdin on a dedicated thread (so a blocked read never
/// holds up shutdown) and deliver chunks; `None` marks EOF.
fn stdin_chunks() -> mpsc::Receiver<Option<Vec<u8>>> {
    let (tx, rx) = mpsc::channel(16);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin();
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = tx.blocking_send(None);
                    return;
                }
                Ok(n) => {
                    if tx.blocking_send(Some(buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

/// How an attached session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PumpEnd {
    /// The output stream ended (container/process exited or closed it).
    Done,
    /// The user typed the detach key sequence.
    Detached,
}

/// Client-side detach-key detector (like docker's escape proxy): bytes of a
/// partial match are held back and released on mismatch.
struct EscapeProxy {
    keys: Vec<u8>,
    matched: usize,
}

impl EscapeProxy {
    /// Filter `input`; returns (bytes to forward, detach sequence seen).
    fn filter(&mut self, input: &[u8]) -> (Vec<u8>, bool) {
        let mut out = Vec::with_capacity(input.len());
        for &b in input {
            if b == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    self.matched = 0;
                    return (out, true);
                }
            } else {
                out.extend_from_slice(&self.keys[..self.matched]);
                self.matched = 0;
                if b == self.keys[0] {
                    self.matched = 1;
                    if self.keys.len() == 1 {
                        return (out, true);
                    }
                } else {
                    out.push(b);
                }
            }
        }
        (out, false)
    }
}

/// Pump a hijacked stream: stdin → connection (when `send_stdin`, half-closing
/// on EOF) and connection → stdout/stderr (raw when `tty`, demultiplexed
/// otherwise). Returns when the output side ends, or when the detach key
/// sequence (`detach_keys`, checked only when given) is typed.
pub async fn pump(
    conn: Hijacked,
    tty: bool,
    send_stdin: bool,
    detach_keys: Option<Vec<u8>>,
) -> std::io::Result<PumpEnd> {
    let (mut rd, mut wr) = conn.split();
    let (detach_tx, mut detach_rx) = tokio::sync::oneshot::channel::<()>();
    let input = if send_stdin {
        Some(tokio::spawn(async move {
            let mut rx = stdin_chunks();
            let mut proxy = detach_keys
                .filter(|k| !k.is_empty())
                .map(|keys| EscapeProxy { keys, matched: 0 });
            while let Some(Some(chunk)) = rx.recv().await {
                let (data, detached) = match proxy.as_mut() {
                    Some(p) => p.filter(&chunk),
                    None => (chunk, false),
                };
                if !data.is_empty() {
                    if wr.write_all(&data).await.is_err() {
                        return;
                    }
                    let _ = wr.flush().await;
                }
                if detached {
                    let _ = detach_tx.send(());
                    return;
                }
            }
            // stdin EOF: half-close so the container sees EOF; keep reading output.
            let _ = wr.shutdown().await;
        }))
    } else {
        drop(detach_tx);
        None
    };

    let mut stdout = tokio::io::stdout();
    let mut stderr = tokio::io::stderr();
    let output = async {
        if tty {
            let mut buf = vec![0u8; 32 * 1024];
            loop {
                match rd.read(&mut buf).await {
                    Ok(0) => break Ok(()),
                    Ok(n) => {
                        stdout.write_all(&buf[..n]).await?;
                        stdout.flush().await?;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break Ok(()),
                    Err(e) => break Err(e),
                }
            }
        } else {
            api_client::demux_to(&mut rd, &mut stdout, &mut stderr).await
        }
    };
    let res = tokio::select! {
        r = output => r.map(|_| PumpEnd::Done),
        Ok(()) = &mut detach_rx => Ok(PumpEnd::Detached),
    };
    let _ = tokio::io::stdout().flush().await;
    let _ = tokio::io::stderr().flush().await;
    if let Some(h) = input {
        h.abort();
    }
    res
}

/// Resize target: a container or an exec instance.
#[derive(Clone)]
pub enum ResizeTarget {
    Container(String),
    Exec(String),
}

async fn resize_once(client: &Client, target: &ResizeTarget) -> Result<(), api_client::Error> {
    let Some((h, w)) = crate::tty::window_size() else {
        return Ok(());
    };
    let (h, w) = (h.to_string(), w.to_string());
    let path = match target {
        ResizeTarget::Container(id) => format!("/containers/{id}/resize"),
        ResizeTarget::Exec(id) => format!("/exec/{id}/resize"),
    };
    client.post(&path, &[("h", &h), ("w", &w)], None).await
}

/// Send the current size now (retrying briefly, as the process may not be
/// ready yet) and again on every SIGWINCH. Runs until aborted.
pub fn monitor_tty_size(client: Client, target: ResizeTarget) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        for _ in 0..10 {
            if resize_once(&client, &target).await.is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let Ok(mut winch) = signal(SignalKind::window_change()) else {
            return;
        };
        while winch.recv().await.is_some() {
            let _ = resize_once(&client, &target).await;
        }
    })
}

/// Forward common signals to the container (docker's --sig-proxy).
pub fn forward_signals(client: Client, id: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let kinds = [
            (SignalKind::interrupt(), "SIGINT"),
            (SignalKind::terminate(), "SIGTERM"),
            (SignalKind::hangup(), "SIGHUP"),
            (SignalKind::quit(), "SIGQUIT"),
            (SignalKind::user_defined1(), "SIGUSR1"),
            (SignalKind::user_defined2(), "SIGUSR2"),
        ];
        let (tx, mut rx) = mpsc::channel::<&'static str>(16);
        for (kind, name) in kinds {
            if let Ok(mut s) = signal(kind) {
                let tx = tx.clone();
                tokio::spawn(async move {
                    while s.recv().await.is_some() {
                        if tx.send(name).await.is_err() {
                            return;
                        }
                    }
                });
            }
        }
        drop(tx);
        while let Some(name) = rx.recv().await {
            let path = format!("/containers/{id}/kill");
            if let Err(e) = client.post(&path, &[("signal", name)], None).await {
                eprintln!("Error sending signal: {e}");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_proxy() {
        let mut p = EscapeProxy {
            keys: vec![16, 17],
            matched: 0,
        };
        assert_eq!(p.filter(b"abc"), (b"abc".to_vec(), false));
        assert_eq!(p.filter(&[b'a', 16]), (b"a".to_vec(), false));
        assert_eq!(p.filter(b"x"), (vec![16, b'x'], false));
        assert_eq!(p.filter(&[16]), (vec![], false));
        assert_eq!(p.filter(&[17, b'z']), (vec![], true));
    }
}
