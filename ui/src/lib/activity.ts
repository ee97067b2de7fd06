// The Activity page's pure helpers: the query string of a filter, outcome names for people,
// durations and sizes, and the points of a small chart. No DOM.

export interface ActivityFilter {
  client?: string;
  server?: string;
  tool?: string;
  outcome?: string;
}

/** `/api/activity` query for `f` (empty fields left out) plus `extra` (before/after/limit). */
export function activityQuery(f: ActivityFilter, extra: Record<string, string | number | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...f, ...extra })) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** What an outcome means, for people. */
export function outcomeLabel(outcome: string): string {
  switch (outcome) {
    case 'ok':
      return 'OK';
    case 'error':
      return 'MCP error';
    case 'isError':
      return 'Tool error';
    case 'timeout':
      return 'Timed out';
    case 'cancelled':
      return 'Cancelled';
    default:
      return outcome;
  }
}

/** Who called, for people: "Cursor token" for `client:cursor`, "Dashboard", "Gateway token". */
export function callerLabel(caller: string): string {
  if (caller.startsWith('client:')) return `${caller.slice(7)} (client token)`;
  if (caller === 'dashboard') return 'Dashboard';
  if (caller === 'gateway') return 'Gateway token';
  if (caller === 'anonymous') return 'Anonymous';
  return caller;
}

/** A duration in ms for people: "0.4 ms", "12 ms", "1.25 s", "2 min 5 s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** A size in bytes for people: "512 B", "1.5 kB", "2.3 MB". */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)} kB`;
  return `${(n / 1_000_000).toFixed(1)} MB`;
}

/** The SVG polyline points of `values` in a `width`×`height` box (top = the largest value, at
 *  least `minTop`); one point per value, spread evenly. */
export function sparkPoints(values: number[], width: number, height: number, minTop = 1): string {
  if (values.length === 0) return '';
  const top = Math.max(minTop, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  return values.map((v, i) => `${+(i * step).toFixed(1)},${+(height - (v / top) * height).toFixed(1)}`).join(' ');
}

/** The arguments of a recorded `tools/call` (its request body's `arguments`), or null. */
export function recordedArguments(request: string | null): Record<string, unknown> | null {
  if (!request) return null;
  try {
    const v = JSON.parse(request);
    const args = v?.arguments;
    return args && typeof args === 'object' && !Array.isArray(args) ? args : {};
  } catch {
    return null;
  }
}
