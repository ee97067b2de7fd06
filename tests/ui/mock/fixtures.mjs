// Canned tools the mock's servers offer once "connected": server-everything's, the Python SDK
// server's, server-memory's, and a lone `ping` for any other server.

const everythingTools = [
  { originalName: 'echo', description: 'Echoes back the input string', inputSchema: { type: 'object', properties: { message: { type: 'string', description: 'Message to echo' } }, required: ['message'], additionalProperties: false, $schema: 'http://json-schema.org/draft-07/schema#' }, annotations: { readOnlyHint: true, openWorldHint: false } },
  { originalName: 'get-sum', description: 'Returns the sum of two numbers', inputSchema: { type: 'object', properties: { a: { type: 'number', description: 'First number' }, b: { type: 'number', description: 'Second number' } }, required: ['a', 'b'] }, annotations: { readOnlyHint: true, idempotentHint: true } },
  { originalName: 'get-env', description: 'Returns all environment variables, helpful for debugging MCP server configuration', inputSchema: { type: 'object', properties: {} } },
  { originalName: 'get-tiny-image', description: 'Returns a tiny MCP logo image.', inputSchema: { type: 'object', properties: {} } },
  { originalName: 'trigger-long-running-operation', description: 'Demonstrates a long running operation with progress updates.', inputSchema: { type: 'object', properties: { duration: { type: 'number', default: 10, description: 'Duration of the operation in seconds' }, steps: { type: 'number', default: 5, minimum: 1, description: 'Number of steps in the operation' } } } },
  { originalName: 'get-annotated-message', description: 'Demonstrates how annotations can be used to provide metadata about content.', inputSchema: { type: 'object', properties: { messageType: { type: 'string', enum: ['error', 'success', 'debug'], description: 'Type of message to demonstrate different annotation patterns' }, includeImage: { type: 'boolean', default: false, description: 'Whether to include an example image' } }, required: ['messageType'] } },
  { originalName: 'get-structured-content', title: 'Structured weather', description: 'Returns structured content along with an output schema for client data validation', inputSchema: { type: 'object', properties: { location: { type: 'string', enum: ['New York', 'Chicago', 'Los Angeles'], description: 'Choose city' } }, required: ['location'] }, outputSchema: { type: 'object', properties: { temperature: { type: 'number' }, conditions: { type: 'string' }, humidity: { type: 'number' } }, required: ['temperature', 'conditions', 'humidity'] }, annotations: { readOnlyHint: true, openWorldHint: true } },
  { originalName: 'search-issues', title: 'Search issues', description: 'Searches the demo issue tracker.\n\nFilters combine with AND. Results are sorted by the given keys in order.', inputSchema: { type: 'object', properties: { query: { type: 'string', description: 'Free-text query', minLength: 1 }, filters: { type: 'object', description: 'Narrow the results', properties: { state: { type: 'string', enum: ['open', 'closed', 'all'], default: 'open' }, labels: { type: 'array', items: { type: 'string' }, description: 'Issues must carry every label' }, assignee: { anyOf: [{ type: 'string' }, { type: 'null' }], description: 'Login of the assignee, or null for unassigned' }, created: { type: 'object', description: 'Creation date range', properties: { after: { type: 'string', format: 'date-time' }, before: { type: 'string', format: 'date-time' } } } }, required: ['state'] }, sort: { type: 'array', description: 'Sort keys, most significant first', items: { type: 'object', properties: { field: { type: 'string', enum: ['created', 'updated', 'comments'] }, direction: { type: 'string', enum: ['asc', 'desc'], default: 'desc' } }, required: ['field'] } }, limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 } }, required: ['query'] }, annotations: { readOnlyHint: true, openWorldHint: true } },
  { originalName: 'delete-issue', description: 'Permanently deletes an issue from the demo tracker.', inputSchema: { type: 'object', properties: { id: { type: 'integer', description: 'Issue number' } }, required: ['id'] }, annotations: { destructiveHint: true, idempotentHint: true } },
  { originalName: 'sample-llm', description: "Samples from an LLM using MCP's sampling feature", inputSchema: { type: 'object', properties: { prompt: { type: 'string', description: 'The prompt to send to the LLM' }, maxTokens: { type: 'number', default: 100, description: 'Maximum number of tokens to generate' } }, required: ['prompt'] } },
  { originalName: 'toggle-simulated-logging', description: 'Toggles simulated, random-leveled logging on or off.', inputSchema: { type: 'object', properties: {} } },
  { originalName: 'gzip-file-as-resource', description: 'Compresses a single file using gzip compression and returns it as a resource.', inputSchema: { type: 'object', properties: { name: { type: 'string', description: 'Name of the output file', default: 'README.md.gz' }, data: { type: 'string', format: 'uri', description: 'URL or data URI of the file content to compress' }, outputType: { type: 'string', enum: ['resourceLink', 'resource'], default: 'resourceLink' } } } },
  { originalName: 'get-resource-links', description: 'Returns up to ten resource links that reference different types of resources', inputSchema: { type: 'object', properties: { count: { type: 'number', minimum: 1, maximum: 10, default: 3 } } } },
];

const pyTools = [
  { originalName: 'add', description: 'Add two numbers', inputSchema: { type: 'object', properties: { a: { title: 'A', type: 'integer' }, b: { title: 'B', type: 'integer' } }, required: ['a', 'b'], title: 'addArguments' }, outputSchema: { type: 'object', properties: { result: { title: 'Result', type: 'integer' } }, required: ['result'] } },
  { originalName: 'echo', description: 'Echo a message', inputSchema: { type: 'object', properties: { message: { title: 'Message', type: 'string' } }, required: ['message'], title: 'echoArguments' } },
];

const memoryTools = ['create_entities', 'create_relations', 'add_observations', 'delete_entities', 'delete_observations', 'delete_relations', 'read_graph', 'search_nodes', 'open_nodes'].map((n) => ({
  originalName: n,
  description: `Knowledge graph: ${n.replace(/_/g, ' ')}`,
  inputSchema: n === 'read_graph' ? { type: 'object', properties: {} } : { type: 'object', properties: { names: { type: 'array', items: { type: 'string' } } } },
}));

/** The tools a server offers, by its name (or, for server-memory, its arguments). */
export function toolsFor(s) {
  if (s.name === 'everything') return everythingTools;
  if (s.name === 'py') return pyTools;
  if (/memory/.test(s.name) || /server-memory|memory/.test((s.entry.args ?? []).join(' '))) return memoryTools;
  return [{ originalName: 'ping', description: 'Replies with pong', inputSchema: { type: 'object', properties: {} } }];
}

/** GET /api/suggestions, as the gateway answers on a machine with Claude Code installed. */
export const SUGGESTIONS = [
  { name: 'claude-code', title: 'Claude Code', description: "Claude Code's own tools (Read, Edit, Bash, WebFetch, …) through claude mcp serve; no API key needed to start", entry: { command: '/usr/local/bin/claude', args: ['mcp', 'serve'] }, program: 'claude', detected: '/usr/local/bin/claude', needs: [] },
  { name: 'everything', title: 'Everything (MCP reference server)', description: 'Every MCP feature to try clients with: tools, resources, prompts, sampling, elicitation', entry: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-everything@2026.8.31', 'stdio'] }, program: 'npx', detected: '/usr/bin/npx', needs: [] },
  { name: 'memory', title: 'Memory', description: 'A knowledge graph clients can keep notes in across sessions', entry: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory@2026.8.31'] }, program: 'npx', detected: '/usr/bin/npx', needs: [] },
  { name: 'fetch', title: 'Fetch', description: 'Fetches web pages as Markdown', entry: { command: 'uvx', args: ['mcp-server-fetch'] }, program: 'uvx', detected: null, needs: [] },
  { name: 'github', title: 'GitHub', description: "GitHub's remote MCP server (signs in with OAuth)", entry: { url: 'https://api.githubcopilot.com/mcp/' }, program: null, detected: null, needs: [] },
];
