//! Resource URIs servers hand out in results (`resource_link` content) without listing them:
//! the gateway remembers which server gave each, so a client reading it reaches that server.
//! Bounded: the oldest links are forgotten beyond [`MAX_LINKS`].

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use rmcp::model::{ContentBlock, ServerResult};

/// Most links remembered.
pub const MAX_LINKS: usize = 4096;

/// URI → server of the links seen in results.
#[derive(Default)]
pub struct Links {
    inner: Mutex<(HashMap<String, String>, VecDeque<String>)>,
}

impl Links {
    /// Remembers the `resource_link` URIs in `result` (a tool result) as `server`'s.
    pub fn learn(&self, server: &str, result: &ServerResult) {
        let ServerResult::CallToolResult(r) = result else {
            return;
        };
        for content in &r.content {
            if let ContentBlock::ResourceLink(link) = content {
                self.add(&link.uri, server);
            }
        }
    }

    fn add(&self, uri: &str, server: &str) {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (map, order) = &mut *guard;
        if map.insert(uri.to_string(), server.to_string()).is_none() {
            order.push_back(uri.to_string());
            while order.len() > MAX_LINKS {
                if let Some(old) = order.pop_front() {
                    map.remove(&old);
                }
            }
        }
    }

    /// The server that handed out `uri`, if any did.
    pub fn owner(&self, uri: &str) -> Option<String> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .get(uri)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_links_from_tool_results() {
        let links = Links::default();
        let result: rmcp::model::CallToolResult = serde_json::from_value(serde_json::json!({
            "content": [
                {"type": "text", "text": "see the file"},
                {"type": "resource_link", "uri": "file:///tmp/report.txt", "name": "report"}
            ]
        }))
        .unwrap();
        links.learn("fs", &ServerResult::CallToolResult(result));
        assert_eq!(links.owner("file:///tmp/report.txt").as_deref(), Some("fs"));
        assert_eq!(links.owner("file:///other"), None);
        for i in 0..MAX_LINKS + 1 {
            links.add(&format!("x://{i}"), "s");
        }
        assert_eq!(links.owner("file:///tmp/report.txt"), None, "bounded");
    }
}
