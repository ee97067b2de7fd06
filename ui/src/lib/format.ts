// Text formatting for the dashboard: labels, counts, durations, times, shortening.
// Pure functions (no DOM): unit-tested by `npm test` (format.test.ts).

import type { ServerState } from '../api';

export const stateLabel: Record<ServerState, string> = {
  disabled: 'Disabled',
  starting: 'Starting',
  ready: 'Ready',
  degraded: 'Degraded',
  failed: 'Failed',
  'needs-sign-in': 'Needs sign-in',
};

/** "1 tool", "3 tools", "0 tools"; `many` for irregular plurals. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "3d 4h", "2h 5m", "4m 12s", "9s" (negative durations count as 0). */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${sec}s`;
  return `${sec}s`;
}

/** Local wall-clock time with milliseconds, "14:03:09.042". */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** The first line of a description, for a summary; over 160 characters it is cut to 157 + "…". */
export function firstLine(s: string): string {
  const line = s.trim().split(/\n/)[0];
  return line.length > 160 ? `${line.slice(0, 157)}…` : line;
}

/** A description on one line (runs of whitespace become one space); over 220 characters it is cut to 217 + "…". */
export function oneLine(s: string): string {
  const l = s.trim().replace(/\s+/g, ' ');
  return l.length > 220 ? `${l.slice(0, 217)}…` : l;
}

/** A long session id shortened to its ends, "a3f09c…b2a7e4". */
export function shortId(id: string): string {
  return id.length > 14 ? `${id.slice(0, 6)}…${id.slice(-6)}` : id;
}
