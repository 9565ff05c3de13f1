//! Reading a container's json-file log (written by its shim).

use bytes::Bytes;
use std::path::PathBuf;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::mpsc;

/// `GET /containers/{id}/logs` options.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    pub stdout: bool,
    pub stderr: bool,
    pub follow: bool,
    /// Only the last N lines.
    pub tail: Option<usize>,
    /// Unix seconds (fractional).
    pub since: Option<f64>,
    pub until: Option<f64>,
    pub timestamps: bool,
}

/// Parses Docker's `since`/`until` values: unix seconds (`1700000000.5`) or RFC 3339.
pub fn parse_time(s: &str) -> Option<f64> {
    if s.is_empty() || s == "0" {
        return None;
    }
    s.parse::<f64>().ok().or_else(|| {
        chrono::DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.timestamp() as f64 + t.timestamp_subsec_nanos() as f64 / 1e9)
    })
}

struct Line {
    stream: u8,
    text: String,
    time: String,
    secs: f64,
}

fn parse_line(l: &[u8]) -> Option<Line> {
    let v: serde_json::Value = serde_json::from_slice(l).ok()?;
    let time = v["time"].as_str().unwrap_or_default().to_string();
    let secs = parse_time(&time).unwrap_or(0.0);
    Some(Line {
        stream: if v["stream"] == "stderr" { 2 } else { 1 },
        text: v["log"].as_str().unwrap_or_default().to_string(),
        time,
        secs,
    })
}

fn render(l: &Line, o: &LogOptions, tty: bool) -> Option<Bytes> {
    if (l.stream == 1 && !o.stdout) || (l.stream == 2 && !o.stderr) {
        return None;
    }
    if o.since.is_some_and(|s| l.secs < s) || o.until.is_some_and(|u| l.secs > u) {
        return None;
    }
    let mut payload = Vec::new();
    if o.timestamps {
        payload.extend_from_slice(l.time.as_bytes());
        payload.push(b' ');
    }
    payload.extend_from_slice(l.text.as_bytes());
    if tty {
        return Some(Bytes::from(payload));
    }
    let mut out = shim::frame::header(l.stream, payload.len()).to_vec();
    out.extend(payload);
    Some(Bytes::from(out))
}

/// Streams the log at `path`. With `follow`, keeps reading until
/// `running` turns false (and the file has no more lines) or the receiver is dropped.
pub fn stream(
    path: PathBuf,
    o: LogOptions,
    tty: bool,
    mut running: tokio::sync::watch::Receiver<bool>,
) -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut offset = 0u64;
        let mut partial = Vec::new();
        let mut first = true;
        loop {
            let still_running = *running.borrow();
            let mut chunk = Vec::new();
            if let Ok(mut f) = tokio::fs::File::open(&path).await {
                if f.seek(std::io::SeekFrom::Start(offset)).await.is_ok() {
                    let _ = f.read_to_end(&mut chunk).await;
                }
            }
            offset += chunk.len() as u64;
            partial.extend_from_slice(&chunk);
            let mut lines = Vec::new();
            while let Some(i) = partial.iter().position(|&b| b == b'\n') {
                let l: Vec<u8> = partial.drain(..=i).collect();
                if let Some(line) = parse_line(&l) {
                    lines.push(line);
                }
            }
            if first {
                if let Some(n) = o.tail {
                    let skip = lines.len().saturating_sub(n);
                    lines.drain(..skip);
                }
                first = false;
            }
            for l in &lines {
                if let Some(b) = render(l, &o, tty) {
                    if tx.send(b).await.is_err() {
                        return;
                    }
                }
            }
            if !o.follow || (!still_running && chunk.is_empty()) {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_millis(100)) => {}
                _ = running.changed() => {}
                _ = tx.closed() => return,
            }
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("1700000000"), Some(1700000000.0));
        assert_eq!(parse_time("2023-11-14T22:13:20Z"), Some(1700000000.0));
        assert_eq!(parse_time("0"), None);
    }

    #[tokio::test]
    async fn tail_and_frames() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("log");
        std::fs::write(
            &p,
            concat!(
                r#"{"log":"a\n","stream":"stdout","time":"2026-01-01T00:00:00Z"}"#,
                "\n",
                r#"{"log":"b\n","stream":"stderr","time":"2026-01-01T00:00:01Z"}"#,
                "\n",
                r#"{"log":"c\n","stream":"stdout","time":"2026-01-01T00:00:02Z"}"#,
                "\n",
            ),
        )
        .unwrap();
        let (_tx, rx) = tokio::sync::watch::channel(false);
        let o = LogOptions {
            stdout: true,
            stderr: true,
            tail: Some(2),
            ..Default::default()
        };
        let mut r = stream(p.clone(), o, false, rx.clone());
        let mut got = Vec::new();
        while let Some(b) = r.recv().await {
            got.push(b);
        }
        assert_eq!(got.len(), 2);
        assert_eq!(&got[0][..], &[2, 0, 0, 0, 0, 0, 0, 2, b'b', b'\n']);
        let o = LogOptions {
            stdout: true,
            timestamps: true,
            ..Default::default()
        };
        let mut r = stream(p, o, true, rx);
        assert_eq!(&r.recv().await.unwrap()[..], b"2026-01-01T00:00:00Z a\n");
    }
}
