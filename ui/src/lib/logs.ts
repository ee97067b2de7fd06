// A server's log lines (GET /api/servers/{name}/logs).

import type { LogLine } from '../api';
import { clockTime } from './format';

/** Whether two polls returned the same lines (same length, same first and last line), so the view
 *  can keep its state and not re-render. */
export function sameLogs(a: LogLine[], b: LogLine[]): boolean {
  if (a.length !== b.length) return false;
  if (a.length === 0) return true;
  const x = a[a.length - 1];
  const y = b[b.length - 1];
  return x.tsMs === y.tsMs && x.line === y.line && a[0].tsMs === b[0].tsMs;
}

/** The lines as text to copy, one per line: "14:03:09.042 [stderr] …". */
export function logsText(lines: LogLine[]): string {
  return lines.map((l) => `${clockTime(l.tsMs)} [${l.source}] ${l.line}`).join('\n');
}
