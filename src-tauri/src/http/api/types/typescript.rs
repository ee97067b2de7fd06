//! The dashboard's copy of the `/api` types: TypeScript declarations generated from the Rust
//! types with ts-rs into `ui/src/api-types.gen.ts`. `cargo test` fails while that file differs
//! from what the Rust types generate; `LOOPGATE_WRITE_API_TYPES=1 cargo test --lib api_types`
//! rewrites it.

use std::any::TypeId;
use std::collections::HashSet;
use std::path::PathBuf;

use ts_rs::{Config, TypeVisitor, TS};

use super::*;

/// The generated file, relative to the crate root.
const GENERATED: &str = "ui/src/api-types.gen.ts";

const HEADER: &str = "\
// The bodies of Loopgate's /api answers, generated from the Rust types in
// src-tauri/src/http/api/types.rs (and the types they contain) by ts-rs. Do not edit: run
// `LOOPGATE_WRITE_API_TYPES=1 cargo test --no-default-features --lib api_types` after changing
// them (`cargo test` fails while this file is stale). ui/src/api.ts re-exports these types.
// ToolAnnotations and JsonSchema are foreign (rmcp) types, mirrored by hand in api-mirror.ts.

import type { JsonSchema, ToolAnnotations } from './api-mirror';
";

/// Collects the declaration of every type it visits and, recursively, of the types those use.
struct Declarations {
    cfg: Config,
    seen: HashSet<TypeId>,
    /// `(name, declaration)`.
    out: Vec<(String, String)>,
}

impl TypeVisitor for Declarations {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        // Primitives and containers have no declaration of their own; their type parameters
        // are visited through the field that uses them.
        if T::output_path().is_none() || !self.seen.insert(TypeId::of::<T>()) {
            return;
        }
        let docs = T::docs().unwrap_or_default();
        let decl = format!("{docs}export {}", tidy(&T::decl(&self.cfg)));
        self.out.push((T::ident(&self.cfg), decl));
        T::visit_dependencies(self);
    }
}

/// ts-rs's one-line-per-field declaration made readable: fields indented, the closing brace
/// on a line of its own, no trailing blanks.
fn tidy(decl: &str) -> String {
    let mut out = String::new();
    for (i, line) in decl.replace(", }", ",\n}").lines().enumerate() {
        let line = line.trim_end();
        if i > 0 && !line.starts_with('}') {
            out.push_str("  ");
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// One-line doc comments on one line: `/**`, ` * text`, ` */` become `/** text */`.
fn compact_docs(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        let one_liner = lines.get(i..i + 3).and_then(|l| {
            let indent = l[0].strip_suffix("/**")?;
            let doc = l[1].trim_start().strip_prefix("* ")?;
            (l[2].trim() == "*/").then(|| format!("{indent}/** {doc} */"))
        });
        match one_liner {
            Some(line) => {
                out.push_str(&line);
                i += 3;
            }
            None => {
                out.push_str(lines[i]);
                i += 1;
            }
        }
        out.push('\n');
    }
    out
}

/// The whole generated file: every `/api` answer type and what it contains, by name.
fn generate() -> String {
    let mut d = Declarations {
        // u64 millisecond timestamps are plain JSON numbers, not bigints.
        cfg: Config::new().with_large_int("number"),
        seen: HashSet::new(),
        out: Vec::new(),
    };
    d.visit::<ApiErrorBody>();
    d.visit::<Info>();
    d.visit::<ServerInfo>();
    d.visit::<ServerTool>();
    d.visit::<ToolList>();
    d.visit::<ToolCount>();
    d.visit::<LogLine>();
    d.visit::<OkAnswer>();
    d.visit::<AddedAnswer>();
    d.visit::<ImportedAnswer>();
    d.visit::<RestartedAnswer>();
    d.visit::<ReloadedAnswer>();
    d.visit::<UrlAnswer>();
    d.visit::<CancelledAnswer>();
    d.visit::<SignedOut>();
    d.visit::<AuthStatus>();
    d.visit::<ClientList>();
    d.visit::<SuggestionList>();
    d.visit::<ClientChangeAnswer>();
    d.visit::<super::super::profiles::ProfilesView>();
    d.out.sort();
    let mut text = HEADER.to_string();
    for (_, decl) in d.out {
        text.push('\n');
        text.push_str(decl.trim_end());
        text.push('\n');
    }
    compact_docs(&text)
}

#[test]
fn api_types_match_the_generated_typescript() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(GENERATED);
    let generated = generate();
    if std::env::var_os("LOOPGATE_WRITE_API_TYPES").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "{GENERATED} is not what the /api types generate; run \
         `LOOPGATE_WRITE_API_TYPES=1 cargo test --no-default-features --lib api_types` and \
         commit it (then `cd ui && npm run build`)"
    );
}

#[test]
fn every_answer_type_is_declared_once() {
    let text = generate();
    for name in [
        "ApiErrorBody",
        "ServerInfo",
        "ServerStatus",
        "StdioView",
        "HttpView",
        "SignInView",
        "Revocation",
        "ClientState",
        "Transport",
        "ServerState",
    ] {
        let decls = text.matches(&format!("export type {name} ")).count();
        // ServerStatus is flattened into ServerInfo, so only its fields appear.
        let want = usize::from(name != "ServerStatus");
        assert_eq!(decls, want, "{name} in:\n{text}");
    }
    assert!(!text.contains("bigint"), "{text}");
}
