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

/// Moves the whole lines of `chunk` (after what `partial` held) into
/// `lines`, but those `seen` already read.
fn take_lines(partial: &mut Vec<u8>, chunk: &mut Vec<u8>, seen: &mut Seen, lines: &mut Vec<Line>) {
    partial.append(chunk);
    let mut start = 0;
    while let Some(i) = partial[start..].iter().position(|&b| b == b'\n') {
        if let Some(line) = parse_line(&partial[start..start + i + 1]).filter(|l| seen.is_new(l)) {
            lines.push(line);
        }
        start += i + 1;
    }
    partial.drain(..start);
}

/// The position of a follower in the log, as the time of the last line it
/// read and how many lines it read with that time: what survives a
/// rotation (files renamed, gzipped, dropped), unlike an inode and offset.
/// The shim writes the lines in time order.
#[derive(Default)]
struct Seen {
    time: String,
    /// Lines read with `time`.
    read: usize,
    /// Lines with `time` met since the last rewind.
    met: usize,
}

impl Seen {
    /// Whether `l` comes after what was read; if so, it is now read.
    fn is_new(&mut self, l: &Line) -> bool {
        match l.time.cmp(&self.time) {
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => {
                self.met += 1;
                if self.met > self.read {
                    self.read += 1;
                    true
                } else {
                    false
                }
            }
            std::cmp::Ordering::Greater => {
                self.time = l.time.clone();
                self.read = 1;
                self.met = 1;
                true
            }
        }
    }

    /// The lines are read again from an earlier point.
    fn rewind(&mut self) {
        self.met = 0;
    }
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

/// How a container's log is kept: dockerd's `json-file` (rotation with
/// `max-size` and `max-file`), `local` (kept the same way here, with the
/// local driver's defaults: 20 MB, 5 files) and `none` (nothing kept).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogSettings {
    pub no_log: bool,
    pub max_size: u64,
    pub max_file: u32,
    /// gzip the rotated files.
    pub compress: bool,
}

/// A size as dockerd reads `max-size` (`10m` is 10 MiB).
fn ram_in_bytes(s: &str) -> Option<u64> {
    let s = s.trim().to_ascii_lowercase();
    let digits = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let n: f64 = s[..digits].parse().ok()?;
    let mult: u64 = match s[digits..].trim_end_matches('b').trim_end_matches('i') {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => return None,
    };
    Some((n * mult as f64) as u64)
}

/// The log drivers dockerd has besides json-file, local and none.
const DOCKER_DRIVERS: [&str; 9] = [
    "syslog",
    "journald",
    "gelf",
    "fluentd",
    "awslogs",
    "splunk",
    "etwlogs",
    "gcplogs",
    "logentries",
];

impl LogSettings {
    /// Reads and checks a `LogConfig` (`Type`, `Config`) as dockerd does.
    pub fn of(log_config: Option<&serde_json::Value>) -> base::Result<LogSettings> {
        use base::Error;
        let kind = log_config
            .and_then(|c| c.get("Type"))
            .and_then(|t| t.as_str())
            .unwrap_or("");
        let opts = log_config
            .and_then(|c| c.get("Config"))
            .and_then(|c| c.as_object())
            .cloned()
            .unwrap_or_default();
        let (mut st, allowed): (LogSettings, &[&str]) = match kind {
            "" | "json-file" => (
                LogSettings {
                    max_file: 1,
                    ..Default::default()
                },
                &["max-size", "max-file", "compress"],
            ),
            "local" => (
                LogSettings {
                    no_log: false,
                    max_size: 20 << 20,
                    max_file: 5,
                    compress: true,
                },
                &["max-size", "max-file", "compress"],
            ),
            "none" => (
                LogSettings {
                    no_log: true,
                    ..Default::default()
                },
                &[],
            ),
            // dockerd's other drivers: refused by name.
            other if DOCKER_DRIVERS.contains(&other) => {
                return Err(Error::invalid(format!(
                    "berth does not support the log driver {other} yet"
                )))
            }
            // Neither dockerd nor berth has it: dockerd's message.
            other => {
                return Err(Error::invalid(format!(
                    "logger: no log driver named '{other}' is registered"
                )))
            }
        };
        for (k, v) in &opts {
            let v = v.as_str().unwrap_or("");
            if !allowed.contains(&k.as_str()) {
                return Err(Error::invalid(format!(
                    "berth does not support --log-opt {k} yet"
                )));
            }
            match k.as_str() {
                "max-size" => {
                    st.max_size = ram_in_bytes(v)
                        .filter(|n| *n > 0 || v == "-1")
                        .ok_or_else(|| Error::invalid(format!("invalid max-size: {v}")))?;
                }
                "max-file" => {
                    let n = v.parse::<i64>().map_err(|_| {
                        Error::invalid(format!("strconv.Atoi: parsing {v:?}: invalid syntax"))
                    })?;
                    if n < 1 {
                        return Err(Error::invalid("max-file cannot be less than 1"));
                    }
                    st.max_file = u32::try_from(n).unwrap_or(u32::MAX);
                }
                "compress" => {
                    st.compress = match v {
                        "" => false,
                        v => v.parse::<bool>().map_err(|_| {
                            Error::invalid(format!("invalid value for compress: {v}"))
                        })?,
                    };
                }
                _ => {}
            }
        }
        // As dockerd's json-file: max-file alone is accepted (nothing
        // rotates without max-size), compress needs both.
        if kind != "local" && st.compress && (st.max_file < 2 || st.max_size == 0) {
            return Err(Error::invalid(
                "compress cannot be true when max-file is less than 2 or max-size is not set",
            ));
        }
        Ok(st)
    }
}

/// The log's files, oldest first: `<log>.N[.gz]` ... `<log>.1[.gz]`, `<log>`.
pub fn files(path: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for i in (1..100).rev() {
        for ext in ["", ".gz"] {
            let mut p = path.as_os_str().to_os_string();
            p.push(format!(".{i}{ext}"));
            let p = PathBuf::from(p);
            if p.exists() {
                out.push(p);
            }
        }
    }
    out.push(path.to_path_buf());
    out
}

/// The rotated files' lines, oldest first, from one consistent view: the
/// files are opened, and opened again if a rotation renamed any of them
/// meanwhile (a listing taken while the shim shifts `.N` to `.N+1` could
/// otherwise skip one). Gunzipped where compressed.
fn rotated_snapshot(path: &std::path::Path) -> Vec<u8> {
    use std::os::unix::fs::MetadataExt;
    let listing = || -> Vec<(PathBuf, u64)> {
        files(path)
            .into_iter()
            .filter(|p| p != path)
            .filter_map(|p| std::fs::metadata(&p).ok().map(|m| (p, m.ino())))
            .collect()
    };
    let mut opened = Vec::new();
    for _ in 0..20 {
        let before = listing();
        opened = before
            .iter()
            .filter_map(|(p, _)| std::fs::File::open(p).ok().map(|f| (p.clone(), f)))
            .collect();
        let same = opened.len() == before.len()
            && opened
                .iter()
                .zip(&before)
                .all(|((_, f), (_, ino))| f.metadata().is_ok_and(|m| m.ino() == *ino));
        if same && listing() == before {
            break;
        }
    }
    let mut out = Vec::new();
    for (p, f) in opened {
        let mut data = Vec::new();
        let ok = if p.extension().is_some_and(|e| e == "gz") {
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(f), &mut data).is_ok()
        } else {
            std::io::Read::read_to_end(&mut &f, &mut data).is_ok()
        };
        if ok {
            out.extend(data);
        }
    }
    out
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
        use std::os::unix::fs::MetadataExt;
        // The rotated files (blocking reads, off the runtime's workers).
        let rotated = |p: PathBuf| async move {
            tokio::task::spawn_blocking(move || rotated_snapshot(&p))
                .await
                .unwrap_or_default()
        };
        // The rotated files first, whole; then the current one, followed.
        let mut chunk = rotated(path.clone()).await;
        let mut partial = Vec::new();
        let mut first = true;
        let mut seen = Seen::default();
        // The file being followed, held open: what is left of it can be
        // read after a rotation renamed, gzipped or dropped it.
        let mut cur: Option<(tokio::fs::File, u64)> = None;
        loop {
            let still_running = *running.borrow();
            let mut lines = Vec::new();
            let mut got_new = !chunk.is_empty();
            if let Some((f, _)) = cur.as_mut() {
                let _ = f.read_to_end(&mut chunk).await;
            }
            let meta = tokio::fs::metadata(&path).await.ok();
            let now_inode = meta.as_ref().map(|m| m.ino());
            // (A path missing for a moment is the shim between renaming the
            // file and making the next one: the held file is read on, the
            // rotation handled once the new file is there.)
            if now_inode.is_some() && cur.as_ref().map(|c| c.1) != now_inode {
                if cur.is_some() {
                    // Rotated, maybe more than once: the rest of the held
                    // file, then the rotated files again, oldest first
                    // (`seen` drops the lines already read).
                    got_new |= !chunk.is_empty();
                    take_lines(&mut partial, &mut chunk, &mut seen, &mut lines);
                    partial.clear();
                    seen.rewind();
                    chunk.extend(rotated(path.clone()).await);
                }
                cur = match tokio::fs::File::open(&path).await {
                    Ok(f) => {
                        let ino = f.metadata().await.map(|m| m.ino()).unwrap_or(0);
                        Some((f, ino))
                    }
                    Err(_) => None,
                };
                if let Some((f, _)) = cur.as_mut() {
                    let _ = f.read_to_end(&mut chunk).await;
                }
            } else if let Some((f, _)) = cur.as_mut() {
                // Truncated in place (one file kept): from its start.
                let pos = f.stream_position().await.unwrap_or(0);
                if meta.as_ref().is_some_and(|m| m.len() < pos)
                    && f.seek(std::io::SeekFrom::Start(0)).await.is_ok()
                {
                    let _ = f.read_to_end(&mut chunk).await;
                }
            }
            got_new |= !chunk.is_empty();
            take_lines(&mut partial, &mut chunk, &mut seen, &mut lines);
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
            if !o.follow || (!still_running && !got_new) {
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
    fn a_follower_reading_again_gets_each_line_once() {
        let line = |t: &str| Line {
            stream: 1,
            text: String::new(),
            time: t.into(),
            secs: 0.0,
        };
        let mut seen = Seen::default();
        let first = ["t1", "t2", "t2"];
        assert!(first.iter().all(|t| seen.is_new(&line(t))));
        // Read again after a rotation: only what comes after.
        seen.rewind();
        let again: Vec<bool> = ["t1", "t2", "t2", "t2", "t3"]
            .iter()
            .map(|t| seen.is_new(&line(t)))
            .collect();
        assert_eq!(again, [false, false, false, true, true]);
    }

    #[test]
    fn log_configs_are_checked_as_dockerd_checks_them() {
        let of = |t: &str, opts: serde_json::Value| {
            LogSettings::of(Some(&serde_json::json!({"Type": t, "Config": opts})))
        };
        let err = |t: &str, opts: serde_json::Value| of(t, opts).unwrap_err().message;
        // max-file alone: accepted, nothing rotates.
        let st = of("json-file", serde_json::json!({"max-file": "100"})).unwrap();
        assert_eq!((st.max_file, st.max_size), (100, 0));
        assert_eq!(
            err("json-file", serde_json::json!({"max-file": "0"})),
            "max-file cannot be less than 1"
        );
        assert_eq!(
            err("json-file", serde_json::json!({"max-file": "x"})),
            "strconv.Atoi: parsing \"x\": invalid syntax"
        );
        assert_eq!(
            err(
                "json-file",
                serde_json::json!({"compress": "true", "max-file": "3"})
            ),
            "compress cannot be true when max-file is less than 2 or max-size is not set"
        );
        assert!(of(
            "json-file",
            serde_json::json!({"compress": "true", "max-file": "3", "max-size": "1m"})
        )
        .is_ok());
        assert_eq!(
            err("asdf", serde_json::json!({})),
            "logger: no log driver named 'asdf' is registered"
        );
        assert_eq!(
            err("syslog", serde_json::json!({})),
            "berth does not support the log driver syslog yet"
        );
    }

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
