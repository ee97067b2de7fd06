//! A private, real Secret Service for tests: its own D-Bus session bus with an unlocked
//! `gnome-keyring-daemon` (Debian packages `dbus` and `gnome-keyring`). Processes started with
//! [`PrivateKeyring::env`] use it; the developer's own keychain is never touched. Everything
//! stops when the value is dropped (the keyring daemon exits with its bus).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct PrivateKeyring {
    bus: Child,
    pub address: String,
    pub home: tempfile::TempDir,
}

impl Drop for PrivateKeyring {
    fn drop(&mut self) {
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}

impl PrivateKeyring {
    /// Starts the bus and an unlocked keyring; panics with what to install when the programs
    /// are missing.
    pub fn start() -> PrivateKeyring {
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .expect("dbus-daemon not found: apt-get install dbus gnome-keyring (tests/run.sh does this)");
        let mut line = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line.trim().to_string();
        let home = tempfile::tempdir().unwrap();
        let kr = PrivateKeyring { bus, address, home };
        let status = Command::new("sh")
            .args(["-c", "printf pass | gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null"])
            .envs(kr.env())
            .status()
            .expect("gnome-keyring-daemon not found: apt-get install gnome-keyring");
        assert!(status.success());
        // Wait until the Secret Service name is on the bus.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = Command::new("dbus-send")
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ])
                .envs(kr.env())
                .output()
                .unwrap();
            if String::from_utf8_lossy(&out.stdout).contains("boolean true") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the Secret Service did not appear on the private bus"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        kr
    }

    /// Locks the login keyring (as a screen lock or an idle timeout does): items can then not
    /// be read until it is unlocked.
    pub fn lock(&self) {
        let out = Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.secrets",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.Lock",
                "array:objpath:/org/freedesktop/secrets/collection/login",
            ])
            .envs(self.env())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Unlocks it again, as the user typing the password would (`tests/peers/keyring-unlock.py`:
    /// gnome-keyring's own password interface, no prompt); the daemon and its sessions stay.
    pub fn unlock(&self) {
        let out = Command::new(crate::common::python())
            .arg(crate::common::peers_dir().join("keyring-unlock.py"))
            .arg("pass")
            .envs(self.env())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Environment that points a process at this keyring.
    pub fn env(&self) -> Vec<(String, String)> {
        let home: PathBuf = self.home.path().to_path_buf();
        vec![
            ("DBUS_SESSION_BUS_ADDRESS".into(), self.address.clone()),
            ("HOME".into(), home.display().to_string()),
            (
                "XDG_DATA_HOME".into(),
                home.join(".local/share").display().to_string(),
            ),
            ("XDG_RUNTIME_DIR".into(), home.display().to_string()),
        ]
    }
}
