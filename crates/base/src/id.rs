//! Random identifiers in Docker's format (64 lowercase hex characters).

/// A new random 64-hex-character id, never all digits (Docker avoids ids that
/// parse as numbers, since `docker ps` truncates them to 12 characters).
pub fn random_id() -> String {
    loop {
        let mut b = [0u8; 32];
        getrandom::fill(&mut b).expect("kernel random source");
        let id = hex::encode(b);
        if id[..12].bytes().any(|c| c.is_ascii_alphabetic()) {
            return id;
        }
    }
}

/// True when `s` is a 1..=64 character lowercase hex string.
pub fn is_hex_prefix(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

/// A container name as Docker accepts it: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
pub fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() >= 2
        && b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_hex_and_unique() {
        let a = random_id();
        assert_eq!(a.len(), 64);
        assert!(is_hex_prefix(&a));
        assert_ne!(a, random_id());
    }

    #[test]
    fn names() {
        for (n, ok) in [
            ("web", true),
            ("a", false),
            ("_x", false),
            ("a.b-c_d", true),
            ("a/b", false),
        ] {
            assert_eq!(valid_name(n), ok, "{n}");
        }
    }
}
