//! Search mode (a profile's `"toolSearch": true`): instead of every tool, a client gets two
//! tools — [`SEARCH_TOOL`] finds the profile's tools by a natural-language query, ranked by
//! BM25 over their names, titles, descriptions and parameter names (the `bm25` crate, English
//! stemming and stop words), with their schemas; [`CALL_TOOL`] calls one by name. A 400-tool
//! setup then costs a client a few hundred tokens of tool definitions instead of tens of
//! thousands. Calling a found tool by its own name works too.
//!
//! Indexes are built per profile and registry on first use and cached ([`SearchCache`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bm25::{Language, SearchEngine, SearchEngineBuilder};
use rmcp::model::{CallToolRequestParams, CallToolResult, ContentBlock, ErrorData, Tool};
use serde_json::{json, Value};

use super::view::View;

/// The search tool's name.
pub const SEARCH_TOOL: &str = "search_tools";
/// The call tool's name.
pub const CALL_TOOL: &str = "call_tool";
/// Results a search returns unless asked for another number (at most [`MAX_RESULTS`]).
pub const DEFAULT_RESULTS: usize = 5;
/// Most results one search returns.
pub const MAX_RESULTS: usize = 20;

/// The two tools a search-mode client sees.
pub fn meta_tools() -> Vec<Tool> {
    let tool = |name: &str, description: &str, schema: Value| {
        let schema = schema.as_object().cloned().unwrap_or_default();
        Tool::new(name.to_string(), description.to_string(), Arc::new(schema))
    };
    vec![
        tool(
            SEARCH_TOOL,
            "Find tools by what you want to do. Returns the best matching tools with their \
             descriptions and input schemas; then call one with call_tool (or by its name).",
            json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "What you want to do, in a few words"},
                    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_RESULTS, "description": "How many tools to return (default 5)"}
                },
                "required": ["query"]
            }),
        ),
        tool(
            CALL_TOOL,
            "Call a tool found with search_tools, by its name, with its arguments.",
            json!({
                "type": "object",
                "properties": {
                    "name": {"type": "string", "description": "The tool's name, as search_tools returned it"},
                    "arguments": {"type": "object", "description": "The tool's arguments, per its input schema"}
                },
                "required": ["name"]
            }),
        ),
    ]
}

/// What a call in search mode turned out to be.
pub enum MetaCall {
    /// A search, answered here.
    Answered(CallToolResult),
    /// A call of a real tool: the request now names it (and carries its arguments).
    Call,
}

/// Handles `request` for a search-mode client: answers [`SEARCH_TOOL`], unwraps
/// [`CALL_TOOL`] into the call it stands for, leaves a call by a tool's own name as it is.
/// Errors: invalid params when the search has no query or the call no tool name.
pub fn meta_call(
    view: &View<'_>,
    cache: &SearchCache,
    request: &mut CallToolRequestParams,
) -> Result<MetaCall, ErrorData> {
    let args = request.arguments.clone().unwrap_or_default();
    match request.name.as_ref() {
        SEARCH_TOOL => {
            let query = args
                .get("query")
                .and_then(Value::as_str)
                .filter(|q| !q.trim().is_empty())
                .ok_or_else(|| ErrorData::invalid_params("search_tools needs a \"query\"", None))?;
            let limit = args
                .get("limit")
                .and_then(Value::as_u64)
                .map_or(DEFAULT_RESULTS, |l| (l as usize).clamp(1, MAX_RESULTS));
            let index = cache.index(view);
            let found: Vec<Value> = index
                .search(query, limit)
                .into_iter()
                .map(|found| {
                    let tool = found.tool;
                    let mut entry = json!({
                        "name": tool.name,
                        "title": tool.title,
                        "description": tool.description,
                        "inputSchema": tool.input_schema,
                        "score": (found.score * 100.0).round() / 100.0,
                    });
                    if !found.also.is_empty() {
                        entry["alsoAs"] = json!(found.also);
                    }
                    entry
                })
                .collect();
            let text = serde_json::to_string_pretty(&found).unwrap_or_default();
            let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
            result.structured_content = Some(json!({ "tools": found }));
            Ok(MetaCall::Answered(result))
        }
        CALL_TOOL => {
            let name = args.get("name").and_then(Value::as_str).ok_or_else(|| {
                ErrorData::invalid_params("call_tool needs a tool \"name\"", None)
            })?;
            request.name = name.to_string().into();
            request.arguments = args.get("arguments").and_then(Value::as_object).cloned();
            Ok(MetaCall::Call)
        }
        _ => Ok(MetaCall::Call),
    }
}

/// One tool definition and every name it is offered under (the same server under several
/// names offers the same tool several times; a search shows it once).
struct Definition {
    tools: Vec<Tool>,
}

/// A tool a search found.
pub struct Found<'a> {
    /// The tool (the first server, in config order, that offers this definition).
    pub tool: &'a Tool,
    /// The names the same definition is also offered under.
    pub also: Vec<&'a str>,
    /// Its BM25 score (higher is better).
    pub score: f32,
}

/// A BM25 index over one scope's tools, one document per distinct definition.
pub struct ToolIndex {
    definitions: Vec<Definition>,
    engine: SearchEngine<usize>,
}

impl ToolIndex {
    /// Indexes `tools`: each exposed tool with the name its server gives it.
    pub fn build(tools: Vec<(Tool, String)>) -> ToolIndex {
        let mut definitions: Vec<Definition> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut documents = Vec::new();
        for (tool, original) in tools {
            let key =
                serde_json::to_string(&(&original, &tool.description, tool.input_schema.as_ref()))
                    .unwrap_or_default();
            match seen.get(&key) {
                Some(&i) => definitions[i].tools.push(tool),
                None => {
                    seen.insert(key, definitions.len());
                    documents.push(bm25::Document::new(
                        definitions.len(),
                        document_text(&tool, &original),
                    ));
                    definitions.push(Definition { tools: vec![tool] });
                }
            }
        }
        let engine =
            SearchEngineBuilder::<usize>::with_documents(Language::English, documents).build();
        ToolIndex {
            definitions,
            engine,
        }
    }

    /// The `limit` best distinct tools for `query`, best first.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Found<'_>> {
        self.engine
            .search(&expand(&words(query)), limit)
            .into_iter()
            .filter_map(|r| {
                let def = self.definitions.get(r.document.id)?;
                Some(Found {
                    tool: def.tools.first()?,
                    also: def.tools[1..].iter().map(|t| t.name.as_ref()).collect(),
                    score: r.score,
                })
            })
            .collect()
    }

    /// Number of distinct tool definitions indexed.
    pub fn len(&self) -> usize {
        self.definitions.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.definitions.is_empty()
    }
}

/// What a tool is found by: its own name (split into words, and weighted by repeating it),
/// title, description and its parameters' names.
fn document_text(tool: &Tool, original: &str) -> String {
    let name = words(original);
    let mut text = format!("{name} {name}");
    for part in [tool.title.as_deref(), tool.description.as_deref()]
        .into_iter()
        .flatten()
    {
        text.push(' ');
        text.push_str(&words(part));
    }
    if let Some(Value::Object(props)) = tool.input_schema.get("properties") {
        for param in props.keys() {
            text.push(' ');
            text.push_str(&words(param));
        }
    }
    text
}

/// `text` with identifiers split into words: `get_weather`, `getWeather`, `get-weather` and
/// `server__get_weather` all become `get weather`.
pub fn words(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut prev_lower = false;
    for c in text.chars() {
        if c == '_' || c == '-' || c == '.' || c == '/' {
            out.push(' ');
            prev_lower = false;
        } else {
            if c.is_uppercase() && prev_lower {
                out.push(' ');
            }
            prev_lower = c.is_lowercase() || c.is_ascii_digit();
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// A scope's index and the registry build it was made from.
type Cached = (u64, Arc<ToolIndex>);

/// Words that mean the same to someone looking for a tool (tool descriptions say "write"
/// where users say "save"). A query is widened with every group one of its words is in.
const SYNONYMS: &[&[&str]] = &[
    &["save", "write", "store", "persist"],
    &["read", "get", "fetch", "retrieve", "load"],
    &["show", "display", "view", "print"],
    &["delete", "remove", "erase", "forget"],
    &["create", "make", "new"],
    &["stage", "add"],
    &["list", "enumerate"],
    &["search", "find", "query", "lookup"],
    &["edit", "change", "modify", "update"],
    &["move", "rename"],
    &["folder", "directory"],
    &["web", "url", "page", "website"],
    &["remember", "memory", "knowledge"],
    &["time", "clock", "timezone"],
    &["think", "reason", "thought", "step"],
    &["sum", "add", "total", "plus"],
];
/// `query` widened with the synonyms of its words (which count half as much as the words
/// themselves: those are repeated).
fn expand(query: &str) -> String {
    let mut out = format!("{query} {query}");
    for word in query.split_whitespace() {
        for group in SYNONYMS.iter().filter(|g| g.contains(&word)) {
            for other in group.iter().filter(|w| **w != word) {
                out.push(' ');
                out.push_str(other);
            }
        }
    }
    out
}

/// Indexes per scope, rebuilt when the registry changes.
#[derive(Default)]
pub struct SearchCache {
    indexes: Mutex<HashMap<Option<String>, Cached>>,
}

impl SearchCache {
    /// The index of `view`'s tools (built on first use for this registry and scope).
    pub fn index(&self, view: &View<'_>) -> Arc<ToolIndex> {
        let key = view.scope().key().map(str::to_string);
        let generation = view.registry_id();
        if let Some((g, index)) = self
            .indexes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            if *g == generation {
                return index.clone();
            }
        }
        let tools = view
            .exposed_tools()
            .map(|e| (e.tool.clone(), e.route.original.clone()))
            .collect();
        let index = Arc::new(ToolIndex::build(tools));
        self.indexes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, (generation, index.clone()));
        index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(name: &str, description: &str, params: &[&str]) -> Tool {
        let props: serde_json::Map<String, Value> = params
            .iter()
            .map(|p| (p.to_string(), json!({"type": "string"})))
            .collect();
        let schema = json!({"type": "object", "properties": props});
        Tool::new(
            name.to_string(),
            description.to_string(),
            Arc::new(schema.as_object().cloned().unwrap()),
        )
    }

    #[test]
    fn identifiers_become_words() {
        assert_eq!(
            words("github__createPullRequest"),
            "github  create pull request"
        );
        assert_eq!(words("get-current_time"), "get current time");
    }

    #[test]
    fn finds_tools_by_what_they_do() {
        let mut tools = Vec::new();
        for copy in ["fs", "fs2"] {
            tools.push(tool(
                &format!("{copy}__read_file"),
                "Read the complete contents of a file",
                &["path"],
            ));
            tools.push(tool(
                &format!("{copy}__write_file"),
                "Create a new file or overwrite one",
                &["path", "content"],
            ));
        }
        tools.push(tool(
            "time__get_current_time",
            "Get the current time in a timezone",
            &["timezone"],
        ));
        tools.push(tool(
            "memory__create_entities",
            "Create entities in the knowledge graph",
            &["entities"],
        ));
        let index = ToolIndex::build(
            tools
                .into_iter()
                .map(|t| {
                    let original = t.name.split_once("__").unwrap().1.to_string();
                    (t, original)
                })
                .collect(),
        );
        let best = |q: &str| index.search(q, 1)[0].tool.name.to_string();
        assert_eq!(best("what time is it in Tokyo"), "time__get_current_time");
        assert_eq!(best("read what is in a file"), "fs__read_file");
        assert_eq!(best("save text to a file"), "fs__write_file");
        assert_eq!(
            best("remember entities in the graph"),
            "memory__create_entities"
        );
        assert_eq!(index.len(), 4, "one document per distinct definition");
        let found = index.search("read a file", 1);
        assert_eq!(
            found[0].also,
            ["fs2__read_file"],
            "the copy is named, not repeated"
        );
    }
}
