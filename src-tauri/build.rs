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

/// Copies the built files into OUT_DIR, so the embedded set cannot change under the compiler
/// (a later `npm run build` replaces the hashed file names in ui/dist).
fn snapshot(dist: &Path) -> Result<PathBuf, String> {
    let target = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("ui-dist");
    let _ = std::fs::remove_dir_all(&target);
    copy_dir(dist, &target).map_err(|e| format!("copying ui/dist: {e}"))?;
    Ok(target)
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), dest)?;
        }
    }
    Ok(())
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
