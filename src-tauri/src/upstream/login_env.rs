//! The environment of the user's login shell, for a gateway started from a desktop session
//! (ARCHITECTURE.md rule 18).
//!
//! An app started from the applications menu or at login inherits the session's environment,
//! not a terminal's: on macOS `PATH` is `/usr/bin:/bin:/usr/sbin:/sbin`, on Linux the system
//! directories, and what the user's shell start-up files add — nvm's node, Homebrew,
//! `~/.local/bin`, cargo, pyenv — is missing, so `npx` or `uvx` is "not found". The desktop
//! app therefore asks the user's login shell once at start ([`adopt_login_shell`]): it runs
//! `$SHELL -i -l -c '<print the environment>'` (interactive and login, so both the profile and
//! the rc files run, as in a new terminal) with a time limit, the way editors such as VS Code
//! resolve it. The shell sees `LOOPGATE_RESOLVING_ENVIRONMENT=1`, so a slow start-up file can
//! skip work.
//!
//! [`environment`] is what stdio servers start from ([`super::child_env`] then picks what
//! each may see): the gateway's own variables, with the login shell's `PATH` first (then the
//! gateway's own entries it lacks) and the login shell's other variables where the gateway
//! has none. Nothing changes the gateway's own process environment. `loopgate serve`, started
//! from a terminal, already has the terminal's environment and does not ask.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// How long the login shell may take to print its environment.
pub const SHELL_TIMEOUT: Duration = Duration::from_secs(10);

/// Set for the login shell while Loopgate reads its environment.
pub const RESOLVING_VAR: &str = "LOOPGATE_RESOLVING_ENVIRONMENT";

const BEGIN: &[u8] = b"__LOOPGATE_ENV_BEGIN__";
const END: &[u8] = b"__LOOPGATE_ENV_END__";

/// What the shell runs: the environment between two markers (start-up files may print
/// anything around them), NUL-separated where `env` supports `-0`.
const SCRIPT: &str = "printf '\\n%s\\n' __LOOPGATE_ENV_BEGIN__; /usr/bin/env -0 2>/dev/null || /usr/bin/env; printf '\\n%s\\n' __LOOPGATE_ENV_END__";

/// Variables of the shell's own that are never taken over.
const SHELL_OWN: &[&str] = &["_", "SHLVL", "PWD", "OLDPWD", RESOLVING_VAR];

/// The variables of a login shell, and which shell they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginEnv {
    /// The shell that was asked.
    pub shell: PathBuf,
    /// Its environment (shell-internal variables left out).
    pub vars: BTreeMap<OsString, OsString>,
}

/// Why the login shell's environment could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The shell could not be started.
    #[error("could not start {shell}: {source}")]
    Spawn {
        /// The shell.
        shell: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// It did not print its environment within the time limit (a start-up file waiting for
    /// input, or starting something that never returns).
    #[error("{shell} did not print its environment within {} s", .timeout.as_secs())]
    Timeout {
        /// The shell.
        shell: String,
        /// The limit.
        timeout: Duration,
    },
    /// It exited without printing its environment between the markers.
    #[error("{shell} exited without printing its environment")]
    NoOutput {
        /// The shell.
        shell: String,
    },
}

/// What [`environment`] adds to the gateway's own variables, set once at start.
static ADOPTED: OnceLock<Adopted> = OnceLock::new();

#[derive(Debug)]
enum Adopted {
    Shell(LoginEnv),
    Failed { shell: PathBuf, reason: String },
}

/// The user's login shell: `$SHELL`, else the user's entry in the password database.
/// `None` on Windows (programs there get the user's `PATH` from the registry) or when neither
/// names one.
pub fn user_shell() -> Option<PathBuf> {
    #[cfg(unix)]
    {
        std::env::var_os("SHELL")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                nix::unistd::User::from_uid(nix::unistd::getuid())
                    .ok()
                    .flatten()
                    .map(|u| u.shell)
            })
    }
    #[cfg(not(unix))]
    None
}

/// The arguments that make `shell` a login shell running [`SCRIPT`]: `-i -l -c` for the
/// sh family and fish; `None` for shells whose syntax or flags differ (csh, nushell, …).
fn shell_args(shell: &Path) -> Option<[&'static str; 4]> {
    let name = shell.file_name()?.to_str()?;
    matches!(
        name,
        "sh" | "bash" | "zsh" | "dash" | "ksh" | "mksh" | "oksh" | "yash" | "fish"
    )
    .then_some(["-i", "-l", "-c", SCRIPT])
}

/// Runs `shell` as an interactive login shell with `extra_env` added to the gateway's own
/// environment and returns the environment it prints. The shell runs in its own process
/// group with no terminal and stdin closed; after `timeout` the group is killed. A shell
/// Loopgate cannot drive (csh, nushell, …) is replaced by `/bin/sh -l`, which reads
/// `~/.profile`.
///
/// Errors: [`CaptureError`] when the shell cannot start, is too slow, or prints nothing usable.
#[cfg(unix)]
pub fn capture(
    shell: &Path,
    extra_env: &[(&str, &OsStr)],
    timeout: Duration,
) -> Result<LoginEnv, CaptureError> {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};

    let login_args = shell_args(shell);
    let sh_args = ["-l", "-c", SCRIPT];
    let (program, args): (&Path, &[&str]) = match &login_args {
        Some(a) => (shell, a),
        None => (Path::new("/bin/sh"), &sh_args),
    };
    let shown = program.display().to_string();
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env(RESOLVING_VAR, "1")
        .envs(extra_env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0);
    let mut child = cmd.spawn().map_err(|source| CaptureError::Spawn {
        shell: shown.clone(),
        source,
    })?;
    let group = nix::unistd::Pid::from_raw(child.id() as i32);
    let mut stdout = child.stdout.take().expect("stdout piped");
    // Read until the end marker (a daemon a start-up file left running may keep the pipe open).
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            match stdout.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    out.extend_from_slice(&chunk[..n]);
                    if parse(&out).is_some() {
                        break;
                    }
                }
            }
        }
        let _ = tx.send(out);
    });
    let out = rx.recv_timeout(timeout);
    // Whatever the start-up files left behind in the group goes; the shell itself is reaped.
    let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
    let _ = child.wait();
    let out = out.map_err(|_| CaptureError::Timeout {
        shell: shown.clone(),
        timeout,
    })?;
    let vars = parse(&out).ok_or(CaptureError::NoOutput { shell: shown })?;
    Ok(LoginEnv {
        shell: program.to_path_buf(),
        vars,
    })
}

/// The variables printed between the markers of `out`: NUL-separated (`env -0`) or, when the
/// shell's `env` has no `-0`, one per line (a line that does not start a variable continues
/// the value before it). `None` until the end marker is there.
pub fn parse(out: &[u8]) -> Option<BTreeMap<OsString, OsString>> {
    let begin = find(out, BEGIN)? + BEGIN.len();
    let body = out[begin..].strip_prefix(b"\n")?;
    let end = find(body, END)?;
    let body = body[..end].strip_suffix(b"\n")?;
    let mut vars: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    if body.contains(&0) {
        for entry in body.split(|b| *b == 0).filter(|e| !e.is_empty()) {
            if let Some((k, v)) = split_var(entry) {
                vars.push((k.to_vec(), v.to_vec()));
            }
        }
    } else {
        // `env` ends its last line with a newline too.
        let body = body.strip_suffix(b"\n").unwrap_or(body);
        for line in body.split(|b| *b == b'\n') {
            match split_var(line) {
                Some((k, v)) => vars.push((k.to_vec(), v.to_vec())),
                None => {
                    if let Some((_, v)) = vars.last_mut() {
                        v.push(b'\n');
                        v.extend_from_slice(line);
                    }
                }
            }
        }
    }
    Some(
        vars.into_iter()
            .filter(|(k, _)| !SHELL_OWN.iter().any(|o| o.as_bytes() == k.as_slice()))
            .map(|(k, v)| (os(k), os(v)))
            .collect(),
    )
}

/// `NAME=value` with a valid variable name (`[A-Za-z_][A-Za-z0-9_]*`).
fn split_var(entry: &[u8]) -> Option<(&[u8], &[u8])> {
    let eq = entry.iter().position(|b| *b == b'=')?;
    let (name, value) = (&entry[..eq], &entry[eq + 1..]);
    let valid = name
        .first()
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
        && name.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_');
    valid.then_some((name, value))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(unix)]
fn os(bytes: Vec<u8>) -> OsString {
    use std::os::unix::ffi::OsStringExt;
    OsString::from_vec(bytes)
}

#[cfg(not(unix))]
fn os(bytes: Vec<u8>) -> OsString {
    String::from_utf8_lossy(&bytes).into_owned().into()
}

/// The gateway's variables `process` with `login`'s merged in: `PATH` is the login shell's
/// entries followed by those of the gateway's own that it lacks; any other variable of the
/// login shell is added where the gateway has none.
pub fn merge(
    process: impl IntoIterator<Item = (OsString, OsString)>,
    login: &BTreeMap<OsString, OsString>,
) -> BTreeMap<OsString, OsString> {
    let mut out: BTreeMap<OsString, OsString> = process.into_iter().collect();
    for (k, v) in login {
        if k == "PATH" {
            let mut dirs: Vec<PathBuf> = std::env::split_paths(v).collect();
            if let Some(own) = out.get(k) {
                for dir in std::env::split_paths(own) {
                    if !dirs.contains(&dir) {
                        dirs.push(dir);
                    }
                }
            }
            if let Ok(joined) = std::env::join_paths(dirs) {
                out.insert(k.clone(), joined);
            }
        } else {
            out.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    out
}

/// Reads the user's login shell's environment once ([`user_shell`], [`capture`]) so that
/// stdio servers started afterwards find what the user's terminal finds. Returns a line for
/// the log. Does nothing on Windows or when it already ran.
pub fn adopt_login_shell() -> String {
    let Some(shell) = user_shell() else {
        return "no login shell to ask; servers start with the app's own PATH".into();
    };
    #[cfg(unix)]
    let adopted = match capture(&shell, &[], SHELL_TIMEOUT) {
        Ok(env) => Adopted::Shell(env),
        Err(e) => Adopted::Failed {
            shell,
            reason: e.to_string(),
        },
    };
    #[cfg(not(unix))]
    let adopted = Adopted::Failed {
        shell,
        reason: "not supported on this platform".into(),
    };
    let line = match &adopted {
        Adopted::Shell(env) => format!(
            "servers start with the PATH of your login shell {}",
            env.shell.display()
        ),
        Adopted::Failed { reason, .. } => {
            format!("servers start with the app's own PATH: {reason}")
        }
    };
    let _ = ADOPTED.set(adopted);
    line
}

/// Installs `env` as the login environment (what [`adopt_login_shell`] does after reading it);
/// `false` when one was installed already.
pub fn install(env: LoginEnv) -> bool {
    ADOPTED.set(Adopted::Shell(env)).is_ok()
}

/// The variables a stdio server starts from: `process` (the gateway's own, e.g.
/// `std::env::vars_os()`) with the login shell's merged in ([`merge`]) once it was read.
pub fn environment(
    process: impl IntoIterator<Item = (OsString, OsString)>,
) -> BTreeMap<OsString, OsString> {
    match ADOPTED.get() {
        Some(Adopted::Shell(login)) => merge(process, &login.vars),
        _ => process.into_iter().collect(),
    }
}

/// Where the `PATH` of [`environment`] comes from, for error messages: "the PATH of your login
/// shell /bin/zsh", or the app's own and why.
pub fn path_origin() -> String {
    match ADOPTED.get() {
        Some(Adopted::Shell(login)) => format!(
            "the PATH of your login shell {} and of Loopgate",
            login.shell.display()
        ),
        Some(Adopted::Failed { shell, reason }) => format!(
            "Loopgate's own PATH; the PATH of your login shell {} could not be read: {reason}",
            shell.display()
        ),
        None => "Loopgate's own PATH".into(),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<OsString, OsString> {
        pairs
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect()
    }

    #[test]
    fn parses_nul_and_line_output_around_noise() {
        let out = b"motd: welcome\n\n__LOOPGATE_ENV_BEGIN__\nPATH=/a:/b\0MULTI=x\ny=1\0SHLVL=2\0BASH_FUNC_f%%=() { :; }\0\n__LOOPGATE_ENV_END__\nbye\n";
        let got = parse(out).unwrap();
        assert_eq!(got, vars(&[("PATH", "/a:/b"), ("MULTI", "x\ny=1")]));
        let out = b"\n__LOOPGATE_ENV_BEGIN__\nPATH=/a\nMULTI=x\nstill x\nHOME=/h\n\n__LOOPGATE_ENV_END__\n";
        let got = parse(out).unwrap();
        assert_eq!(
            got,
            vars(&[("PATH", "/a"), ("MULTI", "x\nstill x"), ("HOME", "/h")])
        );
        assert_eq!(parse(b"\n__LOOPGATE_ENV_BEGIN__\nPATH=/a\0"), None);
    }

    #[test]
    fn login_path_comes_first_and_own_variables_stay() {
        let process = vars(&[("PATH", "/usr/bin:/bin:/opt/own"), ("HOME", "/h")]);
        let login = vars(&[
            ("PATH", "/home/u/.local/bin:/usr/bin:/bin"),
            ("HOME", "/elsewhere"),
            ("NVM_DIR", "/home/u/.nvm"),
        ]);
        let merged = merge(process, &login);
        assert_eq!(
            merged[OsStr::new("PATH")],
            "/home/u/.local/bin:/usr/bin:/bin:/opt/own"
        );
        assert_eq!(merged[OsStr::new("HOME")], "/h");
        assert_eq!(merged[OsStr::new("NVM_DIR")], "/home/u/.nvm");
    }

    /// A real `sh` as a login shell, with a temporary home whose `.profile` adds a directory
    /// to PATH (as Debian's default `.profile` adds `~/.local/bin`).
    #[test]
    fn a_login_shell_profile_adds_to_path() {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(
            home.path().join(".profile"),
            "echo noise from .profile\nPATH=\"$HOME/.local/bin:$PATH\"\nexport FROM_PROFILE=yes\n",
        )
        .unwrap();
        let env = capture(
            Path::new("/bin/sh"),
            &[
                ("HOME", home.path().as_os_str()),
                ("ENV", OsStr::new("/dev/null")),
            ],
            SHELL_TIMEOUT,
        )
        .unwrap();
        let path = env.vars[OsStr::new("PATH")].to_str().unwrap().to_string();
        let local = home.path().join(".local/bin");
        assert!(path.starts_with(local.to_str().unwrap()), "{path}");
        assert_eq!(env.vars[OsStr::new("FROM_PROFILE")], "yes");
        assert!(!env.vars.contains_key(OsStr::new(RESOLVING_VAR)));
    }

    /// A "shell" whose start-up never finishes is killed, with its whole group, in time.
    #[test]
    fn a_hanging_shell_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("sh");
        std::fs::write(&fake, "#!/bin/sh\necho started\nsleep 30\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let started = std::time::Instant::now();
        let err = capture(&fake, &[], Duration::from_millis(500)).unwrap_err();
        assert!(matches!(err, CaptureError::Timeout { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        let err = capture(&dir.path().join("missing/sh"), &[], SHELL_TIMEOUT).unwrap_err();
        assert!(matches!(err, CaptureError::Spawn { .. }), "{err}");
    }

    #[test]
    fn unknown_shells_fall_back_to_sh() {
        assert!(shell_args(Path::new("/usr/bin/zsh")).is_some());
        assert!(shell_args(Path::new("/usr/local/bin/fish")).is_some());
        assert!(shell_args(Path::new("/bin/tcsh")).is_none());
        assert!(shell_args(Path::new("/usr/bin/nu")).is_none());
    }
}
