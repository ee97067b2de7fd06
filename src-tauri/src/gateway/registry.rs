//! The registry: every connected server's tools, prompts and resources merged into the one set
//! clients see, the routes back to the owning server, and what the servers together offer
//! (capabilities, instructions).
//!
//! Names follow [`super::naming`]. Resources keep their URIs; a URI is owned by the first
//! server (in config order) that lists it, else by the server whose resource template has the
//! longest matching static prefix (the first in config order on a tie), else by a server whose
//! tool names it as its MCP App (`_meta.ui.resourceUri`). URIs servers hand out in results
//! (`resource_link`) are learned at run time by the gateway ([`super::links`]).

use std::collections::HashMap;
use std::sync::Arc;

use rmcp::model::{Prompt, Resource, ResourceTemplate, ServerCapabilities, Tool};

use super::naming::{default_prefix, Namer};
use crate::upstream::Snapshot;

/// Instructions Loopgate gives clients before the servers' own.
pub const INSTRUCTIONS: &str = "Loopgate aggregates several MCP servers. Tool and prompt names \
are <server>__<name> unless a server is configured otherwise; the part before the double \
underscore names the server that runs it. Each server's own instructions follow under its name.";

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

/// A name that differs from `<prefix><original>` (sanitized, shortened or made unique).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renamed {
    /// The server.
    pub server: String,
    /// The name as the server gives it.
    pub original: String,
    /// The name clients see.
    pub exposed: String,
}

/// What one connected server offers besides its lists.
#[derive(Debug, Clone)]
struct Offer {
    server: String,
    capabilities: Option<ServerCapabilities>,
    instructions: Option<String>,
}

/// The merged catalog of all connected servers. Immutable; rebuilt on every change.
#[derive(Debug, Default)]
pub struct Registry {
    tools: Vec<ExposedTool>,
    tool_routes: HashMap<String, usize>,
    /// Original tool name → index, when exactly one server has a tool of that name.
    tool_originals: HashMap<String, Option<usize>>,
    prompts: Vec<Prompt>,
    prompt_routes: HashMap<String, Route>,
    resources: Vec<Resource>,
    resource_routes: HashMap<String, String>,
    templates: Vec<ResourceTemplate>,
    template_owners: Vec<(String, String)>,
    template_routes: HashMap<String, String>,
    app_uris: HashMap<String, String>,
    renamed: Vec<Renamed>,
    offers: Vec<Offer>,
    /// A process-unique number of this build (caches key on it).
    id: u64,
    capabilities: ServerCapabilities,
    instructions: String,
}

/// The static prefix of a URI template (everything before the first `{`).
fn template_prefix(template: &str) -> &str {
    template.split('{').next().unwrap_or(template)
}

/// The extensions offered to clients when a server offers them: those whose requests the
/// gateway can route — MCP Apps (its tools and `ui://` resources go the usual way) and tasks
/// (routed by task id). Another extension's new methods would have no route, so it is not
/// offered rather than offered and broken.
pub const RELAYED_EXTENSIONS: [&str; 2] = [
    crate::upstream::backend_client::UI_EXTENSION,
    rmcp::model::TASKS_EXTENSION_ID,
];

/// Unions what `caps` adds to `into`: completions, logging, resource subscriptions and
/// extensions (tools, prompts and resources with list changes are always offered).
fn add_capabilities(into: &mut ServerCapabilities, caps: &ServerCapabilities) {
    if caps.completions.is_some() {
        into.completions.get_or_insert_with(Default::default);
    }
    if caps.logging.is_some() {
        into.logging.get_or_insert_with(Default::default);
    }
    if caps
        .resources
        .as_ref()
        .and_then(|r| r.subscribe)
        .unwrap_or(false)
    {
        if let Some(r) = into.resources.as_mut() {
            r.subscribe = Some(true);
        }
    }
    if let Some(ext) = &caps.extensions {
        for (k, v) in ext {
            if RELAYED_EXTENSIONS.contains(&k.as_str()) {
                let mine = into.extensions.get_or_insert_with(Default::default);
                mine.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
}

impl Registry {
    /// Builds the registry from the servers that have a live connection, in config order,
    /// hiding each server's `disabledTools`.
    pub fn build(snapshot: &Snapshot) -> Registry {
        static BUILDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let mut reg = Registry {
            id: BUILDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            ..Registry::default()
        };
        let mut tool_names = Namer::default();
        let mut prompt_names = Namer::default();
        for (server, view) in snapshot {
            let Some(connection) = &view.connection else {
                continue;
            };
            reg.offers.push(Offer {
                server: server.clone(),
                capabilities: connection.capabilities(),
                instructions: connection
                    .peer_info()
                    .and_then(|i| i.instructions.clone())
                    .filter(|t| !t.trim().is_empty()),
            });
            let prefix = view
                .entry
                .tool_prefix
                .clone()
                .unwrap_or_else(|| default_prefix(server));
            reg.add_tools(server, &prefix, view, &mut tool_names);
            for prompt in &view.catalog.prompts {
                let exposed = prompt_names.name(&prefix, &prompt.name);
                reg.note_rename(server, &prefix, &prompt.name, &exposed);
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
                let prefix = template_prefix(&template.uri_template).to_string();
                reg.template_owners.push((prefix, server.clone()));
                reg.template_routes
                    .entry(template.uri_template.clone())
                    .or_insert_with(|| server.clone());
                reg.templates.push(template.clone());
            }
        }
        reg.capabilities = reg.capabilities_of(|_| true);
        reg.instructions = reg.instructions_of(|_| true);
        reg
    }

    /// What the servers `include` admits offer together: tools, prompts and resources with
    /// list changes always, plus what `add_capabilities` unions.
    pub fn capabilities_of(&self, include: impl Fn(&str) -> bool) -> ServerCapabilities {
        let mut caps = ServerCapabilities::builder()
            .enable_prompts()
            .enable_prompts_list_changed()
            .enable_resources()
            .enable_resources_list_changed()
            .enable_tools()
            .enable_tool_list_changed()
            .build();
        for offer in self.offers.iter().filter(|o| include(&o.server)) {
            if let Some(c) = &offer.capabilities {
                add_capabilities(&mut caps, c);
            }
        }
        caps
    }

    /// Loopgate's instructions followed by those of the servers `include` admits, each under
    /// its name, in config order.
    pub fn instructions_of(&self, include: impl Fn(&str) -> bool) -> String {
        let mut text = INSTRUCTIONS.to_string();
        for offer in self.offers.iter().filter(|o| include(&o.server)) {
            if let Some(i) = &offer.instructions {
                text.push_str(&format!("\n\n## {}\n{}", offer.server, i.trim()));
            }
        }
        text
    }

    fn add_tools(
        &mut self,
        server: &str,
        prefix: &str,
        view: &crate::upstream::ServerView,
        names: &mut Namer,
    ) {
        for tool in &view.catalog.tools {
            if view.entry.disabled_tools.iter().any(|d| *d == *tool.name) {
                continue;
            }
            let exposed = names.name(prefix, &tool.name);
            self.note_rename(server, prefix, &tool.name, &exposed);
            if let Some(uri) = tool
                .meta
                .as_ref()
                .and_then(|m| m.get("ui"))
                .and_then(|ui| ui.get("resourceUri"))
                .and_then(|u| u.as_str())
            {
                self.app_uris
                    .entry(uri.to_string())
                    .or_insert_with(|| server.to_string());
            }
            let mut t = tool.clone();
            t.name = exposed.clone().into();
            let index = self.tools.len();
            self.tool_routes.insert(exposed, index);
            self.tool_originals
                .entry(tool.name.to_string())
                .and_modify(|i| *i = None)
                .or_insert(Some(index));
            self.tools.push(ExposedTool {
                tool: t,
                route: Route {
                    server: server.to_string(),
                    original: tool.name.to_string(),
                },
            });
        }
    }

    fn note_rename(&mut self, server: &str, prefix: &str, original: &str, exposed: &str) {
        if exposed != format!("{prefix}{original}") {
            self.renamed.push(Renamed {
                server: server.to_string(),
                original: original.to_string(),
                exposed: exposed.to_string(),
            });
        }
    }

    /// A process-unique number of this build of the registry.
    pub fn id(&self) -> u64 {
        self.id
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

    /// Looks up an exposed tool name (O(1), no locks). A name that is not exposed but is the
    /// original name of exactly one server's tool (as an MCP App calls its own server's tools)
    /// leads to that tool.
    pub fn tool(&self, exposed: &str) -> Option<&ExposedTool> {
        self.tool_routes
            .get(exposed)
            .or_else(|| self.tool_originals.get(exposed).and_then(Option::as_ref))
            .map(|&i| &self.tools[i])
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

    /// Names that differ from what their server's prefix would give (for the dashboard).
    pub fn renamed(&self) -> &[Renamed] {
        &self.renamed
    }

    /// What the connected servers offer together (see `add_capabilities`).
    pub fn capabilities(&self) -> &ServerCapabilities {
        &self.capabilities
    }

    /// Loopgate's instructions followed by every server's own, under its name.
    pub fn instructions(&self) -> &str {
        &self.instructions
    }

    /// The server that owns `uri` by the module rules.
    pub fn resource_owner(&self, uri: &str) -> Option<&str> {
        if let Some(s) = self.resource_routes.get(uri) {
            return Some(s);
        }
        let mut best: Option<&(String, String)> = None;
        for owner in &self.template_owners {
            let (prefix, _) = owner;
            if !prefix.is_empty()
                && uri.starts_with(prefix.as_str())
                && best.is_none_or(|(b, _)| prefix.len() > b.len())
            {
                best = Some(owner);
            }
        }
        best.map(|(_, s)| s.as_str())
            .or_else(|| self.app_uris.get(uri).map(String::as_str))
    }

    /// The server that has resource template `uri_template` (for completions).
    pub fn template_owner(&self, uri_template: &str) -> Option<&str> {
        self.template_routes.get(uri_template).map(String::as_str)
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

/// A hash of `value`'s JSON, for fingerprints of lists.
pub fn hash_json<T: serde::Serialize>(value: &T) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(value)
        .unwrap_or_default()
        .hash(&mut h);
    h.finish()
}

/// Shared handle type.
pub type SharedRegistry = Arc<Registry>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_prefixes_route_resources_and_ties_go_to_the_first_server() {
        let mut r = Registry::default();
        r.template_owners.push(("file:///".into(), "fs".into()));
        r.template_owners
            .push(("file:///home/".into(), "home".into()));
        r.template_owners
            .push(("file:///home/".into(), "later".into()));
        r.resource_routes.insert("mem://x".into(), "mem".into());
        r.app_uris.insert("ui://app/main".into(), "apps".into());
        assert_eq!(r.resource_owner("mem://x"), Some("mem"));
        assert_eq!(r.resource_owner("file:///home/a"), Some("home"));
        assert_eq!(r.resource_owner("file:///etc/a"), Some("fs"));
        assert_eq!(r.resource_owner("ui://app/main"), Some("apps"));
        assert_eq!(r.resource_owner("other://"), None);
    }
}
