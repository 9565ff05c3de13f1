//! The per-container supervisor ("shim") and the protocol the daemon uses to
//! talk to it.
//!
//! A shim is a small synchronous process started by berthd for each running
//! container. It drives a runc-compatible runtime (`create`, `start`,
//! `exec --detach`, `delete`), is the child subreaper that reaps the
//! container's processes, holds the container's stdio, writes the json-file
//! log, and serves attach/wait/kill/exec on a unix socket. Because it runs in
//! its own session, a container outlives a daemon restart.
//!
//! **Architecture Invariant:** the shim never links the runtime library; it
//! only executes a runtime binary, so `runc` can replace `berth-runtime`.

pub mod archive;
pub mod frame;
pub mod proto;
pub mod server;
