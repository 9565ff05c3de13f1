//! Signal names and numbers as Docker accepts them (`KILL`, `SIGKILL`, `9`).

use base::{Error, Result};

const SIGNALS: &[(&str, i32)] = &[
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("IOT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("POLL", 29),
    ("PWR", 30),
    ("SYS", 31),
];

/// Parses a signal by name or number.
pub fn parse(s: &str) -> Result<i32> {
    let bad = || Error::invalid(format!("Invalid signal: {s}"));
    if let Ok(n) = s.parse::<i32>() {
        return if (1..=64).contains(&n) {
            Ok(n)
        } else {
            Err(bad())
        };
    }
    let up = s.to_ascii_uppercase();
    let name = up.strip_prefix("SIG").unwrap_or(&up);
    if let Some(off) = name
        .strip_prefix("RTMIN+")
        .and_then(|n| n.parse::<i32>().ok())
    {
        return if off <= 30 { Ok(34 + off) } else { Err(bad()) };
    }
    SIGNALS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_and_numbers() {
        for (s, n) in [
            ("KILL", 9),
            ("sigterm", 15),
            ("SIGUSR1", 10),
            ("2", 2),
            ("RTMIN+1", 35),
        ] {
            assert_eq!(super::parse(s).unwrap(), n, "{s}");
        }
        for s in ["", "FOO", "0", "65", "SIG"] {
            assert!(super::parse(s).is_err(), "{s}");
        }
    }
}
