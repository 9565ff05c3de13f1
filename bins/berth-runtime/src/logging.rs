//! Logging in runc's formats: logrus text (`time="…" level=error msg="…"`) or
//! one JSON object a line (`{"level":"error","msg":"…","time":"…"}`).
//!
//! The final error of a failed command is always written as the last entry,
//! at level `error`, so a caller can read the log file for the reason (that is
//! how shims read runc's errors). libcontainer's own `tracing` events go to the
//! same sink: errors only, or everything with `--debug`. Without `--log` they
//! go to stderr, but only with `--debug`, since stderr is usually the
//! container's stderr pipe.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::OnceLock;

use anyhow::Context as _;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

struct Sink {
    file: Option<File>,
    json: bool,
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
        sink.write_entry(level, &visitor.msg, &visitor.fields);
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
    let has_file = file.is_some();
    let _ = SINK.set(Sink { file, json });

    if has_file || debug {
        let level = if debug {
            LevelFilter::DEBUG
        } else {
            LevelFilter::ERROR
        };
        tracing_subscriber::registry()
            .with(LogLayer.with_filter(level))
            .try_init()
            .ok();
    }
    Ok(())
}

/// Writes the final error of the command to the log file, if there is one.
pub fn error(msg: &str) {
    if let Some(sink) = SINK.get() {
        if sink.file.is_some() {
            sink.write_entry("error", msg, &[]);
        }
    }
}
