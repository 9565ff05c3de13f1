//! Requests on the shim's control socket. Each connection sends one JSON
//! request line and gets one JSON reply line; `attach` and `exec` then switch
//! the connection to frames (see [`crate::frame`]).

use serde::{Deserialize, Serialize};

/// File names inside a shim's state directory.
pub const SOCKET: &str = "shim.sock";
pub const EXIT_FILE: &str = "exit.json";
pub const PID_FILE: &str = "init.pid";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Run `runtime start` (or `runtime run --detach` for a shim that
    /// creates at start); the reply carries the init's pid.
    Start,
    /// Current state of the init process.
    State,
    /// Reply when the init process has exited, with its exit status.
    Wait,
    /// Send a signal to the init process.
    Kill { signal: i32 },
    /// Set the terminal size of the init process.
    Resize { height: u16, width: u16 },
    /// Stream output frames; accept stdin/close/resize frames when `stdin`.
    /// With `logs`, the log kept so far comes first, with nothing lost or
    /// doubled between it and the live output.
    Attach {
        stdin: bool,
        stdout: bool,
        stderr: bool,
        #[serde(default)]
        logs: bool,
    },
    /// Start an extra process (an OCI `process` object) and stream its I/O.
    Exec {
        exec_id: String,
        process: serde_json::Value,
        tty: bool,
        stdin: bool,
    },
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Reply {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// `created`, `running` or `stopped`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// A failed `Start` of a shim that creates at start: `create` or `start`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_at: Option<String>,
}

impl Reply {
    pub fn err(e: impl ToString) -> Reply {
        Reply {
            error: Some(e.to_string()),
            ..Default::default()
        }
    }
}

/// What the shim writes to `exit.json` when the container's init has exited,
/// so that a daemon that was down at the time still learns the outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExitRecord {
    pub exit_code: i32,
    /// RFC 3339 with nanoseconds.
    pub finished_at: String,
    #[serde(default)]
    pub oom_killed: bool,
}

/// The first line a shim prints on its stdout: the init pid, or why create
/// failed; no pid from a shim that creates at start.
pub type Ready = Reply;
