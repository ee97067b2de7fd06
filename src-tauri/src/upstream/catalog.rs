//! Listing what a server offers: every page of its tools, prompts, resources and resource
//! templates — each only when the server declares the capability (a server without tools may
//! still offer prompts and resources).

use rmcp::model::{
    ClientRequest, ListPromptsRequest, ListResourceTemplatesRequest, ListResourcesRequest,
    ListToolsRequest, PaginatedRequestParams, Prompt, Resource, ResourceTemplate, ServerResult,
    Tool,
};

use super::connection::{Connection, RequestOptions, UpstreamError};
use super::state::Catalog;

/// Most pages followed when listing one kind of item from a backend (guards against a backend
/// whose cursors never end).
pub const MAX_LIST_PAGES: usize = 1000;

/// Everything `connection`'s server offers. Errors: listing tools failed (prompts and
/// resources that cannot be listed are left empty, with a note in the log).
pub async fn list(connection: &Connection) -> Result<Catalog, UpstreamError> {
    let caps = connection.peer_info().map(|i| i.capabilities.clone());
    let has = |f: fn(&rmcp::model::ServerCapabilities) -> bool| caps.as_ref().is_some_and(f);
    let tools = if has(|c| c.tools.is_some()) {
        list_tools(connection).await?
    } else {
        Vec::new()
    };
    let prompts = if has(|c| c.prompts.is_some()) {
        list_prompts(connection).await.unwrap_or_else(|e| {
            tracing::warn!(server = %connection.name(), "listing prompts failed: {e}");
            Vec::new()
        })
    } else {
        Vec::new()
    };
    let (resources, resource_templates) = if has(|c| c.resources.is_some()) {
        list_resources(connection).await.unwrap_or_else(|e| {
            tracing::warn!(server = %connection.name(), "listing resources failed: {e}");
            Default::default()
        })
    } else {
        Default::default()
    };
    Ok(Catalog {
        tools,
        prompts,
        resources,
        resource_templates,
    })
}

/// Follows `next_cursor` through every page: `request` builds the page request for a cursor,
/// `page` takes a page's items and next cursor out of the answer (`None`: not a page of this
/// list).
async fn all_pages<T>(
    connection: &Connection,
    method: &str,
    request: impl Fn(Option<String>) -> ClientRequest,
    page: impl Fn(ServerResult) -> Option<(Vec<T>, Option<String>)>,
) -> Result<Vec<T>, UpstreamError> {
    let mut out = Vec::new();
    let mut cursor = None;
    for _ in 0..MAX_LIST_PAGES {
        let answer = connection
            .request(request(cursor), RequestOptions::default())
            .await?;
        let Some((items, next)) = page(answer) else {
            return Err(UpstreamError::Disconnected {
                server: connection.name().to_string(),
                message: format!("unexpected answer to {method}"),
            });
        };
        out.extend(items);
        cursor = next;
        if cursor.is_none() {
            break;
        }
    }
    Ok(out)
}

fn paged(cursor: Option<String>) -> PaginatedRequestParams {
    PaginatedRequestParams::default().with_cursor(cursor)
}

/// Every tool the backend lists, noted on the connection ([`Connection::note_tools`]).
pub async fn list_tools(connection: &Connection) -> Result<Vec<Tool>, UpstreamError> {
    let tools = all_pages(
        connection,
        "tools/list",
        |c| ClientRequest::ListToolsRequest(ListToolsRequest::with_param(paged(c))),
        |r| match r {
            ServerResult::ListToolsResult(p) => Some((p.tools, p.next_cursor)),
            _ => None,
        },
    )
    .await?;
    connection.note_tools(&tools);
    Ok(tools)
}

/// Every prompt the backend lists.
pub async fn list_prompts(connection: &Connection) -> Result<Vec<Prompt>, UpstreamError> {
    all_pages(
        connection,
        "prompts/list",
        |c| ClientRequest::ListPromptsRequest(ListPromptsRequest::with_param(paged(c))),
        |r| match r {
            ServerResult::ListPromptsResult(p) => Some((p.prompts, p.next_cursor)),
            _ => None,
        },
    )
    .await
}

/// Every resource and resource template the backend lists (templates are optional even with
/// the resources capability: an error listing them means none).
pub async fn list_resources(
    connection: &Connection,
) -> Result<(Vec<Resource>, Vec<ResourceTemplate>), UpstreamError> {
    let resources = all_pages(
        connection,
        "resources/list",
        |c| ClientRequest::ListResourcesRequest(ListResourcesRequest::with_param(paged(c))),
        |r| match r {
            ServerResult::ListResourcesResult(p) => Some((p.resources, p.next_cursor)),
            _ => None,
        },
    )
    .await?;
    let templates = match all_pages(
        connection,
        "resources/templates/list",
        |c| {
            ClientRequest::ListResourceTemplatesRequest(ListResourceTemplatesRequest::with_param(
                paged(c),
            ))
        },
        |r| match r {
            ServerResult::ListResourceTemplatesResult(p) => {
                Some((p.resource_templates, p.next_cursor))
            }
            _ => None,
        },
    )
    .await
    {
        Ok(t) => t,
        Err(UpstreamError::Mcp { .. }) => Vec::new(),
        Err(e) => return Err(e),
    };
    Ok((resources, templates))
}
