//! "Start at login" on Linux: an XDG autostart entry (`$XDG_CONFIG_HOME/autostart/Loopgate.desktop`)
//! that starts the installed app in the tray ([`HIDDEN_ARG`]), written and removed here without
//! any Tauri type. (macOS and Windows use tauri-plugin-autostart: a launch agent for the app
//! bundle, a `Run` registry value for the installed `.exe`.)
//!
//! The entry starts the *installed* program: the AppImage when running from one, else this
//! program — unless it is a cargo build output (`target/debug/loopgate`) and an installed
//! copy exists (`/usr/bin/loopgate`, what the `.deb` and `.rpm` install), which is then
//! started instead, so trying a build never leaves the login starting a build directory.
//! The file name is the one tauri-plugin-autostart used, so an entry an earlier version
//! wrote is seen (and replaced when switched on again).

use std::path::{Path, PathBuf};

/// The argument the entry passes: start in the tray without opening the dashboard window.
pub const HIDDEN_ARG: &str = "--hidden";

/// The entry's file name.
pub const FILE_NAME: &str = "Loopgate.desktop";

/// Where the `.deb` and `.rpm` install the program.
pub const INSTALLED: &str = "/usr/bin/loopgate";

/// Where the entry lives: `$XDG_CONFIG_HOME/autostart/`, else `~/.config/autostart/`.
pub fn entry_path(xdg_config_home: Option<&Path>, home: &Path) -> PathBuf {
    xdg_config_home
        .filter(|p| p.is_absolute())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| home.join(".config"))
        .join("autostart")
        .join(FILE_NAME)
}

/// The entry's path for this user (from `XDG_CONFIG_HOME` and `HOME`); `None` without a home.
pub fn user_entry_path() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from);
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    Some(entry_path(xdg.as_deref(), &home))
}

/// Whether `exe` is a cargo build output: in `<target>/<profile>/`, where `<target>` holds the
/// `CACHEDIR.TAG` cargo writes.
pub fn is_build_output(exe: &Path) -> bool {
    exe.parent()
        .and_then(Path::parent)
        .is_some_and(|target| target.join("CACHEDIR.TAG").is_file())
}

/// The program the entry starts: `appimage` (the `APPIMAGE` variable of a running AppImage),
/// else `exe` (this program), unless `exe` is a build output and `installed` exists.
pub fn launch_target(exe: &Path, appimage: Option<&Path>, installed: &Path) -> PathBuf {
    if let Some(image) = appimage.filter(|p| p.is_absolute()) {
        return image.to_path_buf();
    }
    if is_build_output(exe) && installed.is_file() {
        return installed.to_path_buf();
    }
    exe.to_path_buf()
}

/// `arg` quoted for a desktop entry's `Exec` key (Desktop Entry Specification, "The Exec
/// key"): as it is when it needs no quoting, else in double quotes with `"`, `` ` ``, `$`
/// and `\` escaped; then every `\` doubled again and `%` doubled, as the key's string
/// syntax and field codes require.
fn exec_arg(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | '_' | '+' | ',' | ':' | '@')
        });
    let quoted = if plain {
        arg.to_string()
    } else {
        let mut q = String::from("\"");
        for c in arg.chars() {
            if matches!(c, '"' | '`' | '$' | '\\') {
                q.push('\\');
            }
            q.push(c);
        }
        q.push('"');
        q
    };
    quoted.replace('\\', "\\\\").replace('%', "%%")
}

/// The autostart entry that starts `program` in the tray.
pub fn desktop_entry(program: &Path) -> String {
    format!(
        "[Desktop Entry]\n\
         Type=Application\n\
         Version=1.0\n\
         Name=Loopgate\n\
         Comment=A desktop MCP gateway, started in the tray at login\n\
         Exec={} {HIDDEN_ARG}\n\
         Icon=loopgate\n\
         Terminal=false\n\
         StartupNotify=false\n\
         Categories=Development;\n\
         X-GNOME-Autostart-enabled=true\n",
        exec_arg(&program.to_string_lossy())
    )
}

/// Writes the entry at `path` starting `program` (creating the directory).
///
/// Errors: the directory or file could not be written.
pub fn enable(path: &Path, program: &Path) -> std::io::Result<()> {
    crate::config::store::write_atomic(path, desktop_entry(program).as_bytes())
}

/// Removes the entry at `path`; no entry is not an error.
///
/// Errors: it exists and could not be removed.
pub fn disable(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Whether an entry exists at `path`.
pub fn is_enabled(path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_for_the_deb_install() {
        let text = desktop_entry(Path::new(INSTALLED));
        assert!(text.starts_with("[Desktop Entry]\nType=Application\n"));
        assert!(
            text.contains("\nExec=/usr/bin/loopgate --hidden\n"),
            "{text}"
        );
        assert!(text.contains("\nIcon=loopgate\n") && text.contains("\nTerminal=false\n"));
    }

    #[test]
    fn exec_quoting_follows_the_spec() {
        let text = desktop_entry(Path::new("/home/u/My Apps/Loopgate $1 100%.AppImage"));
        assert!(
            text.contains("\nExec=\"/home/u/My Apps/Loopgate \\\\$1 100%%.AppImage\" --hidden\n"),
            "{text}"
        );
        assert_eq!(exec_arg("a\\b"), "\"a\\\\\\\\b\"");
    }

    #[test]
    fn a_build_output_defers_to_the_installed_program() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::create_dir_all(target.join("debug")).unwrap();
        std::fs::write(
            target.join("CACHEDIR.TAG"),
            "Signature: 8a477f597d28d172789f06886806bc55",
        )
        .unwrap();
        let built = target.join("debug/loopgate");
        let installed = dir.path().join("usr/bin/loopgate");
        assert!(is_build_output(&built));
        assert_eq!(
            launch_target(&built, None, &installed),
            built,
            "nothing installed"
        );
        std::fs::create_dir_all(installed.parent().unwrap()).unwrap();
        std::fs::write(&installed, "").unwrap();
        assert_eq!(launch_target(&built, None, &installed), installed);
        let own = Path::new("/opt/loopgate/loopgate");
        assert_eq!(launch_target(own, None, &installed), own);
        let image = Path::new("/home/u/Loopgate.AppImage");
        assert_eq!(launch_target(&built, Some(image), &installed), image);
    }

    #[test]
    fn enable_and_disable_write_and_remove_the_entry() {
        let home = tempfile::tempdir().unwrap();
        let path = entry_path(None, home.path());
        assert_eq!(path, home.path().join(".config/autostart/Loopgate.desktop"));
        let xdg = home.path().join("xdg");
        assert_eq!(
            entry_path(Some(&xdg), home.path()),
            xdg.join("autostart/Loopgate.desktop")
        );
        assert!(!is_enabled(&path));
        enable(&path, Path::new(INSTALLED)).unwrap();
        assert!(is_enabled(&path));
        disable(&path).unwrap();
        assert!(!is_enabled(&path));
        disable(&path).unwrap();
    }
}
