// The Profiles page without the UI: the editor's draft (which servers are in, which of their
// tools are hidden, search mode), the ProfileSettings it saves and the draft a saved profile
// gives back, the profile-name check, and the figures that compare a profile with "everything".
// Pure (no DOM): unit-tested by `npm test` (profiles.test.ts).

import type { Cost, ProfileSettings, ProfileView } from '../api';

/** What the profile editor's checkboxes stand for. */
export interface ProfileDraft {
  /** Its servers; null: every server, also ones added later. */
  servers: string[] | null;
  /** Per server, the tools it hides (the server's own names). Kept for a server that is left
   *  out while editing, so checking it again brings them back; dropped on save. */
  hidden: Record<string, string[]>;
  /** Search mode: `search_tools` + `call_tool` instead of every tool. */
  toolSearch: boolean;
}

/** A tool as the editor needs it (a ServerTool of GET /api/servers/{name}/tools). */
export interface ToolLike {
  originalName: string;
  /** False when the server's own switch hides it from every client. */
  enabled: boolean;
}

/** A new profile: every server, nothing hidden. */
export function emptyDraft(): ProfileDraft {
  return { servers: null, hidden: {}, toolSearch: false };
}

/** The draft of a saved profile's settings. */
export function draftFrom(settings: ProfileSettings): ProfileDraft {
  const hidden: Record<string, string[]> = {};
  for (const [server, tools] of Object.entries(settings.disabledTools)) if (tools.length) hidden[server] = [...tools];
  return { servers: settings.servers === null ? null : [...settings.servers], hidden, toolSearch: settings.toolSearch };
}

/** `names` in the order of `known` (the servers' config order); names not in `known` last. */
function ordered(names: string[], known: string[]): string[] {
  const rank = (n: string) => {
    const i = known.indexOf(n);
    return i < 0 ? known.length : i;
  };
  return [...new Set(names)].sort((a, b) => rank(a) - rank(b));
}

export function includes(d: ProfileDraft, server: string): boolean {
  return d.servers === null || d.servers.includes(server);
}

/** Checks or unchecks server `server`; `known` is every server there is (unchecking one while
 *  the draft has every server keeps all the others). */
export function setServer(d: ProfileDraft, server: string, on: boolean, known: string[]): ProfileDraft {
  if (d.servers === null) return on ? d : { ...d, servers: known.filter((n) => n !== server) };
  const servers = on ? ordered([...d.servers, server], known) : d.servers.filter((n) => n !== server);
  return { ...d, servers };
}

/** "Every server, also ones added later": on is `servers: null`; off keeps today's servers, as a list. */
export function setEveryServer(d: ProfileDraft, on: boolean, known: string[]): ProfileDraft {
  if (on) return { ...d, servers: null };
  return d.servers === null ? { ...d, servers: [...known] } : d;
}

export function isHidden(d: ProfileDraft, server: string, tool: string): boolean {
  return (d.hidden[server] ?? []).includes(tool);
}

/** Shows (`shown`) or hides `tools` of `server` in the profile. */
export function setTools(d: ProfileDraft, server: string, tools: string[], shown: boolean): ProfileDraft {
  const now = d.hidden[server] ?? [];
  const next = shown ? now.filter((t) => !tools.includes(t)) : [...now, ...tools.filter((t) => !now.includes(t))];
  const hidden = { ...d.hidden };
  if (next.length) hidden[server] = next;
  else delete hidden[server];
  return { ...d, hidden };
}

/** The body of PUT /api/profiles/{name}: servers in config order; hidden tools only of servers
 *  the profile has (the gateway refuses the others). */
export function settingsOf(d: ProfileDraft, known: string[]): ProfileSettings {
  const disabledTools: Record<string, string[]> = {};
  for (const server of ordered(Object.keys(d.hidden), known)) {
    const tools = d.hidden[server];
    if (includes(d, server) && tools.length) disabledTools[server] = [...tools];
  }
  return { servers: d.servers === null ? null : ordered(d.servers, known), disabledTools, toolSearch: d.toolSearch };
}

/** Whether two settings say the same (order of servers and of hidden tools aside). */
export function sameSettings(a: ProfileSettings, b: ProfileSettings): boolean {
  const norm = (s: ProfileSettings) =>
    JSON.stringify({
      servers: s.servers === null ? null : [...s.servers].sort(),
      hidden: Object.entries(s.disabledTools)
        .filter(([, t]) => t.length)
        .map(([k, t]) => [k, [...t].sort()])
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      search: s.toolSearch,
    });
  return norm(a) === norm(b);
}

/** How many tools the draft offers among the lists loaded so far (`lists`: server → its tools;
 *  a server missing there is not connected, or not loaded yet: `complete` is then false). */
export function draftToolCount(d: ProfileDraft, known: string[], lists: Record<string, ToolLike[] | undefined>): { count: number; complete: boolean } {
  let count = 0;
  let complete = true;
  for (const server of known) {
    if (!includes(d, server)) continue;
    const tools = lists[server];
    if (!tools) {
      complete = false;
      continue;
    }
    count += tools.filter((t) => t.enabled && !isHidden(d, server, t.originalName)).length;
  }
  return { count, complete };
}

/** Profile names follow the gateway's rules for server names (it also refuses a few reserved
 *  ones, and says so). `taken`: the profiles there are — saving under one of those names would
 *  replace it. Null when the name is fine. */
export function profileNameError(name: string, taken: string[]): string | null {
  if (!name) return 'Give the profile a name.';
  if (name.length > 48) return 'Use at most 48 characters.';
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name)) return 'Use letters, digits, “-” and “_” only, starting with a letter or digit.';
  if (name.includes('__') || name.endsWith('_')) return 'A profile name may not contain “__” or end with “_”.';
  if (taken.includes(name)) return `A profile named “${name}” already exists: edit it instead.`;
  return null;
}

/** "12,345" (null: the gateway could not count them). */
export function formatTokens(n: number | null): string {
  return n === null ? '—' : n.toLocaleString('en-US');
}

/** How a profile's token estimate compares with everything's: "62% fewer", "same", "8% more";
 *  null when either is unknown or everything has none. */
export function comparedWithEverything(cost: Cost, everything: Cost): { label: string; tone: 'less' | 'same' | 'more' } | null {
  const a = cost.definitionTokens;
  const b = everything.definitionTokens;
  if (a === null || b === null || b === 0) return null;
  const pct = Math.round((Math.abs(b - a) / b) * 100);
  if (pct === 0) return { label: 'same as everything', tone: 'same' };
  return a < b ? { label: `${pct}% fewer than everything`, tone: 'less' } : { label: `${pct}% more than everything`, tone: 'more' };
}

/** Width of a bar for `value` out of `max`, in percent (a little sliver for anything above 0). */
export function barPercent(value: number | null, max: number): number {
  if (value === null || value <= 0 || max <= 0) return 0;
  return Math.max(1.5, Math.min(100, (value / max) * 100));
}

/** Who uses a profile, by display name: its clients (`names`: client id → name; unknown ids as
 *  they are), then the gateway's own token. */
export function usersOf(p: Pick<ProfileView, 'clients' | 'gateway'>, names: Record<string, string>): string[] {
  const users = p.clients.map((id) => names[id] ?? id);
  if (p.gateway) users.push('Loopgate’s own token');
  return users;
}

/** One line about a profile's settings: "2 servers · 3 tools hidden · search mode". */
export function settingsSummary(s: ProfileSettings, serverCount: number): string {
  const parts: string[] = [];
  if (s.servers === null) parts.push(serverCount === 1 ? 'Every server' : `Every server (${serverCount})`);
  else if (s.servers.length === 0) parts.push('No servers');
  else parts.push(s.servers.length === 1 ? `1 server: ${s.servers[0]}` : `${s.servers.length} servers: ${s.servers.join(', ')}`);
  const hidden = Object.values(s.disabledTools).reduce((n, t) => n + t.length, 0);
  if (hidden) parts.push(hidden === 1 ? '1 tool hidden' : `${hidden} tools hidden`);
  return parts.join(' · ');
}
