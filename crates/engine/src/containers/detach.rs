//! Detach keys: the key sequence that, typed into an attached terminal,
//! detaches the client and leaves the container (or exec) running, as
//! dockerd does it: `ctrl-p,ctrl-q` unless the client names others
//! (`detachKeys` of attach, `DetachKeys` of exec create, which the docker
//! CLI fills from its config.json).

use base::{Error, Result};

/// dockerd's default: ctrl-p, ctrl-q.
pub const DEFAULT: [u8; 2] = [16, 17];

/// Parses Docker's key list: comma-separated single characters or
/// `ctrl-<x>` (x one of `a`-`z`, `@`, `[`, `\`, `]`, `^`, `_`).
pub fn parse(keys: &str) -> Result<Vec<u8>> {
    let bad = || Error::invalid(format!("Invalid detach keys ({keys}) provided"));
    let mut out = Vec::new();
    for key in keys.split(',') {
        let k = key.trim();
        let code = match k.strip_prefix("ctrl-") {
            Some(c) if c.len() == 1 => {
                let c = c.as_bytes()[0].to_ascii_lowercase();
                match c {
                    b'a'..=b'z' => c - b'a' + 1,
                    b'@' => 0,
                    b'[' => 27,
                    b'\\' => 28,
                    b']' => 29,
                    b'^' => 30,
                    b'_' => 31,
                    _ => return Err(bad()),
                }
            }
            Some(_) => return Err(bad()),
            None if k.len() == 1 => k.as_bytes()[0],
            None => return Err(bad()),
        };
        out.push(code);
    }
    if out.is_empty() {
        return Err(bad());
    }
    Ok(out)
}

/// The keys a client asked for, or the default; `None` when empty.
pub fn keys_or_default(keys: Option<&str>) -> Result<Vec<u8>> {
    match keys.filter(|k| !k.is_empty()) {
        Some(k) => parse(k),
        None => Ok(DEFAULT.to_vec()),
    }
}

/// Watches a stdin stream for the keys. Bytes that might begin the
/// sequence are held back until they turn out not to (then they go on,
/// as with dockerd) or complete it (then the client detaches and they
/// never reach the process).
pub struct Escape {
    keys: Vec<u8>,
    held: usize,
}

impl Escape {
    pub fn new(keys: Vec<u8>) -> Escape {
        Escape { keys, held: 0 }
    }

    /// What of `input` goes to the process, and whether the keys were
    /// typed (everything after them is dropped with the client).
    pub fn feed(&mut self, input: &[u8]) -> (Vec<u8>, bool) {
        let mut out = Vec::with_capacity(input.len());
        for &b in input {
            if b == self.keys[self.held] {
                self.held += 1;
                if self.held == self.keys.len() {
                    return (out, true);
                }
                continue;
            }
            // Not the sequence after all: what was held goes on.
            out.extend_from_slice(&self.keys[..self.held]);
            self.held = 0;
            if b == self.keys[0] {
                self.held = 1;
                if self.keys.len() == 1 {
                    return (out, true);
                }
            } else {
                out.push(b);
            }
        }
        (out, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_as_docker_reads_them() {
        assert_eq!(parse("ctrl-p,ctrl-q").unwrap(), [16, 17]);
        assert_eq!(parse("a,ctrl-@,ctrl-[,ctrl-_").unwrap(), [b'a', 0, 27, 31]);
        for bad in ["", "ctrl-", "ctrl-pp", "ab", "ctrl-1"] {
            assert!(
                parse(bad)
                    .unwrap_err()
                    .message
                    .contains("Invalid detach keys"),
                "{bad}"
            );
        }
        assert_eq!(keys_or_default(None).unwrap(), DEFAULT);
        assert_eq!(keys_or_default(Some("")).unwrap(), DEFAULT);
    }

    #[test]
    fn the_sequence_detaches_and_near_misses_pass_through() {
        let mut e = Escape::new(DEFAULT.to_vec());
        assert_eq!(e.feed(b"ls\n"), (b"ls\n".to_vec(), false));
        // Split across reads, and not reaching the process.
        assert_eq!(e.feed(&[b'x', 16]), (vec![b'x'], false));
        assert_eq!(e.feed(&[17, b'y']), (vec![], true));
        // A ctrl-p followed by something else goes on whole.
        let mut e = Escape::new(DEFAULT.to_vec());
        assert_eq!(e.feed(&[16, b'a']), (vec![16, b'a'], false));
        assert_eq!(e.feed(&[16, 16, 17]), (vec![16], true));
        let mut e = Escape::new(vec![b'q']);
        assert_eq!(e.feed(b"abq"), (b"ab".to_vec(), true));
    }
}
