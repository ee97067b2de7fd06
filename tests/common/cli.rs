//! The real `loopgate` binary as a user runs it: one-shot commands, a background `serve`, and
//! polling `loopgate servers --json`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Runs `loopgate --config <config> <args>` with `env` added, feeding `stdin` when given.
pub fn lg(env: &[(String, String)], config: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_loopgate"));
    cmd.arg("--config")
        .arg(config)
        .args(args)
        .envs(env.iter().cloned())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

/// stdout followed by stderr.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A background `loopgate serve`, stopped gracefully (SIGTERM, then waited for) when dropped.
pub struct Serve {
    child: Child,
    log: Option<PathBuf>,
}

impl Serve {
    /// Starts `loopgate --config <config> serve` with `env` added, its output (at trace level)
    /// going to the file `log`.
    pub fn start(env: &[(String, String)], config: &Path, log: PathBuf) -> Serve {
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_loopgate"))
            .arg("--config")
            .arg(config)
            .arg("serve")
            .envs(env.iter().cloned())
            .env("RUST_LOG", "trace")
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap();
        Serve {
            child,
            log: Some(log),
        }
    }

    /// Takes charge of a `serve` process started otherwise.
    pub fn adopt(child: Child) -> Serve {
        Serve { child, log: None }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for it to exit (after a signal the test sent).
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child.wait().unwrap()
    }

    /// Stops it (SIGTERM) and waits for it to exit.
    pub fn stop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = self.child.wait();
    }

    /// What it wrote to its log so far (empty for an adopted process).
    pub fn output(&self) -> String {
        self.log
            .as_ref()
            .and_then(|l| std::fs::read_to_string(l).ok())
            .unwrap_or_default()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Polls `loopgate servers --json` until `done` holds; panics naming `what` after 40 s.
pub fn wait_servers(
    env: &[(String, String)],
    config: &Path,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let out = lg(env, config, &["servers", "--json"], None);
        if out.status.success() {
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            if done(&v) {
                return v;
            }
            assert!(Instant::now() < deadline, "{what}: never reached: {v:#}");
        } else {
            assert!(
                Instant::now() < deadline,
                "{what}: gateway not answering: {}",
                text(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Server `name` of a `servers --json` answer (panics when absent).
pub fn server<'a>(servers: &'a Value, name: &str) -> &'a Value {
    servers
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no server {name}"))
}
