//! The workload executor run inside the container's init (or exec) process.
//!
//! It replaces libcontainer's default executor to behave like runc: the
//! program is looked up before the container is reported created, with runc's
//! error texts (`exec: "foo": executable file not found in $PATH`), and a
//! missing `PATH` falls back to the usual default instead of being an error.
//! An exec that fails once the container runs (a binary of another
//! architecture and no emulator) is reported as runc reports it.
//!
//! For an exec it also loads the container's seccomp profile, which
//! libcontainer leaves out of an exec's spec (its tenant builder keeps only
//! the namespaces, cgroup path, personality and time offsets of `linux`),
//! while runc applies it to every process of the container.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use libcontainer::oci_spec::runtime::{LinuxCapabilities, Spec};
use libcontainer::workload::{Executor, ExecutorError, ExecutorValidationError};

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

#[derive(Clone, Default)]
pub struct BerthExecutor {
    /// The container's seccomp profile, compiled, to load before the
    /// process runs (for a container's init and for an exec).
    pub seccomp: Option<LoadSeccomp>,
}

/// A seccomp profile to load in the process. Without no_new_privs, loading
/// a filter takes CAP_SYS_ADMIN: the process then runs with CAP_SYS_ADMIN
/// and CAP_SETPCAP added (spec::widen_for_seccomp) until the profile is
/// loaded, and gets its own capabilities right after, the order
/// libcontainer (and runc) keep for a container's init: load, then drop.
#[derive(Clone)]
pub struct LoadSeccomp {
    pub compiled: crate::seccomp::Compiled,
    /// The process's own capabilities, set once the profile is loaded
    /// (`None`: none were added).
    pub restore: Option<LinuxCapabilities>,
}

impl LoadSeccomp {
    /// Loads the profile, then drops what was added. Any failure stops the
    /// process: it never runs unconfined or with the extra caps.
    fn load(&self) -> Result<(), String> {
        crate::seccomp::load(&self.compiled)
            .map_err(|e| format!("load the container's seccomp profile: {e}"))?;
        if let Some(caps) = &self.restore {
            let syscall = libcontainer::syscall::syscall::create_syscall();
            libcontainer::capabilities::drop_privileges(caps, syscall.as_ref()).map_err(|e| {
                format!("set the capabilities after loading the seccomp profile: {e}")
            })?;
        }
        Ok(())
    }
}

fn args_of(spec: &Spec) -> Option<&Vec<String>> {
    spec.process()
        .as_ref()
        .and_then(|p| p.args().as_ref())
        .filter(|a| !a.is_empty())
}

fn is_executable_file(path: &Path) -> std::io::Result<bool> {
    let md = std::fs::metadata(path)?;
    Ok(md.is_file() && md.permissions().mode() & 0o111 != 0)
}

/// Finds the program as Go's `exec.LookPath` does (runc uses that).
fn look_path(name: &str, path_var: &str) -> Result<PathBuf, String> {
    if name.contains('/') {
        return match is_executable_file(Path::new(name)) {
            Ok(true) => Ok(PathBuf::from(name)),
            Ok(false) => Err(format!("exec: {name:?}: permission denied")),
            Err(e) => Err(format!("exec: {name:?}: stat {name}: {}", io_text(&e))),
        };
    }
    for dir in path_var.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let candidate = Path::new(dir).join(name);
        if let Ok(true) = is_executable_file(&candidate) {
            return Ok(candidate);
        }
    }
    Err(format!(
        "exec: {name:?}: executable file not found in $PATH"
    ))
}

/// The text of an io error without Rust's " (os error N)" suffix.
fn io_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_lowercase(),
        None => e.to_string(),
    }
}

impl Executor for BerthExecutor {
    fn validate(&self, spec: &Spec) -> Result<(), ExecutorValidationError> {
        let args = args_of(spec).ok_or_else(|| {
            ExecutorValidationError::ArgValidationError("process args must not be empty".into())
        })?;
        let env_path = spec
            .process()
            .as_ref()
            .and_then(|p| p.env().as_ref())
            .and_then(|env| env.iter().rev().find_map(|e| e.strip_prefix("PATH=")))
            .unwrap_or(DEFAULT_PATH);
        look_path(&args[0], env_path).map_err(ExecutorValidationError::ArgValidationError)?;
        // The last step libcontainer runs before it reports the process
        // ready, so a failure is the exec's error, as its own seccomp
        // failures are.
        if let Some(t) = &self.seccomp {
            t.load()
                .map_err(ExecutorValidationError::ArgValidationError)?;
        }
        Ok(())
    }

    fn exec(&self, spec: &Spec) -> Result<(), ExecutorError> {
        let args = args_of(spec).ok_or(ExecutorError::InvalidArg)?;
        // setup_envs has replaced our environment with the container's by now.
        let env_path = std::env::var("PATH").unwrap_or_else(|_| DEFAULT_PATH.to_string());
        let program = look_path(&args[0], &env_path).map_err(ExecutorError::Other)?;
        let program =
            CString::new(program.as_os_str().as_bytes()).map_err(|_| ExecutorError::InvalidArg)?;
        let argv = args
            .iter()
            .map(|a| CString::new(a.as_bytes()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ExecutorError::InvalidArg)?;
        // The Rust runtime ignores SIGPIPE in this process, and an ignored
        // signal stays ignored across exec: give the program the default.
        // SAFETY: restoring a default disposition installs no handler.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
        let err = nix::unistd::execv(&program, &argv).unwrap_err();
        // The container has started: as runc, the reason goes to the
        // process's stderr (the container's log) and the exit code is 1,
        // not a bare 255 (`exec /bin/uname: exec format error` for a binary
        // of another architecture without an emulator).
        let msg = format!(
            "exec {}: {}\n",
            program.to_string_lossy(),
            err.desc().to_lowercase()
        );
        // SAFETY: writing a buffer to fd 2 and exiting without unwinding.
        unsafe {
            libc::write(2, msg.as_ptr().cast(), msg.len());
            libc::_exit(1);
        }
    }
}
