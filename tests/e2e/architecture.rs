//! The architecture written in `docs/ARCHITECTURE.md`, checked against the source:
//! no module imports one that imports it back, lower layers never import higher ones, no
//! source file grows past 600 lines, and every "ARCHITECTURE.md rule N" cited in code exists.
//!
//! The module graph is read from `crate::…` and `super::…` paths in `src-tauri/src` (unit-test
//! modules at the end of a file excluded). Edges between a module and its own ancestors are
//! left out: a parent re-exporting its children is not a cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crate's top-level modules, bottom layer first: each may import only those before it.
const LAYERS: &[&str] = &[
    "caller",
    "memory",
    "redact",
    "wire",
    "logging",
    "secrets",
    "config",
    "activity",
    "token",
    "oauth",
    "upstream",
    "gateway",
    "clients",
    "http",
    "app",
    "connect",
    "tray_menu",
    "notices",
    "autostart",
    "desktop",
    "cli",
];

/// Longest allowed source file, in lines.
const MAX_LINES: usize = 600;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files_under(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            let installed = name.ends_with("venv")
                || matches!(
                    name.as_str(),
                    "node_modules" | "dist" | ".test-build" | "target" | "conformance"
                );
            if !installed {
                files_under(&path, exts, out);
            }
        } else if exts.iter().any(|e| name.ends_with(e)) {
            out.push(path);
        }
    }
}

/// `src-tauri/src/a/b.rs` → `a::b`; `a/mod.rs` → `a`; `lib.rs` → ``.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts.join("::")
}

/// Identifier path starting at `s` (`a::b::C` → `["a", "b", "C"]`).
fn path_at(s: &str) -> Vec<&str> {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(s.len());
    s[..end].split("::").filter(|p| !p.is_empty()).collect()
}

/// The longest known module that `path` names (or starts with).
fn resolve(modules: &BTreeSet<String>, path: &[&str]) -> Option<String> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].join("::"))
        .find(|m| modules.contains(m))
}

/// Module → the modules it uses (ancestors and descendants left out).
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = root().join("src-tauri/src");
    let mut files = Vec::new();
    files_under(&src, &[".rs"], &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    let related = |a: &str, b: &str| {
        a.is_empty()
            || b.is_empty()
            || b.starts_with(&format!("{a}::"))
            || a.starts_with(&format!("{b}::"))
    };
    let mut graph = BTreeMap::new();
    for file in &files {
        let module = module_of(&src, file);
        let text = std::fs::read_to_string(file).unwrap();
        let text = match text.find("#[cfg(test)]\nmod tests") {
            Some(i) => &text[..i],
            None => &text[..],
        };
        // Comments (doc links included) name modules without importing them.
        let text: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let text = text.as_str();
        let mut uses = BTreeSet::new();
        for (i, _) in text.match_indices("crate::") {
            if let Some(m) = resolve(&modules, &path_at(&text[i + "crate::".len()..])) {
                uses.insert(m);
            }
        }
        let mut rest = text;
        while let Some(i) = rest.find("super::") {
            let preceded_by_ident = rest[..i]
                .chars()
                .last()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
            let tail = &rest[i..];
            rest = &rest[i + "super::".len()..];
            if preceded_by_ident {
                continue;
            }
            let path = path_at(tail);
            let ups = path.iter().take_while(|p| **p == "super").count();
            // `super` is the parent of the module the file defines, whether the file is
            // `a/b.rs` (module `a::b`) or `a/mod.rs` (module `a`): one level per `super`.
            let mut base: Vec<&str> = module.split("::").filter(|p| !p.is_empty()).collect();
            for _ in 0..ups {
                base.pop();
            }
            base.extend(&path[ups..]);
            if let Some(m) = resolve(&modules, &base) {
                uses.insert(m);
            }
        }
        uses.retain(|m| m != &module && !related(&module, m));
        graph.insert(module, uses);
    }
    graph
}

/// Every cycle (strongly connected component of more than one module) in `graph`.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Kosaraju: order by finish time, then walk the reversed graph.
    fn visit<'a>(
        g: &'a BTreeMap<String, BTreeSet<String>>,
        v: &'a str,
        seen: &mut BTreeSet<&'a str>,
        out: &mut Vec<&'a str>,
    ) {
        if !seen.insert(v) {
            return;
        }
        for w in g.get(v).into_iter().flatten() {
            visit(g, w, seen, out);
        }
        out.push(v);
    }
    let mut order = Vec::new();
    let mut seen = BTreeSet::new();
    for v in graph.keys() {
        visit(graph, v, &mut seen, &mut order);
    }
    let mut reversed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (v, ws) in graph {
        for w in ws {
            reversed.entry(w.clone()).or_default().insert(v.clone());
        }
    }
    let mut assigned = BTreeSet::new();
    let mut found = Vec::new();
    for v in order.into_iter().rev() {
        if assigned.contains(v) {
            continue;
        }
        let mut component = Vec::new();
        let mut stack = vec![v.to_string()];
        while let Some(x) = stack.pop() {
            if !assigned.insert(x.clone()) {
                continue;
            }
            for w in reversed.get(&x).into_iter().flatten() {
                if !assigned.contains(w) {
                    stack.push(w.clone());
                }
            }
            component.push(x);
        }
        if component.len() > 1 {
            component.sort();
            found.push(component);
        }
    }
    found
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let graph = module_graph();
    assert!(
        graph.len() > 50,
        "the module graph was read ({} modules)",
        graph.len()
    );
    assert!(
        graph["upstream::runner"].contains("upstream::restart"),
        "sibling imports are seen: {:?}",
        graph["upstream::runner"]
    );
    let found = cycles(&graph);
    assert!(found.is_empty(), "import cycles: {found:?}");
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert("b".to_string(), BTreeSet::from(["c".to_string()]));
    g.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
    g.insert("d".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(cycles(&g), vec![vec!["a", "b", "c"]]);
}

#[test]
fn lower_layers_never_import_higher_ones() {
    let rank = |m: &str| {
        let top = m.split("::").next().unwrap_or("");
        LAYERS.iter().position(|l| *l == top)
    };
    let mut wrong = Vec::new();
    for (module, uses) in module_graph() {
        if module.is_empty() || module == "main" {
            continue;
        }
        let Some(mine) = rank(&module) else {
            wrong.push(format!("{module} is in no layer of docs/ARCHITECTURE.md"));
            continue;
        };
        for used in uses {
            if rank(&used).is_some_and(|theirs| theirs > mine) {
                wrong.push(format!("{module} imports the higher layer {used}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn no_source_file_is_over_600_lines() {
    let mut files = Vec::new();
    for dir in ["src-tauri", "ui/src", "tests"] {
        files_under(
            &root().join(dir),
            &[".rs", ".ts", ".tsx", ".css", ".mjs", ".py", ".sh"],
            &mut files,
        );
    }
    assert!(files.len() > 100, "sources found: {}", files.len());
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).ok()?.lines().count();
            (lines > MAX_LINES).then(|| format!("{} ({lines} lines)", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these files: {long:#?}");
}

/// The rule numbers "ARCHITECTURE.md rule 3", "rules 7 and 11", "rules 1–3 and 6" cite.
fn cited_rules(text: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for (i, _) in text.match_indices("ARCHITECTURE.md rule") {
        let tail = &text[i + "ARCHITECTURE.md rule".len()..];
        let tail = tail.strip_prefix('s').unwrap_or(tail);
        let mut last = None;
        let mut range_from = None;
        for word in tail
            .split(|c: char| c.is_whitespace() || c == ',' || c == ')' || c == ':')
            .filter(|w| !w.is_empty())
        {
            let word = word.trim_start_matches("//!").trim_start_matches("//");
            if word.is_empty() {
                continue;
            }
            if word == "and" {
                continue;
            }
            if let Some((a, b)) = word.split_once(['–', '-']) {
                if let (Ok(a), Ok(b)) = (a.parse::<u32>(), b.parse::<u32>()) {
                    found.extend(a..=b);
                    last = Some(b);
                    continue;
                }
            }
            match word.parse::<u32>() {
                Ok(n) => {
                    if let Some(from) = range_from.take() {
                        found.extend(from..=n);
                    } else {
                        found.push(n);
                    }
                    last = Some(n);
                }
                Err(_) if word == "–" => range_from = last.map(|l| l + 1),
                Err(_) => break,
            }
        }
    }
    found
}

#[test]
fn every_cited_rule_exists() {
    let doc = std::fs::read_to_string(root().join("docs/ARCHITECTURE.md")).unwrap();
    let rules_section = doc
        .split("## Rules that come from real bugs")
        .nth(1)
        .expect("docs/ARCHITECTURE.md has its rules section");
    let rules_section = rules_section.split("\n## ").next().unwrap();
    let defined: BTreeSet<u32> = rules_section
        .lines()
        .filter_map(|l| {
            l.split_once(". **")
                .and_then(|(n, _)| n.trim().parse().ok())
        })
        .collect();
    assert!(defined.len() >= 10, "rules read: {defined:?}");
    let mut files = Vec::new();
    for dir in ["src-tauri", "ui/src", "tests"] {
        files_under(
            &root().join(dir),
            &[".rs", ".ts", ".tsx", ".mjs", ".py"],
            &mut files,
        );
    }
    let mut cited = 0;
    let mut missing = Vec::new();
    for f in files {
        if f.ends_with("architecture.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        assert!(
            !text.contains("DESIGN.md"),
            "{} cites DESIGN.md, which is not in the repository",
            f.display()
        );
        for n in cited_rules(&text) {
            cited += 1;
            if !defined.contains(&n) {
                missing.push(format!("{} cites rule {n}", f.display()));
            }
        }
    }
    assert!(cited >= 10, "citations found: {cited}");
    assert!(missing.is_empty(), "{missing:#?}");
}

#[test]
fn rule_citations_are_read_in_every_form() {
    assert_eq!(cited_rules("(ARCHITECTURE.md rule 9)."), vec![9]);
    assert_eq!(
        cited_rules("ARCHITECTURE.md rules 7 and 11: x"),
        vec![7, 11]
    );
    assert_eq!(
        cited_rules("ARCHITECTURE.md rules 1–3 and 6: it"),
        vec![1, 2, 3, 6]
    );
    assert_eq!(
        cited_rules("(ARCHITECTURE.md rule\n//! 10: anything"),
        vec![10]
    );
}
