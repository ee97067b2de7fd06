// The "Connect a client" side of the mock: the AI clients it knows, their config files — edited
// for real, the way the gateway does, but under the stand-in HOME — and the access token each
// wired client gets (accepted like the main one).

import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { HOME, PORT } from './options.mjs';

export const LOOPGATE_EXE = '/usr/local/bin/loopgate';
export const mcpUrl = () => `http://127.0.0.1:${PORT}/mcp`;
export const CLIENTS = [
  { id: 'claude-desktop', name: 'Claude Desktop', format: 'mcpServersStdio', path: ['.config', 'Claude', 'claude_desktop_config.json'] },
  { id: 'claude-code', name: 'Claude Code', format: 'mcpServersTypedHttp', path: ['.claude.json'] },
  { id: 'cursor', name: 'Cursor', format: 'mcpServersUrl', path: ['.cursor', 'mcp.json'] },
  { id: 'vscode', name: 'VS Code', format: 'vsCodeServers', path: ['.config', 'Code', 'User', 'mcp.json'] },
  { id: 'windsurf', name: 'Windsurf', format: 'mcpServersServerUrl', path: ['.codeium', 'windsurf', 'mcp_config.json'] },
  { id: 'gemini', name: 'Gemini CLI', format: 'mcpServersTypedHttp', path: ['.gemini', 'settings.json'] },
  { id: 'copilot', name: 'GitHub Copilot CLI', format: 'mcpServersTypedHttp', path: ['.copilot', 'mcp-config.json'] },
  { id: 'lmstudio', name: 'LM Studio', format: 'mcpServersUrl', path: ['.lmstudio', 'mcp.json'] },
  { id: 'kiro', name: 'Kiro', format: 'mcpServersUrl', path: ['.kiro', 'settings', 'mcp.json'] },
];
/** client id -> its own access token (accepted like the main one, as the gateway does). */
export const clientTokens = new Map();

const clientPath = (c) => join(HOME, ...c.path);
const serversKey = (c) => (c.format === 'vsCodeServers' ? 'servers' : 'mcpServers');

class ClientFileError extends Error {}

/** The client's file as an object ({} when missing); throws ClientFileError when not plain JSON. */
function readClientFile(c) {
  const path = clientPath(c);
  if (!existsSync(path)) return {};
  const text = readFileSync(path, 'utf8');
  if (!text.trim()) return {};
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ClientFileError(`${path} is not plain JSON (${e.message}); edit it by hand or fix it first — Loopgate left it unchanged`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new ClientFileError(`${path} is not plain JSON (the top level is not an object); edit it by hand or fix it first — Loopgate left it unchanged`);
  return doc;
}

function writeClientFile(c, doc) {
  const path = clientPath(c);
  let backup = null;
  if (existsSync(path)) {
    backup = `${path}.loopgate-backup-${Date.now()}`;
    copyFileSync(path, backup);
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, `${JSON.stringify(doc, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
  return { written: true, backup };
}

function clientEntry(c, token) {
  const headers = { Authorization: `Bearer ${token}` };
  switch (c.format) {
    case 'mcpServersStdio':
      return { command: LOOPGATE_EXE, args: ['connect'] };
    case 'mcpServersTypedHttp':
    case 'vsCodeServers':
      return { type: 'http', url: mcpUrl(), headers };
    case 'mcpServersServerUrl':
      return { serverUrl: mcpUrl(), headers };
    default:
      return { url: mcpUrl(), headers };
  }
}

export function clientState(c) {
  const path = clientPath(c);
  let wired;
  try {
    wired = readClientFile(c)[serversKey(c)]?.loopgate !== undefined;
  } catch {
    wired = null;
  }
  return {
    id: c.id,
    name: c.name,
    format: c.format,
    configPath: path,
    installed: existsSync(path) || (c.id !== 'claude-code' && existsSync(dirname(path))),
    wired,
    transport: c.format === 'mcpServersStdio' ? 'stdio' : 'http',
    speaksHttp: c.format !== 'mcpServersStdio',
    speaksStdio: true,
    toolLimit: c.id === 'vscode' ? 128 : null,
    detectedBy: existsSync(path) ? path : existsSync(dirname(path)) ? dirname(path) : null,
  };
}

export function installClient(c) {
  const doc = readClientFile(c);
  const key = serversKey(c);
  if (doc[key] !== undefined && (typeof doc[key] !== 'object' || doc[key] === null || Array.isArray(doc[key]))) {
    throw new ClientFileError(`${clientPath(c)} is not plain JSON ("${key}" is not an object); edit it by hand or fix it first — Loopgate left it unchanged`);
  }
  if (c.format !== 'mcpServersStdio' && !clientTokens.has(c.id)) clientTokens.set(c.id, `lgc_${randomBytes(18).toString('base64url')}`);
  const entry = clientEntry(c, clientTokens.get(c.id));
  doc[key] ??= {};
  if (JSON.stringify(doc[key].loopgate) === JSON.stringify(entry)) return { written: false, backup: null };
  doc[key].loopgate = entry;
  return writeClientFile(c, doc);
}

export function uninstallClient(c) {
  const doc = readClientFile(c);
  const key = serversKey(c);
  const servers = doc[key];
  let change = { written: false, backup: null };
  if (servers && typeof servers === 'object' && servers.loopgate !== undefined) {
    delete servers.loopgate;
    if (Object.keys(servers).length === 0) delete doc[key];
    change = writeClientFile(c, doc);
  }
  clientTokens.delete(c.id);
  return change;
}

/** Resets the client files under HOME: `clean` (no client anywhere) or `demo` (one of each state). */
export function loadClients(preset) {
  clientTokens.clear();
  for (const c of CLIENTS) {
    const path = clientPath(c);
    const dir = dirname(path);
    if (existsSync(dir)) {
      for (const f of readdirSync(dir)) if (f === basename(path) || f.startsWith(`${basename(path)}.loopgate-backup-`) || f === `${basename(path)}.tmp`) unlinkSync(join(dir, f));
    }
    // Drop the (now empty) directories the mock made, innermost first; never anything else.
    for (let d = dir; d.startsWith(HOME + sep); d = dirname(d)) {
      try {
        rmdirSync(d);
      } catch {
        break;
      }
    }
  }
  if (preset !== 'demo') return;
  const put = (id, content) => {
    const path = clientPath(CLIENTS.find((c) => c.id === id));
    mkdirSync(dirname(path), { recursive: true });
    if (content !== null) writeFileSync(path, typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`);
  };
  put('claude-desktop', { mcpServers: { filesystem: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/home/you/Documents'] } }, globalShortcut: 'Alt+Space' });
  clientTokens.set('claude-code', `lgc_${randomBytes(18).toString('base64url')}`);
  put('claude-code', { numStartups: 42, theme: 'dark', mcpServers: { loopgate: clientEntry(CLIENTS[1], clientTokens.get('claude-code')) } });
  put('cursor', null); // ~/.cursor exists, mcp.json doesn't yet
  put('windsurf', '// Windsurf MCP servers\n{\n  "mcpServers": {}\n}\n');
}
