//! A stdio server's process: spawning, stderr capture and graceful stop.
//!
//! The program is looked up on the `PATH` the child gets (the server's own `env.PATH`, else
//! the gateway's, which in the desktop app starts with the login shell's —
//! [`crate::upstream::login_env`]); on Windows `PATHEXT` applies, so `npx` finds `npx.cmd`.
//! The child runs in its own process group (Unix), so `npx`/`uvx` wrappers and their children
//! are stopped together, with only the environment [`crate::upstream::child_env`] allows. On Linux it
//! is killed when the gateway dies, however it dies (`PR_SET_PDEATHSIG`); its own children
//! then see their stdin close, which ends a well-behaved MCP server. Its stderr is read line by line (each line bounded) into the server's
//! [`LogBuffer`] and the `tracing` log. Stop follows ARCHITECTURE.md rule 6: close stdin → SIGTERM to
//! the group → SIGKILL to the group, each after a grace period.

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio_util::codec::{FramedRead, LinesCodec, LinesCodecError};

use crate::upstream::logs::{LogBuffer, MAX_LINE_BYTES};

/// How long a child gets after stdin closes, and again after SIGTERM, before the next step.
pub const STOP_GRACE: Duration = Duration::from_secs(2);

/// Why a child could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// The program is not on the `PATH` the child gets (or not at the given path).
    #[error("command \"{command}\" was not found{searched}; install it, put its full path in \"command\", or give the server \"env\": {{\"PATH\": \"<the directory that holds it>:…\"}}")]
    NotFound {
        /// The program as configured.
        command: String,
        /// Where it was looked for, e.g. ` on PATH /usr/bin:/bin (the PATH of your login shell
        /// /bin/zsh)`; empty for a path that names the program itself.
        searched: String,
    },
    /// Any other OS error starting the program.
    #[error("could not start \"{command}\": {source}")]
    Io {
        /// The program.
        command: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}

/// What to spawn.
#[derive(Debug, Clone)]
pub struct StdioSpec {
    /// Program (looked up on `PATH`).
    pub command: String,
    /// Arguments.
    pub args: Vec<String>,
    /// Extra environment variables (values already resolved; never logged).
    pub env: Vec<(String, String)>,
    /// Working directory.
    pub cwd: Option<PathBuf>,
    /// Names of the gateway's variables the child inherits beyond the default set.
    pub inherit_env: Vec<String>,
}

/// A started child: the process handle plus the pipes rmcp speaks MCP over.
pub struct Spawned {
    /// The process, for waiting and stopping.
    pub process: ChildProcess,
    /// The child's stdout (MCP messages from the server).
    pub stdout: ChildStdout,
    /// The child's stdin (MCP messages to the server). Dropping it closes the server's input.
    pub stdin: ChildStdin,
}

/// A running child process (and, on Unix, its process group).
///
/// Dropping it without [`ChildProcess::stop`] kills the whole group with SIGKILL, so no
/// server outlives the gateway.
pub struct ChildProcess {
    child: Child,
    pgid: Option<i32>,
    exit: Option<ExitStatus>,
}

/// Spawns `spec` with piped stdio in a new process group; stderr lines go to `logs` and to
/// `tracing` (target `loopgate::server`, field `server = name`).
///
/// Errors: [`SpawnError::NotFound`] when the program does not exist, [`SpawnError::Io`] otherwise.
pub fn spawn(name: &str, spec: &StdioSpec, logs: Arc<LogBuffer>) -> Result<Spawned, SpawnError> {
    let env = crate::upstream::child_env::child_env(
        crate::upstream::login_env::environment(std::env::vars_os()),
        &spec.inherit_env,
        &spec.env,
    );
    let program = find_program(&spec.command, env.get(std::ffi::OsStr::new("PATH")), spec)?;
    let mut cmd = Command::new(&program);
    // The program sees the name it was configured with, not the path it was found at.
    #[cfg(unix)]
    cmd.arg0(&spec.command);
    cmd.args(&spec.args)
        .env_clear()
        .envs(env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(false);
    if let Some(cwd) = &spec.cwd {
        cmd.current_dir(cwd);
    }
    #[cfg(unix)]
    cmd.process_group(0);
    #[cfg(target_os = "linux")]
    die_with_parent(&mut cmd);
    #[cfg(windows)]
    cmd.creation_flags(0x0800_0000); // CREATE_NO_WINDOW
    let mut child = cmd.spawn().map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            SpawnError::NotFound {
                command: spec.command.clone(),
                searched: String::new(),
            }
        } else {
            SpawnError::Io {
                command: spec.command.clone(),
                source,
            }
        }
    })?;
    #[cfg(windows)]
    kill_with_gateway(&child);
    let pgid = child.id().map(|id| id as i32);
    let stdout = child.stdout.take().expect("stdout piped");
    let stdin = child.stdin.take().expect("stdin piped");
    let stderr = child.stderr.take().expect("stderr piped");
    let server = name.to_string();
    tokio::spawn(async move {
        let mut lines = FramedRead::new(stderr, LinesCodec::new_with_max_length(MAX_LINE_BYTES));
        while let Some(item) = lines.next().await {
            match item {
                Ok(line) => {
                    tracing::info!(target: "loopgate::server", server = %server, "{line}");
                    logs.push("stderr", &line);
                }
                Err(LinesCodecError::MaxLineLengthExceeded) => {
                    logs.push("gateway", "(a stderr line longer than 4 KiB was cut)")
                }
                Err(LinesCodecError::Io(_)) => break,
            }
        }
    });
    Ok(Spawned {
        process: ChildProcess {
            child,
            pgid,
            exit: None,
        },
        stdout,
        stdin,
    })
}

/// The program `command` names: a path (absolute, or relative to the server's `cwd`) as it
/// is, a bare name looked up on `path` (the child's `PATH`; with `PATHEXT` on Windows).
///
/// Errors: [`SpawnError::NotFound`] saying which `PATH` was searched and where it came from
/// (ARCHITECTURE.md rule 18).
fn find_program(
    command: &str,
    path: Option<&std::ffi::OsString>,
    spec: &StdioSpec,
) -> Result<PathBuf, SpawnError> {
    let cwd = match &spec.cwd {
        Some(dir) => dir.clone(),
        None => std::env::current_dir().unwrap_or_default(),
    };
    let names_a_path = command.contains('/') || (cfg!(windows) && command.contains('\\'));
    which::which_in(command, path, &cwd).map_err(|_| SpawnError::NotFound {
        command: command.to_string(),
        searched: if names_a_path {
            String::new()
        } else {
            format!(
                " on PATH {} ({})",
                path.map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "(not set)".into()),
                crate::upstream::login_env::path_origin()
            )
        },
    })
}

/// Makes the child receive SIGKILL when the thread that spawned it — a runtime worker of the
/// gateway, which lives as long as the gateway — ends, so a killed gateway leaves no server
/// behind.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn die_with_parent(cmd: &mut Command) {
    // SAFETY: the closure runs in the forked child before exec and only calls prctl(2), which
    // is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                .map_err(std::io::Error::from)
        });
    }
}

/// Puts the child into the gateway's job object, which kills every process in it (the child
/// and whatever it started) when the gateway's handle closes — however the gateway ends.
/// Best effort: a failure is logged.
#[cfg(windows)]
fn kill_with_gateway(child: &Child) {
    use std::sync::OnceLock;
    static JOB: OnceLock<Option<win32job::Job>> = OnceLock::new();
    let job = JOB.get_or_init(|| {
        let mut info = win32job::ExtendedLimitInfo::new();
        info.limit_kill_on_job_close();
        win32job::Job::create_with_limit_info(&info)
            .map_err(|e| tracing::warn!("no job object for server processes: {e}"))
            .ok()
    });
    if let (Some(job), Some(handle)) = (job, child.raw_handle()) {
        if let Err(e) = job.assign_process(handle as isize) {
            tracing::warn!("could not put a server process into the job object: {e}");
        }
    }
}

impl ChildProcess {
    /// The child's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Waits until the child exits and returns a description such as `"exited with code 1"`
    /// or `"killed by signal 9"`. Cancel-safe; returns at once once the child has exited.
    pub async fn wait(&mut self) -> String {
        if self.exit.is_none() {
            self.exit = self.child.wait().await.ok();
        }
        describe_exit(self.exit)
    }

    /// Stops the child gracefully. The caller closes stdin first (by dropping the transport);
    /// then this waits [`STOP_GRACE`], sends SIGTERM to the group, waits again and sends SIGKILL.
    /// Leftover group members are signalled even when the direct child exited on its own.
    /// Returns the exit description.
    pub async fn stop(mut self) -> String {
        let done = tokio::time::timeout(STOP_GRACE, self.child.wait()).await;
        if let Ok(Ok(status)) = done {
            self.exit = Some(status);
            self.signal_group(Signal::Term);
            return describe_exit(self.exit);
        }
        self.signal_group(Signal::Term);
        if let Ok(Ok(status)) = tokio::time::timeout(STOP_GRACE, self.child.wait()).await {
            self.exit = Some(status);
            self.signal_group(Signal::Kill);
            return describe_exit(self.exit);
        }
        self.signal_group(Signal::Kill);
        let _ = self.child.start_kill();
        self.exit = self.child.wait().await.ok();
        describe_exit(self.exit)
    }

    fn signal_group(&self, signal: Signal) {
        #[cfg(unix)]
        if let Some(pgid) = self.pgid {
            use nix::sys::signal::{killpg, Signal as S};
            let sig = match signal {
                Signal::Term => S::SIGTERM,
                Signal::Kill => S::SIGKILL,
            };
            let _ = killpg(nix::unistd::Pid::from_raw(pgid), sig);
        }
        #[cfg(not(unix))]
        {
            let _ = signal;
        }
    }
}

#[derive(Clone, Copy)]
enum Signal {
    Term,
    Kill,
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        self.signal_group(Signal::Kill);
        if self.exit.is_none() {
            let _ = self.child.start_kill();
        }
    }
}

fn describe_exit(status: Option<ExitStatus>) -> String {
    let Some(status) = status else {
        return "exited (status unknown)".into();
    };
    if let Some(code) = status.code() {
        return format!("exited with code {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return format!("killed by signal {sig}");
        }
    }
    "exited".into()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn sh(script: &str) -> StdioSpec {
        StdioSpec {
            command: "sh".into(),
            args: vec!["-c".into(), script.into()],
            env: vec![("GREETING".into(), "hi".into())],
            cwd: None,
            inherit_env: vec![],
        }
    }

    #[tokio::test]
    async fn captures_stderr_and_reports_exit_code() {
        let logs = Arc::new(LogBuffer::default());
        let mut s = spawn(
            "t",
            &sh("echo \"$GREETING there\" >&2; exit 3"),
            logs.clone(),
        )
        .unwrap();
        assert_eq!(s.process.wait().await, "exited with code 3");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(logs.tail(5).last().unwrap().line, "hi there");
    }

    #[tokio::test]
    async fn stop_kills_the_whole_group_even_when_sigterm_is_ignored() {
        let logs = Arc::new(LogBuffer::default());
        // A child that ignores SIGTERM and leaves a grandchild behind.
        let s = spawn(
            "t",
            &sh("trap '' TERM; sleep 60 & echo $! >&2; while true; do sleep 1; done"),
            logs.clone(),
        )
        .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let grandchild: i32 = logs.tail(1)[0].line.trim().parse().unwrap();
        drop(s.stdin);
        let desc = s.process.stop().await;
        assert_eq!(desc, "killed by signal 9");
        tokio::time::sleep(Duration::from_millis(200)).await;
        // Dead means gone or a zombie waiting for init to reap it.
        let stat = std::fs::read_to_string(format!("/proc/{grandchild}/stat")).unwrap_or_default();
        let state = stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.chars().next());
        assert!(
            matches!(state, None | Some('Z') | Some('X')),
            "grandchild {grandchild} survived: {stat}"
        );
    }

    #[tokio::test]
    async fn missing_command_says_which_path_was_searched_and_how_to_fix_it() {
        let spec = StdioSpec {
            command: "definitely-not-a-command-xyz".into(),
            args: vec![],
            env: vec![("PATH".into(), "/nowhere/bin:/usr/bin".into())],
            cwd: None,
            inherit_env: vec![],
        };
        let err = spawn("t", &spec, Arc::new(LogBuffer::default()))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("\"definitely-not-a-command-xyz\" was not found on PATH /nowhere/bin:/usr/bin (Loopgate's own PATH)"),
            "{err}"
        );
        assert!(
            err.contains("full path in \"command\"") && err.contains("\"env\": {\"PATH\""),
            "{err}"
        );
        let spec = StdioSpec {
            command: "/nowhere/bin/server".into(),
            ..spec
        };
        let err = spawn("t", &spec, Arc::new(LogBuffer::default()))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.starts_with("command \"/nowhere/bin/server\" was not found;"),
            "{err}"
        );
    }

    /// The lookup uses the PATH the child gets (its own `env.PATH` here), not the gateway's.
    #[tokio::test]
    async fn the_program_is_found_on_the_childs_path() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("my-server");
        std::fs::write(&bin, "#!/bin/sh\necho \"argv0=$0\" >&2\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        let logs = Arc::new(LogBuffer::default());
        let spec = StdioSpec {
            command: "my-server".into(),
            args: vec![],
            env: vec![(
                "PATH".into(),
                format!("{}:/usr/bin:/bin", dir.path().display()),
            )],
            cwd: None,
            inherit_env: vec![],
        };
        let mut s = spawn("t", &spec, logs.clone()).unwrap();
        assert_eq!(s.process.wait().await, "exited with code 0");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(logs.tail(1)[0].line, format!("argv0={}", bin.display()));
    }
}
