//! The registry as one caller sees it: only what its [`Scope`] admits. A name outside the
//! scope is unknown here exactly as a name no server offers.
//!
//! For the unscoped caller (no profile) every method answers from the registry's own
//! precomputed lists, so the common case costs no filtering.

use rmcp::model::{Prompt, Resource, ResourceTemplate, ServerCapabilities, Tool};

use super::registry::{ExposedTool, Registry, Route};
use super::scope::Scope;

/// A [`Registry`] seen through a [`Scope`].
#[derive(Clone, Copy)]
pub struct View<'a> {
    reg: &'a Registry,
    scope: &'a Scope,
}

impl<'a> View<'a> {
    /// `reg` as `scope` sees it.
    pub fn new(reg: &'a Registry, scope: &'a Scope) -> Self {
        View { reg, scope }
    }

    /// The scope.
    pub fn scope(&self) -> &'a Scope {
        self.scope
    }

    /// The registry's build number ([`Registry::id`]).
    pub fn registry_id(&self) -> u64 {
        self.reg.id()
    }

    /// The tools in scope with their routes, in registry order.
    pub fn exposed_tools(&self) -> impl Iterator<Item = &'a ExposedTool> + 'a {
        let scope = self.scope;
        self.reg
            .exposed_tools()
            .iter()
            .filter(move |t| scope.has_tool(&t.route.server, &t.route.original))
    }

    /// The tools in scope, as clients see them.
    pub fn tools(&self) -> Vec<Tool> {
        self.exposed_tools().map(|t| t.tool.clone()).collect()
    }

    /// An exposed tool by name (or a server's own name for it, see [`Registry::tool`]), when
    /// in scope.
    pub fn tool(&self, name: &str) -> Option<&'a ExposedTool> {
        self.reg
            .tool(name)
            .filter(|t| self.scope.has_tool(&t.route.server, &t.route.original))
    }

    /// The prompts in scope.
    pub fn prompts(&self) -> Vec<Prompt> {
        if self.scope.is_everything() {
            return self.reg.prompts().to_vec();
        }
        self.reg
            .prompts()
            .iter()
            .filter(|p| self.prompt(&p.name).is_some())
            .cloned()
            .collect()
    }

    /// The route of an exposed prompt name, when in scope.
    pub fn prompt(&self, name: &str) -> Option<&'a Route> {
        self.reg
            .prompt(name)
            .filter(|r| self.scope.has_server(&r.server))
    }

    /// The resources in scope.
    pub fn resources(&self) -> Vec<Resource> {
        if self.scope.is_everything() {
            return self.reg.resources().to_vec();
        }
        self.reg
            .resources()
            .iter()
            .filter(|r| self.resource_owner(&r.uri).is_some())
            .cloned()
            .collect()
    }

    /// The resource templates in scope.
    pub fn resource_templates(&self) -> Vec<ResourceTemplate> {
        if self.scope.is_everything() {
            return self.reg.resource_templates().to_vec();
        }
        self.reg
            .resource_templates()
            .iter()
            .filter(|t| self.template_owner(&t.uri_template).is_some())
            .cloned()
            .collect()
    }

    /// The server that owns `uri` ([`Registry::resource_owner`]), when in scope.
    pub fn resource_owner(&self, uri: &str) -> Option<&'a str> {
        self.reg
            .resource_owner(uri)
            .filter(|s| self.scope.has_server(s))
    }

    /// The server with resource template `uri_template`, when in scope.
    pub fn template_owner(&self, uri_template: &str) -> Option<&'a str> {
        self.reg
            .template_owner(uri_template)
            .filter(|s| self.scope.has_server(s))
    }

    /// What the servers in scope offer together.
    pub fn capabilities(&self) -> ServerCapabilities {
        if self.scope.is_everything() {
            return self.reg.capabilities().clone();
        }
        self.reg.capabilities_of(|s| self.scope.has_server(s))
    }

    /// Loopgate's instructions and those of the servers in scope.
    pub fn instructions(&self) -> String {
        if self.scope.is_everything() {
            return self.reg.instructions().to_string();
        }
        self.reg.instructions_of(|s| self.scope.has_server(s))
    }

    /// A value that changes whenever the tools, prompts or resources in scope change (see
    /// [`Registry::fingerprint`]); a search-mode scope's tool list never changes.
    pub fn fingerprint(&self) -> (u64, u64, u64) {
        if self.scope.is_everything() {
            return self.reg.fingerprint();
        }
        let tools: Vec<Tool> = if self.scope.tool_search() {
            Vec::new()
        } else {
            self.tools()
        };
        (
            super::registry::hash_json(&tools),
            super::registry::hash_json(&self.prompts()),
            super::registry::hash_json(&(
                self.resources().iter().map(|r| &r.uri).collect::<Vec<_>>(),
                self.resource_templates()
                    .iter()
                    .map(|t| &t.uri_template)
                    .collect::<Vec<_>>(),
            )),
        )
    }
}
