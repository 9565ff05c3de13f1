//! Rendering of the daemon's JSON message streams (pull, push, load, import
//! progress) exactly like docker's `jsonmessage.DisplayJSONMessagesStream`:
//! plain status lines when the output is not a terminal, and on a terminal
//! one line per layer id, updated in place with ANSI cursor movement.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};

use serde_json::Value;

use crate::fmtutil;

/// The `progressDetail` of a message (docker's `JSONProgress`).
#[derive(Debug, Default, Clone, PartialEq)]
struct Progress {
    current: i64,
    total: i64,
    start: i64,
    hide_counts: bool,
    units: String,
}

impl Progress {
    fn from_json(v: &Value) -> Option<Progress> {
        let o = v.as_object()?;
        let int = |k: &str| o.get(k).and_then(Value::as_i64).unwrap_or(0);
        Some(Progress {
            current: int("current"),
            total: int("total"),
            start: int("start"),
            hide_counts: o.get("hidecounts").and_then(Value::as_bool) == Some(true),
            units: o
                .get("units")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        })
    }

    /// docker's `JSONProgress.String()` for a terminal `width` columns wide,
    /// at unix time `now`.
    fn render(&self, width: usize, now: i64) -> String {
        if self.current <= 0 && self.total <= 0 {
            return String::new();
        }
        if self.total <= 0 {
            return if self.units.is_empty() {
                format!("{:>8}", fmtutil::human_size(self.current as f64))
            } else {
                format!("{} {}", self.current, self.units)
            };
        }
        let percentage = (((self.current as f64 / self.total as f64) * 100.0) as i64 / 2).min(50);
        let mut out = String::new();
        if width > 110 {
            let spaces = (50 - percentage).max(0) as usize;
            out.push('[');
            out.push_str(&"=".repeat(percentage.max(0) as usize));
            out.push('>');
            out.push_str(&" ".repeat(spaces));
            out.push_str("] ");
        }
        if !self.hide_counts {
            if self.units.is_empty() {
                let current = fmtutil::human_size(self.current as f64);
                if self.current > self.total {
                    out.push_str(&format!("{current:>8}"));
                } else {
                    let total = fmtutil::human_size(self.total as f64);
                    out.push_str(&format!("{current:>8}/{total}"));
                }
            } else if self.current > self.total {
                out.push_str(&format!("{} {}", self.current, self.units));
            } else {
                out.push_str(&format!("{}/{} {}", self.current, self.total, self.units));
            }
        }
        if width > 50 && self.current > 0 && self.start > 0 && percentage < 50 {
            let elapsed = (now - self.start).max(0) as f64;
            let left = (self.total - self.current) as f64 * (elapsed / self.current as f64);
            out.push(' ');
            out.push_str(&go_seconds(left.round() as i64));
        }
        out
    }
}

/// Go's `time.Duration.String()` for whole seconds (`0s`, `42s`, `1m5s`, `2h0m0s`).
fn go_seconds(secs: i64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// Go's `RFC3339NanoFixed` layout in local time.
fn rfc3339_nano_fixed(nanos: i64) -> String {
    use chrono::{Local, TimeZone};
    let t = Local.timestamp_nanos(nanos);
    let mut s = t.format("%Y-%m-%dT%H:%M:%S%.9f").to_string();
    let off = t.format("%:z").to_string();
    s.push_str(if off == "+00:00" { "Z" } else { &off });
    s
}

/// Stateful renderer for one JSON message stream.
pub struct Display {
    tty: bool,
    width: usize,
    now: fn() -> i64,
    /// Line index of each layer id currently shown (terminal mode).
    ids: HashMap<String, usize>,
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Width of the terminal on `fd` as docker's `term.GetWinsize` reports it
/// (0 when the terminal has no size), or 200 when `fd` is no terminal.
pub fn terminal_width(fd: i32) -> usize {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes a winsize into the provided, properly sized struct.
    let rc = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) };
    if rc == 0 {
        ws.ws_col as usize
    } else {
        200
    }
}

impl Display {
    /// A renderer for a terminal `width` columns wide (`tty`) or for plain output.
    pub fn new(tty: bool, width: usize) -> Display {
        Display {
            tty,
            width,
            now: unix_now,
            ids: HashMap::new(),
        }
    }

    /// Render one message into `out`. Messages with `aux` are skipped (the
    /// caller reads them from the returned list); an `errorDetail` / `error`
    /// message yields `Err(message)`.
    pub fn message(&mut self, m: &Value, out: &mut String) -> Result<(), String> {
        if m.get("aux").is_some_and(|a| !a.is_null()) {
            return Ok(());
        }
        let s = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or("");
        let id = s("id");
        let progress = m.get("progressDetail").and_then(Progress::from_json);
        let progress_msg = s("progress");
        let mut diff = 0;
        if !id.is_empty() && (progress.is_some() || !progress_msg.is_empty()) {
            let line = match self.ids.get(id) {
                Some(l) => *l,
                None => {
                    let l = self.ids.len();
                    self.ids.insert(id.to_string(), l);
                    if self.tty {
                        out.push('\n');
                    }
                    l
                }
            };
            diff = self.ids.len() - line;
            if self.tty {
                out.push_str(&format!("\x1b[{diff}A"));
            }
        } else {
            // Not a layer line: forget the previous layers so that a later
            // operation (pull -a, push -a) starts its own block.
            self.ids.clear();
        }
        let res = self.display(m, progress.as_ref(), out);
        if !id.is_empty() && self.tty && diff > 0 {
            out.push_str(&format!("\x1b[{diff}B"));
        }
        res
    }

    /// docker's `JSONMessage.Display`.
    fn display(
        &self,
        m: &Value,
        progress: Option<&Progress>,
        out: &mut String,
    ) -> Result<(), String> {
        let detail = m
            .get("errorDetail")
            .filter(|d| d.is_object())
            .map(|d| d.get("message").and_then(Value::as_str).unwrap_or(""));
        if let Some(msg) = detail {
            return Err(msg.to_string());
        }
        if let Some(e) = m
            .get("error")
            .and_then(Value::as_str)
            .filter(|e| !e.is_empty())
        {
            return Err(e.to_string());
        }
        let s = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or("");
        let stream = s("stream");
        let now = (self.now)();
        let mut endl = "";
        if self.tty && stream.is_empty() && progress.is_some() {
            out.push_str("\x1b[2K\r");
            endl = "\r";
        } else if progress.is_some_and(|p| !p.render(self.width, now).is_empty()) {
            // Progress bars only on a terminal.
            return Ok(());
        }
        if let Some(t) = m
            .get("timeNano")
            .and_then(Value::as_i64)
            .filter(|t| *t != 0)
        {
            out.push_str(&rfc3339_nano_fixed(t));
            out.push(' ');
        } else if let Some(t) = m.get("time").and_then(Value::as_i64).filter(|t| *t != 0) {
            out.push_str(&rfc3339_nano_fixed(t.saturating_mul(1_000_000_000)));
            out.push(' ');
        }
        if !s("id").is_empty() {
            out.push_str(s("id"));
            out.push_str(": ");
        }
        if !s("from").is_empty() {
            out.push_str(&format!("(from {}) ", s("from")));
        }
        let status = s("status");
        match progress {
            Some(p) if self.tty => {
                out.push_str(&format!("{status} {}{endl}", p.render(self.width, now)))
            }
            _ if !s("progress").is_empty() => {
                out.push_str(&format!("{status} {}{endl}", s("progress")))
            }
            _ if !stream.is_empty() => out.push_str(&format!("{stream}{endl}")),
            _ => out.push_str(&format!("{status}{endl}\n")),
        }
        Ok(())
    }
}

/// Where a progress stream is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Stdout,
    Stderr,
    /// Nothing is printed (`-q`); errors are still reported.
    Discard,
}

/// Read a JSON message stream to its end, printing it to `target` the way
/// docker does (terminal display when `target` is a terminal). Returns all
/// messages (for `aux` data), or the message of the first error.
pub async fn consume(mut resp: api_client::Response, target: Target) -> Result<Vec<Value>, String> {
    let (tty, fd) = match target {
        Target::Stdout => (std::io::stdout().is_terminal(), libc::STDOUT_FILENO),
        Target::Stderr => (std::io::stderr().is_terminal(), libc::STDERR_FILENO),
        Target::Discard => (false, -1),
    };
    let width = if tty { terminal_width(fd) } else { 200 };
    let mut display = Display::new(tty, width);
    let mut all = Vec::new();
    let emit = |text: &str| {
        if text.is_empty() {
            return;
        }
        match target {
            Target::Stdout => {
                let mut o = std::io::stdout().lock();
                let _ = o.write_all(text.as_bytes());
                let _ = o.flush();
            }
            Target::Stderr => {
                let _ = std::io::stderr().lock().write_all(text.as_bytes());
            }
            Target::Discard => {}
        }
    };
    loop {
        let m: Option<Value> = resp.next_json().await.map_err(|e| e.to_string())?;
        let Some(m) = m else { break };
        let mut text = String::new();
        let res = display.message(&m, &mut text);
        emit(&text);
        res?;
        all.push(m);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(tty: bool, width: usize, stream: &str) -> (String, Result<(), String>) {
        let mut d = Display::new(tty, width);
        d.now = || 1_000_100;
        let mut out = String::new();
        for line in stream.lines().filter(|l| !l.trim().is_empty()) {
            let m: Value = serde_json::from_str(line).unwrap();
            if let Err(e) = d.message(&m, &mut out) {
                return (out, Err(e));
            }
        }
        (out, Ok(()))
    }

    /// Recorded from dockerd 20.10: `POST /images/create` from a local registry.
    const PULL: &str = r#"
{"status":"Pulling from x/y","id":"v1"}
{"status":"Pulling fs layer","progressDetail":{},"id":"9114e06d1744"}
{"status":"Downloading","progressDetail":{"current":36445,"total":1069145},"progress":"[=\u003e                                                 ]  36.45kB/1.069MB","id":"9114e06d1744"}
{"status":"Downloading","progressDetail":{"current":1069145,"total":1069145},"progress":"[==================================================\u003e]  1.069MB/1.069MB","id":"9114e06d1744"}
{"status":"Verifying Checksum","progressDetail":{},"id":"9114e06d1744"}
{"status":"Download complete","progressDetail":{},"id":"9114e06d1744"}
{"status":"Extracting","progressDetail":{"current":32768,"total":1069145},"progress":"[=\u003e                                                 ]  32.77kB/1.069MB","id":"9114e06d1744"}
{"status":"Extracting","progressDetail":{"current":1069145,"total":1069145},"progress":"[==================================================\u003e]  1.069MB/1.069MB","id":"9114e06d1744"}
{"status":"Pull complete","progressDetail":{},"id":"9114e06d1744"}
{"status":"Digest: sha256:1e9afc81f99af671a9b5779cb0949e4e6ec67ec8fb359308160eb541dfcca749"}
{"status":"Status: Downloaded newer image for 127.0.0.1:15000/x/y:v1"}
"#;

    /// Recorded from dockerd 20.10: `POST /images/{name}/push`.
    const PUSH: &str = r#"
{"status":"The push refers to repository [127.0.0.1:15000/x/y]"}
{"status":"Preparing","progressDetail":{},"id":"257d3e8cf552"}
{"status":"Pushing","progressDetail":{"current":512,"total":2129920},"progress":"[\u003e      ]     512B/2.13MB","id":"257d3e8cf552"}
{"status":"Pushed","progressDetail":{},"id":"257d3e8cf552"}
{"status":"v1: digest: sha256:1e9afc81f99af671a9b5779cb0949e4e6ec67ec8fb359308160eb541dfcca749 size: 527"}
{"progressDetail":{},"aux":{"Tag":"v1","Digest":"sha256:1e9afc81f99af671a9b5779cb0949e4e6ec67ec8fb359308160eb541dfcca749","Size":527}}
"#;

    #[test]
    fn plain_output_matches_docker() {
        // `docker pull ... | cat` printed exactly this (docker 28.2.2).
        let (out, res) = render(false, 200, PULL);
        res.unwrap();
        assert_eq!(
            out,
            "v1: Pulling from x/y\n\
             9114e06d1744: Pulling fs layer\n\
             9114e06d1744: Verifying Checksum\n\
             9114e06d1744: Download complete\n\
             9114e06d1744: Pull complete\n\
             Digest: sha256:1e9afc81f99af671a9b5779cb0949e4e6ec67ec8fb359308160eb541dfcca749\n\
             Status: Downloaded newer image for 127.0.0.1:15000/x/y:v1\n"
        );
        let (out, res) = render(false, 200, PUSH);
        res.unwrap();
        assert_eq!(
            out,
            "The push refers to repository [127.0.0.1:15000/x/y]\n\
             257d3e8cf552: Preparing\n\
             257d3e8cf552: Pushed\n\
             v1: digest: sha256:1e9afc81f99af671a9b5779cb0949e4e6ec67ec8fb359308160eb541dfcca749 size: 527\n"
        );
        let (out, _) = render(false, 200, r#"{"stream":"Loaded image: busybox:latest\n"}"#);
        assert_eq!(out, "Loaded image: busybox:latest\n");
    }

    #[test]
    fn terminal_output_matches_docker() {
        // Captured from `docker pull` on a pty without a size (width 0).
        let (out, res) = render(true, 0, PULL);
        res.unwrap();
        let want = "v1: Pulling from x/y\n\
            \n\x1b[1A\x1b[2K\r9114e06d1744: Pulling fs layer \r\x1b[1B\
            \x1b[1A\x1b[2K\r9114e06d1744: Downloading  36.45kB/1.069MB\r\x1b[1B\
            \x1b[1A\x1b[2K\r9114e06d1744: Downloading  1.069MB/1.069MB\r\x1b[1B\
            \x1b[1A\x1b[2K\r9114e06d1744: Verifying Checksum \r\x1b[1B\
            \x1b[1A\x1b[2K\r9114e06d1744: Download complete \r\x1b[1B\
            \x1b[1A\x1b[2K\r9114e06d1744: Extracting  32.77kB/1.069MB\r\x1b[1B\
            \x1b[1A\x1b[2K\r9114e06d1744: Extracting  1.069MB/1.069MB\r\x1b[1B\
            \x1b[1A\x1b[2K\r9114e06d1744: Pull complete \r\x1b[1B\
            Digest: sha256:1e9afc81f99af671a9b5779cb0949e4e6ec67ec8fb359308160eb541dfcca749\n\
            Status: Downloaded newer image for 127.0.0.1:15000/x/y:v1\n";
        assert_eq!(out, want);
    }

    #[test]
    fn terminal_layers_move_the_cursor() {
        let stream = r#"
{"status":"Pulling fs layer","progressDetail":{},"id":"aaa"}
{"status":"Pulling fs layer","progressDetail":{},"id":"bbb"}
{"status":"Downloading","progressDetail":{"current":500,"total":1000},"id":"aaa"}
"#;
        let (out, _) = render(true, 120, stream);
        assert_eq!(
            out,
            "\n\x1b[1A\x1b[2K\raaa: Pulling fs layer \r\x1b[1B\
             \n\x1b[1A\x1b[2K\rbbb: Pulling fs layer \r\x1b[1B\
             \x1b[2A\x1b[2K\raaa: Downloading [=========================>                         ]     500B/1kB\r\x1b[2B"
        );
    }

    #[test]
    fn progress_strings() {
        let p = |current, total| Progress {
            current,
            total,
            ..Default::default()
        };
        assert_eq!(p(0, 0).render(200, 0), "");
        assert_eq!(p(1500, 0).render(200, 0), "   1.5kB");
        assert_eq!(p(2000, 1000).render(0, 0), "     2kB");
        assert_eq!(
            p(1000, 1000).render(111, 0),
            "[==================================================>]      1kB/1kB"
        );
        let units = Progress {
            current: 3,
            total: 10,
            units: "items".into(),
            ..Default::default()
        };
        assert_eq!(units.render(80, 0), "3/10 items");
        let timed = Progress {
            current: 100,
            total: 1100,
            start: 1_000_000,
            ..Default::default()
        };
        // 100 bytes in 100 s: 1000 s left.
        assert_eq!(timed.render(80, 1_000_100), "    100B/1.1kB 16m40s");
        assert_eq!(go_seconds(0), "0s");
        assert_eq!(go_seconds(7200), "2h0m0s");
    }

    #[test]
    fn errors_and_aux() {
        let (out, res) = render(
            false,
            200,
            r#"{"status":"The push refers to repository [127.0.0.1:15001/x/y]"}
{"status":"Preparing","progressDetail":{},"id":"257d3e8cf552"}
{"errorDetail":{"message":"no basic auth credentials"},"error":"no basic auth credentials"}
{"status":"never shown"}"#,
        );
        assert_eq!(res.unwrap_err(), "no basic auth credentials");
        assert_eq!(
            out,
            "The push refers to repository [127.0.0.1:15001/x/y]\n257d3e8cf552: Preparing\n"
        );
        let mut d = Display::new(false, 200);
        let mut out = String::new();
        d.message(&json!({"aux": {"ID": "sha256:x"}}), &mut out)
            .unwrap();
        assert_eq!(
            d.message(&json!({"error": "boom"}), &mut out).unwrap_err(),
            "boom"
        );
        assert_eq!(out, "");
    }
}
