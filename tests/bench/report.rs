//! The printed result: Markdown tables (so a run can be pasted into RESULTS.md), each row
//! printed as soon as it is measured, and a closing PASS/MISS summary against the targets.

use std::io::Write;
use std::process::Command;
use std::time::Duration;

pub struct Report {
    out: String,
    targets: Vec<(String, String, bool)>,
    /// (machine busy jiffies, this process + reaped children jiffies) at the start.
    cpu0: (u64, u64),
}

pub fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "MISS"
    }
}

pub fn fmt_us(us: f64) -> String {
    if us >= 10_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}

pub fn fmt_f(v: f64, digits: usize) -> String {
    if v.is_nan() {
        "–".into()
    } else {
        format!("{v:.digits$}")
    }
}

fn sh(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

pub fn nproc() -> String {
    sh("nproc", &[])
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

impl Report {
    pub fn new() -> Report {
        // BENCH_GIT_COMMIT names the commit when the tree is a snapshot outside git.
        let commit = std::env::var("BENCH_GIT_COMMIT")
            .unwrap_or_else(|_| sh("git", &["rev-parse", "--short", "HEAD"]));
        let dirty = if sh(
            "git",
            &["status", "--porcelain", "--", "src-tauri", "Cargo.toml"],
        )
        .is_empty()
        {
            ""
        } else {
            " (+ uncommitted changes under src-tauri/ or in Cargo.toml)"
        };
        let mut r = Report {
            out: String::new(),
            targets: Vec::new(),
            cpu0: (0, 0),
        };
        r.emit("# Loopgate gateway benchmark (`cargo bench --bench gateway`)\n");
        let busy = busy_percent(Duration::from_secs(1));
        if busy > 10.0 {
            eprintln!(
                "warning: the machine is {busy:.0}% busy before the run (another build?); results will be noisy"
            );
        }
        r.emit(&format!(
            "- date: {}\n- machine: {} cores (`nproc`), {}, {} MiB RAM; busy before the run: {busy:.0}% (load average {})\n- git commit: {commit}{dirty}\n- {}; loopgate: {}\n",
            sh("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
            nproc(),
            cpu_model(),
            mem_total_mib(),
            loadavg(),
            sh("rustc", &["--version"]),
            crate::procs::loopgate_exe(),
        ));
        r.cpu0 = (machine_busy_jiffies(), own_jiffies());
        r
    }

    fn emit(&mut self, s: &str) {
        print!("{s}");
        let _ = std::io::stdout().flush();
        self.out.push_str(s);
    }

    pub fn section(&mut self, title: &str, note: &str, header: &[&str]) {
        self.emit(&format!(
            "\n## {title}\n\n{note}\n\n| {} |\n|{}|\n",
            header.join(" | "),
            header
                .iter()
                .enumerate()
                .map(|(i, _)| if i == 0 { "---" } else { "---:" })
                .collect::<Vec<_>>()
                .join("|")
        ));
    }

    pub fn row(&mut self, cells: &[String]) {
        self.emit(&format!("| {} |\n", cells.join(" | ")));
    }

    /// Records target `what` as `measured`, met or not (`ok`), for the summary; returns the
    /// verdict (`PASS`/`MISS`) for the row it belongs to.
    pub fn target(&mut self, what: &str, measured: &str, ok: bool) -> &'static str {
        self.targets
            .push((what.to_string(), measured.to_string(), ok));
        verdict(ok)
    }

    /// Prints the target summary and saves the whole report to target/bench-gateway/latest.md.
    pub fn finish(mut self, took: Duration) {
        let targets = std::mem::take(&mut self.targets);
        if !targets.is_empty() {
            self.emit("\n## Targets\n\n| target | measured | |\n|---|---:|---|\n");
        }
        for (what, measured, ok) in &targets {
            self.emit(&format!("| {what} | {measured} | {} |\n", verdict(*ok)));
        }
        // CPU used by other processes during the run (noise): machine busy time minus this
        // process and every child it reaped (gateways, backends, peers and their children).
        let others = (machine_busy_jiffies().saturating_sub(self.cpu0.0) as f64
            - own_jiffies().saturating_sub(self.cpu0.1) as f64)
            .max(0.0)
            / crate::procs::clk_tck();
        self.emit(&format!(
            "\nOther processes used about {:.0} CPU-seconds during the run ({:.0}% of one core).\n",
            others,
            100.0 * others / took.as_secs_f64()
        ));
        self.emit(&format!(
            "\n{} of {} targets met; whole run took {:.0} s; load average at the end: {}.\n",
            targets.iter().filter(|t| t.2).count(),
            targets.len(),
            took.as_secs_f64(),
            loadavg()
        ));
        // target/release/loopgate -> target/bench-gateway
        let exe = std::path::Path::new(crate::procs::loopgate_exe());
        let dir = exe
            .parent()
            .and_then(|p| p.parent())
            .unwrap_or(std::path::Path::new("."))
            .join("bench-gateway");
        if std::fs::create_dir_all(&dir).is_ok() {
            let path = dir.join("latest.md");
            if std::fs::write(&path, &self.out).is_ok() {
                eprintln!("report saved to {}", path.display());
            }
        }
    }
}

fn mem_total_mib() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .map(|k| k / 1024)
        .unwrap_or(0)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The jiffy counters of the "cpu" line of /proc/stat (all CPUs): user, nice, system, idle,
/// iowait, irq, softirq, steal, …; empty when unreadable.
fn cpu_jiffies() -> Vec<u64> {
    std::fs::read_to_string("/proc/stat")
        .unwrap_or_default()
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect()
}

/// Share of all CPUs busy over `window` (from /proc/stat), in percent.
pub fn busy_percent(window: Duration) -> f64 {
    let sample = || -> (u64, u64) {
        let v = cpu_jiffies();
        let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
        (v.iter().sum(), idle)
    };
    let (t0, i0) = sample();
    std::thread::sleep(window);
    let (t1, i1) = sample();
    let total = (t1 - t0).max(1) as f64;
    100.0 * (1.0 - (i1 - i0) as f64 / total)
}

/// user + nice + system + irq + softirq + steal jiffies of all CPUs.
fn machine_busy_jiffies() -> u64 {
    let v = cpu_jiffies();
    [0, 1, 2, 5, 6, 7]
        .iter()
        .map(|&i| v.get(i).copied().unwrap_or(0))
        .sum()
}

/// utime + stime + cutime + cstime of this process, in jiffies.
fn own_jiffies() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let Some((_, rest)) = stat.rsplit_once(") ") else {
        return 0;
    };
    rest.split_whitespace()
        .skip(11)
        .take(4)
        .filter_map(|x| x.parse::<u64>().ok())
        .sum()
}
