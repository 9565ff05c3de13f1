//! `login` and `logout`: `POST /auth`, and credentials kept in the docker
//! CLI's config file (see [`crate::auth`]).

use std::io::{BufRead, IsTerminal, Read, Write};

use api_client::Client;
use serde_json::Value;

use crate::auth::{self, AuthConfig, ConfigFile, INDEX_SERVER};
use crate::cli::{LoginArgs, LogoutArgs};
use crate::{CmdResult, Failure};

fn fail(msg: impl Into<String>) -> Failure {
    Failure::new(1, msg)
}

/// docker's flag checks (`verifyLoginFlags`).
fn verify_flags(a: &LoginArgs) -> Result<(), Failure> {
    if a.password_stdin {
        if a.password.is_some() {
            return Err(fail(
                "conflicting options: cannot specify both --password and --password-stdin",
            ));
        }
        if a.username.is_none() {
            return Err(fail(
                "the --password-stdin option requires --username to be set",
            ));
        }
    }
    if a.username.as_deref() == Some("") {
        return Err(fail("username is empty"));
    }
    if a.password.as_deref() == Some("") {
        return Err(fail("password is empty"));
    }
    Ok(())
}

/// A password read from stdin loses one trailing `\n`, then one `\r`.
fn trim_password(input: &str) -> String {
    let p = input.strip_suffix('\n').unwrap_or(input);
    p.strip_suffix('\r').unwrap_or(p).to_string()
}

/// Read one line from the terminal, echo off when `secret`.
fn prompt(message: &str, secret: bool) -> Result<String, Failure> {
    use nix::sys::termios::{self, LocalFlags, SetArg};
    print!("{message}");
    let _ = std::io::stdout().flush();
    let stdin = std::io::stdin();
    let saved = if secret {
        termios::tcgetattr(&stdin).ok().inspect(|orig| {
            let mut t = orig.clone();
            t.local_flags.remove(LocalFlags::ECHO);
            t.local_flags.insert(LocalFlags::ECHONL);
            let _ = termios::tcsetattr(&stdin, SetArg::TCSANOW, &t);
        })
    } else {
        None
    };
    let mut line = String::new();
    let res = stdin.lock().read_line(&mut line);
    if let Some(orig) = saved {
        let _ = termios::tcsetattr(&stdin, SetArg::TCSANOW, &orig);
    }
    res?;
    Ok(line.trim().to_string())
}

/// `POST /auth`: the daemon's `Status` and `IdentityToken`.
async fn authenticate(
    client: &Client,
    a: &AuthConfig,
) -> Result<(String, String), api_client::Error> {
    let resp: Value = client.post_json("/auth", &[], Some(&a.to_json())).await?;
    let s = |k: &str| resp[k].as_str().unwrap_or("").to_string();
    Ok((s("Status"), s("IdentityToken")))
}

/// Save the credentials (an identity token replaces the password, as docker
/// does) and print docker's plain-text warning when a password went to the file.
fn store(cfg: &mut ConfigFile, mut a: AuthConfig, token: &str) -> Result<(), Failure> {
    if !token.is_empty() {
        a.password.clear();
        a.identity_token = token.to_string();
    }
    let warn = cfg
        .store(&a)
        .map_err(|e| fail(format!("error saving credentials: {e}")))?;
    if warn {
        eprintln!("{}", auth::plaintext_warning(&cfg.path));
    }
    Ok(())
}

pub async fn login(client: &Client, a: LoginArgs) -> CmdResult {
    verify_flags(&a)?;
    let mut user = a.username.clone().unwrap_or_default();
    let mut password = a.password.clone().unwrap_or_default();
    if !password.is_empty() {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
    }
    if a.password_stdin {
        let mut input = String::new();
        std::io::stdin().read_to_string(&mut input)?;
        password = trim_password(&input);
    }
    let server = match a.server.as_deref() {
        Some(s) if !s.is_empty() && s != "docker.io" => s.to_string(),
        _ => INDEX_SERVER.to_string(),
    };
    let key = if server == INDEX_SERVER {
        server
    } else {
        auth::convert_to_hostname(&server)
    };
    let mut cfg = ConfigFile::load();

    // Without -u/-p, first try the stored credentials.
    let stored = if user.is_empty() && password.is_empty() {
        cfg.get(&key).unwrap_or_default()
    } else {
        AuthConfig::default()
    };
    if !stored.username.is_empty() && !stored.password.is_empty() {
        eprint!(
            "Authenticating with existing credentials... [Username: {}]\n\n Info -> To login with a different account, run 'docker logout' followed by 'docker login'\n\n\n",
            stored.username
        );
        let creds = AuthConfig {
            server_address: key.clone(),
            ..stored.clone()
        };
        match authenticate(client, &creds).await {
            Ok((status, token)) => {
                store(&mut cfg, creds, &token)?;
                if !status.is_empty() {
                    println!("{status}");
                }
                return Ok(0);
            }
            Err(e) if e.status() == Some(401) => {
                eprintln!("Stored credentials invalid or expired")
            }
            Err(e) => eprintln!("Login did not succeed, error: {e}"),
        }
    }

    if (user.is_empty() || password.is_empty()) && !std::io::stdin().is_terminal() {
        return Err(fail(
            "Error: Cannot perform an interactive login from a non TTY device",
        ));
    }
    if user.trim().is_empty() {
        let default = stored.username.trim().to_string();
        let msg = if default.is_empty() {
            "Username: ".to_string()
        } else {
            format!("Username ({default}): ")
        };
        user = prompt(&msg, false)?;
        if user.is_empty() {
            user = default;
        }
        if user.is_empty() {
            return Err(fail("Error: Non-null Username Required"));
        }
    }
    if password.trim().is_empty() {
        password = prompt("Password: ", true)?;
        if password.is_empty() {
            return Err(fail("Error: Password Required"));
        }
    }
    // docker 28 trims both (`PromptUserForCredentials`).
    let creds = AuthConfig {
        username: user.trim().to_string(),
        password: password.trim().to_string(),
        server_address: key,
        ..Default::default()
    };
    let (status, token) = authenticate(client, &creds).await?;
    store(&mut cfg, creds, &token)?;
    println!(
        "{}",
        if status.is_empty() {
            "Login Succeeded"
        } else {
            &status
        }
    );
    Ok(0)
}

/// The keys `logout` removes: the server as given, its hostname, and the
/// legacy `http(s)://` forms.
fn logout_keys(server: Option<&str>) -> (String, Vec<String>) {
    match server.filter(|s| !s.is_empty()) {
        None => (INDEX_SERVER.to_string(), vec![INDEX_SERVER.to_string()]),
        Some(s) => {
            let host = auth::convert_to_hostname(s);
            let keys = vec![
                s.to_string(),
                host.clone(),
                format!("http://{host}"),
                format!("https://{host}"),
            ];
            (host, keys)
        }
    }
}

pub fn logout(a: LogoutArgs) -> CmdResult {
    let (host, keys) = logout_keys(a.server.as_deref());
    println!("Removing login credentials for {host}");
    let mut cfg = ConfigFile::load();
    let errors: Vec<(String, String)> = keys
        .iter()
        .filter_map(|k| cfg.erase(k).err().map(|e| (k.clone(), e)))
        .collect();
    if errors.len() == keys.len() {
        eprintln!("WARNING: could not erase credentials:");
        for (k, e) in errors {
            eprintln!("{k}: {e}");
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(user: Option<&str>, pass: Option<&str>, stdin: bool) -> LoginArgs {
        LoginArgs {
            username: user.map(str::to_string),
            password: pass.map(str::to_string),
            password_stdin: stdin,
            server: None,
        }
    }

    #[test]
    fn login_flag_checks() {
        let msg = |a: LoginArgs| verify_flags(&a).unwrap_err().msg;
        assert_eq!(
            msg(args(Some("u"), Some("p"), true)),
            "conflicting options: cannot specify both --password and --password-stdin"
        );
        assert_eq!(
            msg(args(None, None, true)),
            "the --password-stdin option requires --username to be set"
        );
        assert_eq!(msg(args(Some(""), None, false)), "username is empty");
        assert_eq!(msg(args(Some("u"), Some(""), false)), "password is empty");
        assert!(verify_flags(&args(Some("u"), None, true)).is_ok());
        assert_eq!(trim_password("secret\r\n"), "secret");
        assert_eq!(trim_password("a b \n\n"), "a b \n");
    }

    #[test]
    fn logout_key_forms() {
        assert_eq!(
            logout_keys(None),
            (INDEX_SERVER.into(), vec![INDEX_SERVER.into()])
        );
        let (host, keys) = logout_keys(Some("https://127.0.0.1:5000/v2/"));
        assert_eq!(host, "127.0.0.1:5000");
        assert_eq!(
            keys,
            [
                "https://127.0.0.1:5000/v2/",
                "127.0.0.1:5000",
                "http://127.0.0.1:5000",
                "https://127.0.0.1:5000"
            ]
        );
    }
}
