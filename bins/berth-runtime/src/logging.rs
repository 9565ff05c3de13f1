//! Logging in runc's formats: logrus text (`time="…" level=error msg="…"`) or
//! one JSON object a line (`{"level":"error","msg":"…","time":"…"}`).
//!
//! The final error of a failed command is always written as the last entry,
//! at level `error`, so a caller can read the log file for the reason (that is
//! how shims read runc's errors). libcontainer's own `tracing` events go to the
//! same sink: errors only, or everything with `--debug`. Without `--log` they
//! go to stderr, but only with `--debug`, since stderr is usually the
//! container's stderr pipe.
//!
//! libcontainer reports a failure of the container's init process across
//! its channel only by the outermost message ("failed to prepare rootfs"),
//! while the init process logs the step and the OS error as a `tracing`
//! event. Every process of the invocation also writes its error events to a
//! memfd it inherits, so the final error can name the step and the errno
//! ([`failure_detail`]), as runc's do, with or without `--log`.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::OnceLock;

use anyhow::Context as _;
use nix::sys::memfd::MFdFlags;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

struct Sink {
    file: Option<File>,
    json: bool,
    /// Whether entries go to `file` (or stderr, when there is no file).
    write: bool,
    /// Error events of this invocation's processes, one JSON object a line.
    capture: Option<File>,
}

static SINK: OnceLock<Sink> = OnceLock::new();

impl Sink {
    fn write_entry(&self, level: &str, msg: &str, fields: &[(String, String)]) {
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        let mut line = String::new();
        if self.json {
            let mut obj = serde_json::Map::new();
            for (k, v) in fields {
                obj.insert(k.clone(), serde_json::Value::String(v.clone()));
            }
            obj.insert("level".into(), level.into());
            obj.insert("msg".into(), msg.into());
            obj.insert("time".into(), time.into());
            line = serde_json::Value::Object(obj).to_string();
        } else {
            let _ = write!(line, "time={time:?} level={level} msg={msg:?}");
            for (k, v) in fields {
                let _ = write!(line, " {k}={v:?}");
            }
        }
        line.push('\n');
        // One write a line: with O_APPEND, lines from the runtime and from its
        // forked helpers don't interleave.
        match &self.file {
            Some(f) => {
                let _ = (&*f).write_all(line.as_bytes());
            }
            None => {
                let _ = std::io::stderr().write_all(line.as_bytes());
            }
        }
    }
}

#[derive(Default)]
struct FieldVisitor {
    msg: String,
    fields: Vec<(String, String)>,
}

impl Visit for FieldVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.msg = value.to_string();
        } else {
            self.fields
                .push((field.name().to_string(), value.to_string()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.msg = format!("{value:?}");
        } else {
            self.fields
                .push((field.name().to_string(), format!("{value:?}")));
        }
    }
}

struct LogLayer;

impl<S: Subscriber> Layer<S> for LogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let Some(sink) = SINK.get() else { return };
        let mut visitor = FieldVisitor::default();
        event.record(&mut visitor);
        let level = match *event.metadata().level() {
            Level::ERROR => "error",
            Level::WARN => "warning",
            Level::INFO => "info",
            Level::DEBUG => "debug",
            Level::TRACE => "trace",
        };
        if level == "error" {
            if let Some(capture) = &sink.capture {
                let mut obj = serde_json::Map::new();
                for (k, v) in &visitor.fields {
                    obj.insert(k.clone(), v.as_str().into());
                }
                obj.insert("msg".into(), visitor.msg.as_str().into());
                let mut line = serde_json::Value::Object(obj).to_string();
                line.push('\n');
                let _ = (&*capture).write_all(line.as_bytes());
            }
        }
        if sink.write {
            sink.write_entry(level, &visitor.msg, &visitor.fields);
        }
    }
}

/// Sets up the log sink and installs the tracing subscriber.
pub fn init(log: Option<&Path>, json: bool, debug: bool) -> anyhow::Result<()> {
    let file = match log {
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("create log directory {}", dir.display()))?;
            }
            Some(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .mode(0o644)
                    .open(path)
                    .with_context(|| format!("open log file {}", path.display()))?,
            )
        }
        None => None,
    };
    let write = file.is_some() || debug;
    // O_APPEND: the forked helpers share this file description with us.
    let capture = nix::sys::memfd::memfd_create("berth-runtime-errors", MFdFlags::MFD_CLOEXEC)
        .ok()
        .map(File::from)
        .and_then(|f| {
            nix::fcntl::fcntl(
                &f,
                nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_APPEND),
            )
            .ok()
            .map(|_| f)
        });
    let _ = SINK.set(Sink {
        file,
        json,
        write,
        capture,
    });
    let level = if debug {
        LevelFilter::DEBUG
    } else {
        LevelFilter::ERROR
    };
    tracing_subscriber::registry()
        .with(LogLayer.with_filter(level))
        .try_init()
        .ok();
    Ok(())
}

/// What the processes of this invocation logged about the failing step: its
/// message, the values logged with it and the OS error, for example
/// `error mounting "/etc/hostname" to rootfs at "/bin/x": …: not a directory`.
/// Given once: whoever words the final error first uses it.
pub fn failure_detail() -> Option<String> {
    use std::os::unix::fs::FileExt;
    static TAKEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if TAKEN.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return None;
    }
    let capture = SINK.get()?.capture.as_ref()?;
    let len = capture.metadata().ok()?.len() as usize;
    let mut buf = vec![0u8; len.min(1 << 20)];
    let n = capture.read_at(&mut buf, 0).ok()?;
    let events: Vec<serde_json::Map<String, serde_json::Value>> = buf[..n]
        .split(|&b| b == b'\n')
        .filter_map(|l| serde_json::from_slice(l).ok())
        .collect();
    detail(&events)
}

/// The first event is the innermost step (the ones after it wrap it).
fn detail(events: &[serde_json::Map<String, serde_json::Value>]) -> Option<String> {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    // Events of the processes that wait for the init only repeat its message.
    const WRAPPERS: [&str; 3] = [
        "failed to initialize container process",
        "failed to wait for init ready",
        "failed to run container process",
    ];
    let events: Vec<_> = events
        .iter()
        .filter(|e| {
            let msg = e.get("msg").and_then(|m| m.as_str()).unwrap_or_default();
            !WRAPPERS.iter().any(|w| msg.starts_with(w))
        })
        .collect();
    let first = events.first()?;
    let mut out = step(&first.get("msg").map(text).unwrap_or_default());
    let values: Vec<String> = first
        .iter()
        .filter(|(k, _)| *k != "msg" && *k != "err" && *k != "e")
        .map(|(k, v)| format!("{k}={}", text(v)))
        .collect();
    if !values.is_empty() {
        out = format!("{out} ({})", values.join(", "));
    }
    let os = events.iter().find_map(|e| {
        e.values()
            .find_map(|v| os_error(v.as_str().unwrap_or_default()))
    });
    if let Some(os) = os {
        if !out.to_lowercase().contains(&os.to_lowercase()) {
            out = format!("{out}: {os}");
        }
    }
    (!out.is_empty()).then_some(out)
}

/// libcontainer's "failed to mount Mount { destination: …, source: …, … }:
/// why" in runc's words: `error mounting "<source>" to rootfs at "<dest>"`.
fn step(msg: &str) -> String {
    let Some(rest) = msg.strip_prefix("failed to mount Mount {") else {
        return msg.to_string();
    };
    let quoted = |key: &str| -> Option<&str> {
        let start = rest.find(key)? + key.len();
        let end = rest[start..].find('"')?;
        Some(&rest[start..start + end])
    };
    let why = rest.find("}: ").map(|i| &rest[i + 3..]).unwrap_or_default();
    match (quoted("destination: \""), quoted("source: Some(\"")) {
        (Some(dest), source) => {
            let head = format!(
                "error mounting {:?} to rootfs at {dest:?}",
                source.unwrap_or("none")
            );
            if why.is_empty() {
                head
            } else {
                format!("{head}: {why}")
            }
        }
        _ => msg.to_string(),
    }
}

/// The OS error in a Debug rendering: std's `Os { code: 20, …, message:
/// "Not a directory" }` or nix's `ENOTDIR`, as `not a directory (errno 20)`.
fn os_error(debug: &str) -> Option<String> {
    if let Some(i) = debug.find("Os { code: ") {
        let rest = &debug[i + "Os { code: ".len()..];
        let code: i32 = rest
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()?;
        return Some(errno_text(code));
    }
    debug
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| {
            w.len() > 2
                && w.starts_with('E')
                && w.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        })
        .find_map(|w| (1..134).find(|&n| format!("{:?}", nix::errno::Errno::from_raw(n)) == w))
        .map(errno_text)
}

fn errno_text(code: i32) -> String {
    let desc = nix::errno::Errno::from_raw(code).desc();
    let mut c = desc.chars();
    let lower = match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    };
    format!("{lower} (errno {code})")
}

/// Writes a warning to the log file (or to stderr without one: the
/// caller of `delete` is the one to tell).
pub fn warn(msg: &str) {
    match SINK.get() {
        Some(sink) if sink.file.is_some() => sink.write_entry("warning", msg, &[]),
        _ => eprintln!("berth-runtime: warning: {msg}"),
    }
}

/// Writes the final error of the command to the log file, if there is one.
pub fn error(msg: &str) {
    if let Some(sink) = SINK.get() {
        if sink.file.is_some() {
            sink.write_entry("error", msg, &[]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(pairs: &[(&str, &str)]) -> serde_json::Map<String, serde_json::Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
            .collect()
    }

    #[test]
    fn a_failed_mount_names_the_mount_and_the_errno() {
        let events = [
            ev(&[("msg", "failed to mount Mount { destination: \"/bin/busybox/x\", typ: Some(\"bind\"), source: Some(\"/etc/hostname\"), options: Some([\"rbind\"]) }: cannot re-open [9] with O_DIRECTORY")]),
            ev(&[("err", "Mount(Pathrs(Error(Wrapped { source: Os { code: 20, kind: NotADirectory, message: \"Not a directory\" } })))"), ("msg", "failed to prepare rootfs")]),
        ];
        assert_eq!(
            detail(&events).unwrap(),
            "error mounting \"/etc/hostname\" to rootfs at \"/bin/busybox/x\": cannot re-open [9] with O_DIRECTORY: not a directory (errno 20)"
        );
    }

    #[test]
    fn values_and_nix_errnos() {
        let events = [ev(&[
            ("err", "Syscall(Nix(ENOTDIR))"),
            ("cwd", "\"/etc/passwd\""),
            ("msg", "failed to chdir to cwd"),
        ])];
        assert_eq!(
            detail(&events).unwrap(),
            "failed to chdir to cwd (cwd=\"/etc/passwd\"): not a directory (errno 20)"
        );
        assert_eq!(detail(&[]), None);
        let wrapper = ev(&[(
            "msg",
            "failed to initialize container process: open subpath in procfs failed",
        )]);
        assert_eq!(detail(&[wrapper]), None);
        assert_eq!(os_error("EXIT"), None);
    }
}
