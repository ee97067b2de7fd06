//! Build script: builds the web dashboard (`ui/`, Vite) into `ui/dist` and embeds it in the
//! binary with memory-serve, so `loopgate serve` serves it at `/` with no manual step. With
//! the `desktop` feature it also runs tauri-build (root `tauri.conf.json`, `icons/`,
//! `src-tauri/capabilities/`).
//!
//! `npm ci` runs when `ui/node_modules` is missing or older than `ui/package-lock.json`, then
//! `npm run build`. Without Node.js (or when the build fails) a page explaining how to build
//! the dashboard is embedded instead and cargo prints a warning; the gateway itself is
//! unaffected. `LOOPGATE_SKIP_UI_BUILD=1` embeds an existing `ui/dist` without running npm.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    for p in [
        "ui/src",
        "ui/index.html",
        "ui/package.json",
        "ui/package-lock.json",
        "ui/vite.config.ts",
        "ui/tsconfig.json",
        "ui/public",
    ] {
        println!("cargo:rerun-if-changed={p}");
    }
    println!("cargo:rerun-if-env-changed=LOOPGATE_SKIP_UI_BUILD");
    let dist = match build_ui().and_then(|d| snapshot(&d)) {
        Ok(dist) => dist,
        Err(reason) => {
            println!("cargo:warning=the web dashboard was not built ({reason}); embedding a placeholder page");
            fallback(&reason)
        }
    };
    // SAFETY of intent: build scripts are single-threaded; this only silences memory-serve's log.
    std::env::set_var("MEMORY_SERVE_QUIET", "1");
    memory_serve::load_directory_with_embed(dist, true);
    #[cfg(feature = "desktop")]
    tauri_build::try_build(
        tauri_build::Attributes::new().capabilities_path_pattern("./src-tauri/capabilities/**/*"),
    )
    .expect("tauri-build (tauri.conf.json, icons/, capabilities/)");
}

fn run(cmd: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(cmd)
        .args(args)
        .current_dir("ui")
        .env("CI", "true")
        .output()
        .map_err(|e| format!("cannot run `{cmd}`: {e}; install Node.js 20 or newer"))?;
    if out.status.success() {
        Ok(())
    } else {
        let all = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let lines: Vec<&str> = all
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with("npm warn"))
            .collect();
        let tail = lines[lines.len().saturating_sub(5)..].join(" | ");
        Err(format!("`{cmd} {}` failed: {tail}", args.join(" ")))
    }
}

fn modified(p: &str) -> Option<std::time::SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

fn build_ui() -> Result<PathBuf, String> {
    let dist = PathBuf::from("ui/dist");
    if std::env::var_os("LOOPGATE_SKIP_UI_BUILD").is_some() {
        return if dist.join("index.html").exists() {
            Ok(dist)
        } else {
            Err("LOOPGATE_SKIP_UI_BUILD is set but ui/dist is empty".into())
        };
    }
    if !Path::new("ui/package.json").exists() {
        return Err("ui/package.json is missing".into());
    }
    let installed = modified("ui/node_modules/.package-lock.json");
    if installed.is_none() || installed < modified("ui/package-lock.json") {
        run(
            "npm",
            &["ci", "--no-audit", "--no-fund", "--loglevel=error"],
        )?;
    }
    run("npm", &["run", "build"])?;
    if dist.join("index.html").exists() {
        Ok(dist)
    } else {
        Err("`npm run build` produced no ui/dist/index.html".into())
    }
}

/// Mirrors the built files into OUT_DIR, so the embedded set cannot change under the compiler
/// (a later `npm run build` replaces the hashed file names in ui/dist).
///
/// A no-op build must stay a no-op: memory-serve asks cargo to re-run this script when the
/// snapshot directory changes, and cargo compares its mtimes with the start of the last run.
/// So only files whose content differs are written, vanished files are removed, and every
/// file and directory of the snapshot gets a fixed old mtime: the snapshot never looks newer
/// than the run that wrote it. (The UI sources are what trigger a real re-run.)
fn snapshot(dist: &Path) -> Result<PathBuf, String> {
    let target = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("ui-dist");
    sync_dir(dist, &target).map_err(|e| format!("copying ui/dist: {e}"))?;
    Ok(target)
}

/// The mtime every snapshot entry gets (2001-09-09): far older than any build.
const SNAPSHOT_MTIME: std::time::Duration = std::time::Duration::from_secs(1_000_000_000);

fn sync_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    let mut keep = std::collections::HashSet::new();
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        keep.insert(entry.file_name());
        if entry.file_type()?.is_dir() {
            if dest.is_file() {
                std::fs::remove_file(&dest)?;
            }
            sync_dir(&entry.path(), &dest)?;
        } else {
            let bytes = std::fs::read(entry.path())?;
            if dest.is_dir() {
                std::fs::remove_dir_all(&dest)?;
            }
            if std::fs::read(&dest).ok().as_deref() != Some(&bytes[..]) {
                std::fs::write(&dest, &bytes)?;
            }
            set_old_mtime(&dest);
        }
    }
    for entry in std::fs::read_dir(to)? {
        let entry = entry?;
        if !keep.contains(&entry.file_name()) {
            if entry.file_type()?.is_dir() {
                std::fs::remove_dir_all(entry.path())?;
            } else {
                std::fs::remove_file(entry.path())?;
            }
        }
    }
    set_old_mtime(to);
    Ok(())
}

/// Best effort: on platforms where a directory cannot be opened as a file (Windows) the
/// directory keeps its mtime and cargo merely re-runs this script once more.
fn set_old_mtime(path: &Path) {
    let when = std::time::UNIX_EPOCH + SNAPSHOT_MTIME;
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.set_modified(when);
    }
}

fn fallback(reason: &str) -> PathBuf {
    let dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("ui-fallback");
    std::fs::create_dir_all(&dir).expect("create fallback dir");
    let reason = reason.replace('&', "&amp;").replace('<', "&lt;");
    let html = format!(
        "<!doctype html><meta charset=utf-8><title>Loopgate</title>\
         <body style=\"font:16px system-ui;max-width:40em;margin:4em auto\"><h1>Loopgate</h1>\
         <p>The gateway is running, but this build has no dashboard: {reason}.</p>\
         <p>Install Node.js 20 or newer and rebuild (<code>cargo build</code>). \
         The command line (<code>loopgate servers</code>, <code>loopgate tools</code>) works meanwhile.</p>"
    );
    std::fs::write(dir.join("index.html"), html).expect("write fallback page");
    dir
}
