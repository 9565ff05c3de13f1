//! htpasswd files with bcrypt entries (`htpasswd -B`), as the CNCF
//! registry accepts. Successful checks are cached (by a hash of the
//! password) so a client sending Basic credentials on every request pays
//! bcrypt's cost once.

use super::AuthSetupError;
use ring::digest;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// (user, hash of hash and password) pairs that checked out.
type Verified = HashSet<(String, Vec<u8>)>;

/// Users and their bcrypt hashes.
#[derive(Clone)]
pub struct Htpasswd {
    users: Arc<HashMap<String, String>>,
    verified: Arc<Mutex<Verified>>,
}

impl Htpasswd {
    /// Reads an htpasswd file; entries that are not bcrypt are skipped with a warning.
    pub fn load(path: &Path) -> Result<Htpasswd, AuthSetupError> {
        let text = std::fs::read_to_string(path).map_err(|source| AuthSetupError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Htpasswd::parse(&text))
    }

    /// Parses htpasswd text.
    pub fn parse(text: &str) -> Htpasswd {
        let mut users = HashMap::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((user, hash)) = line.split_once(':') else {
                continue;
            };
            if ["$2y$", "$2a$", "$2b$"].iter().any(|p| hash.starts_with(p)) {
                users.insert(user.to_string(), hash.to_string());
            } else {
                tracing::warn!(user, "htpasswd entry is not bcrypt; ignored");
            }
        }
        Htpasswd {
            users: Arc::new(users),
            verified: Arc::default(),
        }
    }

    /// Checks a user's password.
    pub async fn verify(&self, user: &str, password: &str) -> bool {
        let Some(hash) = self.users.get(user).cloned() else {
            return false;
        };
        let key = (
            user.to_string(),
            digest::digest(&digest::SHA256, format!("{hash}\0{password}").as_bytes())
                .as_ref()
                .to_vec(),
        );
        if self.cache().contains(&key) {
            return true;
        }
        let password = password.to_string();
        let ok =
            tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
                .await
                .unwrap_or(false);
        if ok {
            self.cache().insert(key);
        }
        ok
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Verified> {
        self.verified.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bcrypt_entries() {
        let hash = bcrypt::hash("secret", 4).unwrap();
        let h = Htpasswd::parse(&format!("# c\nalice:{hash}\nbob:{{SHA}}abc\n\n"));
        assert!(h.verify("alice", "secret").await);
        assert!(h.verify("alice", "secret").await); // cached
        assert!(!h.verify("alice", "wrong").await);
        assert!(!h.verify("bob", "abc").await);
        assert!(!h.verify("carol", "secret").await);
    }
}
