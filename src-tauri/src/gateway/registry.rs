//! The registry: every enabled server's tools, prompts and resources merged into one
//! namespaced set, plus the routes back to the owning server.
//!
//! # Naming
//!
//! Tools and prompts are exposed as `<server>__<name>`. Server names cannot contain `__` nor
//! end with `_` (see the config rules), so the first `__` of an exposed name always ends the
//! server's name: names of different servers can never collide, and no server can take over
//! another's names by changing its own list. MCP (2025-11-25, "Tool names") allows 1–128 characters from
//! `A-Z a-z 0-9 _ - .`, so, deterministically:
//!
//! 1. characters outside that set are replaced by `_`;
//! 2. a name longer than 128 characters is cut to 119 and suffixed with `_` and the first 8 hex
//!    digits of the SHA-256 of the untouched `<server>__<name>`;
//! 3. if two names still collide, servers are taken in config order and tools in the server's
//!    order, and later ones get `_2`, `_3`, … (cut further to stay within 128).
//!
//! Nothing is dropped: every tool of every ready server is listed (except `disabledTools`).
//! Resources keep their URIs; a URI offered by two servers is routed to the first in config
//! order, and the duplicate is listed once.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rmcp::model::{Prompt, Resource, ResourceTemplate, Tool};
use sha2::{Digest, Sha256};

use crate::upstream::supervisor::Snapshot;

/// Longest tool/prompt name the spec allows, in characters.
pub const MAX_NAME_LEN: usize = 128;
/// Separator between server and tool name.
pub const SEPARATOR: &str = "__";

/// Where an exposed name leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Server name.
    pub server: String,
    /// The name (or URI) as the server knows it.
    pub original: String,
}

/// One exposed tool with its route (for listings in the CLI and UI).
#[derive(Debug, Clone)]
pub struct ExposedTool {
    /// The tool as clients see it (renamed).
    pub tool: Tool,
    /// Its owner and original name.
    pub route: Route,
}

/// How exposed names are formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Naming {
    /// `<server>__<name>` (the gateway).
    #[default]
    Namespaced,
    /// Names as the servers give them (the `loopgate connect` bridge, which fronts one server:
    /// the gateway itself). With several servers, a clashing name gets a `_2` suffix.
    Transparent,
}

/// The merged, namespaced catalog of all ready servers. Immutable; rebuilt on every change.
#[derive(Debug, Default)]
pub struct Registry {
    tools: Vec<ExposedTool>,
    tool_routes: HashMap<String, usize>,
    prompts: Vec<Prompt>,
    prompt_routes: HashMap<String, Route>,
    resources: Vec<Resource>,
    resource_routes: HashMap<String, String>,
    templates: Vec<ResourceTemplate>,
    template_owners: Vec<(String, String)>,
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn fit(name: String, full: &str) -> String {
    if name.len() <= MAX_NAME_LEN {
        return name;
    }
    let hash = hex::encode(Sha256::digest(full.as_bytes()));
    format!("{}_{}", &name[..MAX_NAME_LEN - 9], &hash[..8])
}

/// Allocates unique exposed names following the module rules.
#[derive(Default)]
struct Namer {
    used: HashSet<String>,
    transparent: bool,
}

impl Namer {
    fn name(&mut self, server: &str, original: &str) -> String {
        let full = if self.transparent {
            original.to_string()
        } else {
            format!("{server}{SEPARATOR}{original}")
        };
        let base = fit(sanitize(&full), &full);
        let mut candidate = base.clone();
        let mut n = 2;
        while self.used.contains(&candidate) {
            let suffix = format!("_{n}");
            let keep = base.len().min(MAX_NAME_LEN - suffix.len());
            candidate = format!("{}{suffix}", &base[..keep]);
            n += 1;
        }
        self.used.insert(candidate.clone());
        candidate
    }
}

/// The static prefix of a URI template (everything before the first `{`).
fn template_prefix(template: &str) -> &str {
    template.split('{').next().unwrap_or(template)
}

impl Registry {
    /// Builds the registry from the servers that have a live connection, in config order,
    /// hiding each server's `disabledTools`, naming per `naming`.
    pub fn build(snapshot: &Snapshot, naming: Naming) -> Registry {
        let mut reg = Registry::default();
        let transparent = naming == Naming::Transparent;
        let mut tool_names = Namer {
            transparent,
            ..Namer::default()
        };
        let mut prompt_names = Namer {
            transparent,
            ..Namer::default()
        };
        for (server, view) in snapshot {
            if view.connection.is_none() {
                continue;
            }
            let hidden: HashSet<&str> = view
                .entry
                .disabled_tools
                .iter()
                .map(String::as_str)
                .collect();
            for tool in &view.catalog.tools {
                if hidden.contains(tool.name.as_ref()) {
                    continue;
                }
                let exposed = tool_names.name(server, &tool.name);
                let mut t = tool.clone();
                t.name = exposed.clone().into();
                reg.tool_routes.insert(exposed, reg.tools.len());
                reg.tools.push(ExposedTool {
                    tool: t,
                    route: Route {
                        server: server.clone(),
                        original: tool.name.to_string(),
                    },
                });
            }
            for prompt in &view.catalog.prompts {
                let exposed = prompt_names.name(server, &prompt.name);
                let mut p = prompt.clone();
                p.name = exposed.clone();
                reg.prompt_routes.insert(
                    exposed,
                    Route {
                        server: server.clone(),
                        original: prompt.name.clone(),
                    },
                );
                reg.prompts.push(p);
            }
            for resource in &view.catalog.resources {
                if reg.resource_routes.contains_key(&resource.uri) {
                    continue;
                }
                reg.resource_routes
                    .insert(resource.uri.clone(), server.clone());
                reg.resources.push(resource.clone());
            }
            for template in &view.catalog.resource_templates {
                reg.template_owners.push((
                    template_prefix(&template.uri_template).to_string(),
                    server.clone(),
                ));
                reg.templates.push(template.clone());
            }
        }
        reg
    }

    /// All exposed tools, in config order then each server's order.
    pub fn tools(&self) -> impl Iterator<Item = &Tool> {
        self.tools.iter().map(|t| &t.tool)
    }

    /// All exposed tools with their routes.
    pub fn exposed_tools(&self) -> &[ExposedTool] {
        &self.tools
    }

    /// Number of tools clients see.
    pub fn tool_count(&self) -> usize {
        self.tools.len()
    }

    /// Looks up an exposed tool name (O(1), no locks).
    pub fn tool(&self, exposed: &str) -> Option<&ExposedTool> {
        self.tool_routes.get(exposed).map(|&i| &self.tools[i])
    }

    /// All exposed prompts.
    pub fn prompts(&self) -> &[Prompt] {
        &self.prompts
    }

    /// The route of an exposed prompt name.
    pub fn prompt(&self, exposed: &str) -> Option<&Route> {
        self.prompt_routes.get(exposed)
    }

    /// All resources (URIs unchanged).
    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }

    /// All resource templates.
    pub fn resource_templates(&self) -> &[ResourceTemplate] {
        &self.templates
    }

    /// The server that owns `uri`: the one listing it, else the first whose template's static
    /// prefix (longest first) matches.
    pub fn resource_owner(&self, uri: &str) -> Option<&str> {
        if let Some(s) = self.resource_routes.get(uri) {
            return Some(s);
        }
        self.template_owners
            .iter()
            .filter(|(prefix, _)| !prefix.is_empty() && uri.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, s)| s.as_str())
    }

    /// A value that changes whenever the list of tools, prompts or resources a client would
    /// see changes (used to decide whether to send list-changed notifications).
    pub fn fingerprint(&self) -> (u64, u64, u64) {
        use std::hash::{Hash, Hasher};
        let h = |f: &dyn Fn(&mut std::collections::hash_map::DefaultHasher)| {
            let mut s = std::collections::hash_map::DefaultHasher::new();
            f(&mut s);
            s.finish()
        };
        (
            h(&|s| {
                self.tools
                    .iter()
                    .for_each(|t| serde_json::to_string(&t.tool).unwrap_or_default().hash(s))
            }),
            h(&|s| {
                self.prompts
                    .iter()
                    .for_each(|p| serde_json::to_string(p).unwrap_or_default().hash(s))
            }),
            h(&|s| {
                self.resources.iter().for_each(|r| r.uri.hash(s));
                self.templates.iter().for_each(|t| t.uri_template.hash(s));
            }),
        )
    }
}

/// Shared handle type.
pub type SharedRegistry = Arc<Registry>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_namespaced_sanitized_bounded_and_unique() {
        let mut n = Namer::default();
        assert_eq!(n.name("fs", "read_file"), "fs__read_file");
        assert_eq!(n.name("fs", "read file/now"), "fs__read_file_now");
        // Sanitizing made a collision: the later one gets a suffix.
        assert_eq!(n.name("fs", "read file"), "fs__read_file_2");
        let long = "x".repeat(200);
        let a = n.name("srv", &long);
        assert_eq!(a.len(), MAX_NAME_LEN);
        assert!(a.starts_with("srv__xxx"));
        let b = n.name("srv", &format!("{long}y"));
        assert_eq!(b.len(), MAX_NAME_LEN);
        assert_ne!(a, b, "different long names hash differently");
        // Deterministic across runs.
        let mut m = Namer::default();
        assert_eq!(m.name("srv", &long), a);
    }

    #[test]
    fn servers_never_collide_with_each_other() {
        use proptest::prelude::*;
        let server = "[a-z0-9][a-z0-9_-]{0,10}[a-z0-9-]|[a-z0-9]";
        let tool = "[ -~]{1,140}";
        proptest!(|(a in server, b in server, ta in tool, tb in tool)| {
            prop_assume!(!a.contains("__") && !b.contains("__") && a != b);
            let mut n = Namer::default();
            let x = n.name(&a, &ta);
            let y = n.name(&b, &tb);
            prop_assert_ne!(&x, &y);
            // Another server's names never change this one's (no `_2` because of `a`).
            prop_assert_eq!(&y, &Namer::default().name(&b, &tb));
            // The server is the part before the first "__".
            prop_assert_eq!(x.split(SEPARATOR).next().unwrap(), a.as_str());
            prop_assert_eq!(y.split(SEPARATOR).next().unwrap(), b.as_str());
        });
        // The case that collided before server names ending in "_" were refused.
        let mut n = Namer::default();
        assert_eq!(n.name("a", "_b"), "a___b");
    }

    #[test]
    fn template_prefixes_route_resources() {
        let mut r = Registry::default();
        r.template_owners.push(("file:///".into(), "fs".into()));
        r.template_owners
            .push(("file:///home/".into(), "home".into()));
        r.resource_routes.insert("mem://x".into(), "mem".into());
        assert_eq!(r.resource_owner("mem://x"), Some("mem"));
        assert_eq!(r.resource_owner("file:///home/a"), Some("home"));
        assert_eq!(r.resource_owner("file:///etc/a"), Some("fs"));
        assert_eq!(r.resource_owner("other://"), None);
    }
}
