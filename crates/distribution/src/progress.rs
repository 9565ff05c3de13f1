//! Progress events for pulls and pushes, in Docker's vocabulary, so the
//! caller can turn them into the JSON progress stream one to one.

use base::Digest;
use std::fmt;
use std::sync::Arc;
use tokio::sync::mpsc;

/// What happens to one layer (or config) blob. The strings are Docker's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// "Pulling fs layer" (caller, when a pull starts).
    PullingFsLayer,
    /// "Waiting" (caller, while a download waits for a slot).
    Waiting,
    /// "Downloading", with bytes done and total.
    Downloading,
    /// "Verifying Checksum" (emitted when the stream ended).
    VerifyingChecksum,
    /// "Download complete" (emitted after the digest matched).
    DownloadComplete,
    /// "Extracting", with bytes done and total (caller).
    Extracting,
    /// "Pull complete" (caller).
    PullComplete,
    /// "Already exists": the layer was present locally (caller).
    AlreadyExists,
    /// "Preparing" (caller, when a push starts).
    Preparing,
    /// "Pushing", with bytes done and total.
    Pushing,
    /// "Pushed".
    Pushed,
    /// "Layer already exists": the registry has it.
    LayerAlreadyExists,
    /// `Mounted from <repository>`: cross-repository mount.
    MountedFrom(String),
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Status::PullingFsLayer => "Pulling fs layer",
            Status::Waiting => "Waiting",
            Status::Downloading => "Downloading",
            Status::VerifyingChecksum => "Verifying Checksum",
            Status::DownloadComplete => "Download complete",
            Status::Extracting => "Extracting",
            Status::PullComplete => "Pull complete",
            Status::AlreadyExists => "Already exists",
            Status::Preparing => "Preparing",
            Status::Pushing => "Pushing",
            Status::Pushed => "Pushed",
            Status::LayerAlreadyExists => "Layer already exists",
            Status::MountedFrom(repo) => return write!(f, "Mounted from {repo}"),
        };
        f.write_str(s)
    }
}

/// One progress report about a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub digest: Digest,
    pub status: Status,
    /// Bytes done (meaningful for Downloading, Pushing, Extracting).
    pub current: u64,
    /// The blob's size from its descriptor.
    pub total: u64,
}

impl Event {
    /// Docker's short layer id: the first 12 hex digits of the digest.
    pub fn id(&self) -> &str {
        let hex = self.digest.hex();
        &hex[..hex.len().min(12)]
    }
}

/// Where progress events go: nowhere, a callback or a channel. Cheap to clone.
#[derive(Clone, Default)]
pub struct Progress(Option<Arc<dyn Fn(Event) + Send + Sync>>);

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Progress(..)"
        } else {
            "Progress(none)"
        })
    }
}

impl Progress {
    /// Discards every event.
    pub fn none() -> Progress {
        Progress(None)
    }

    /// Calls `f` for each event, on the task that drives the transfer; keep it quick.
    pub fn new(f: impl Fn(Event) + Send + Sync + 'static) -> Progress {
        Progress(Some(Arc::new(f)))
    }

    /// Sends events to an unbounded channel (they are small and rate-limited).
    pub fn channel() -> (Progress, mpsc::UnboundedReceiver<Event>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            Progress::new(move |e| {
                let _ = tx.send(e);
            }),
            rx,
        )
    }

    /// Reports one event.
    pub fn emit(&self, digest: &Digest, status: Status, current: u64, total: u64) {
        if let Some(f) = &self.0 {
            f(Event {
                digest: digest.clone(),
                status,
                current,
                total,
            });
        }
    }

    pub(crate) fn is_some(&self) -> bool {
        self.0.is_some()
    }
}

/// Rate-limits byte-count events: one per 512 KiB or 1% of the total, whichever
/// is larger, so a 200 MB layer yields a few hundred events, not tens of thousands.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Throttle {
    step: u64,
    last: u64,
}

impl Throttle {
    pub(crate) fn new(total: u64) -> Throttle {
        Throttle {
            step: (total / 100).max(512 * 1024),
            last: 0,
        }
    }

    /// Whether `current` is far enough from the last reported value.
    pub(crate) fn due(&mut self, current: u64) -> bool {
        if current >= self.last + self.step {
            self.last = current;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_strings() {
        assert_eq!(Status::VerifyingChecksum.to_string(), "Verifying Checksum");
        assert_eq!(
            Status::LayerAlreadyExists.to_string(),
            "Layer already exists"
        );
        assert_eq!(
            Status::MountedFrom("library/busybox".into()).to_string(),
            "Mounted from library/busybox"
        );
    }

    #[test]
    fn short_id_and_channel() {
        let (p, mut rx) = Progress::channel();
        let d = Digest::of(b"x");
        p.emit(&d, Status::Pushed, 1, 1);
        let e = rx.try_recv().unwrap();
        assert_eq!(e.id(), &d.hex()[..12]);
        assert_eq!(e.status, Status::Pushed);
    }

    #[test]
    fn throttle_steps() {
        let mut t = Throttle::new(100 * 1024 * 1024);
        assert!(!t.due(1024));
        assert!(t.due(1024 * 1024 + 1));
        assert!(!t.due(1024 * 1024 + 2));
    }
}
