// Per-server and per-tool figures over the last hour (GET /api/activity/stats): calls, error rate,
// p50/p95 latency, and two small charts (calls per 5 minutes, p95 latency per 5 minutes).

import type { ActivityFigures } from '../../api';
import { formatDuration, sparkPoints } from '../../lib/activity';

function Spark({ values, label, tone }: { values: number[]; label: string; tone: 'calls' | 'latency' }) {
  const w = 120;
  const h = 26;
  return (
    <svg class={`spark spark-${tone}`} width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={label}>
      <title>{label}</title>
      <polyline fill="none" points={sparkPoints(values, w, h - 2)} transform="translate(0,1)" />
    </svg>
  );
}

export function FiguresTable({ rows, kind, onPick }: { rows: ActivityFigures[]; kind: 'server' | 'tool'; onPick: (name: string) => void }) {
  if (rows.length === 0) return <p class="muted">No calls in the last hour.</p>;
  return (
    <div class="table-wrap">
      <table class="fig-table" data-testid={`figures-${kind}`}>
        <thead>
          <tr>
            <th scope="col">{kind === 'server' ? 'Server' : 'Tool'}</th>
            <th scope="col">Calls</th>
            <th scope="col">Error rate</th>
            <th scope="col">p50</th>
            <th scope="col">p95</th>
            <th scope="col">Calls / 5 min</th>
            <th scope="col">p95 / 5 min</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.name} data-testid={`figure-${kind}-${r.name}`}>
              <td>
                <button type="button" class="linklike" onClick={() => onPick(r.name)} title={`Show only ${r.name}`}>
                  <code>{r.name}</code>
                </button>
              </td>
              <td data-testid="fig-calls">{r.calls}</td>
              <td class={r.errorRate > 0 ? 'tone-danger-text' : ''}>{(r.errorRate * 100).toFixed(r.errorRate > 0 && r.errorRate < 0.1 ? 1 : 0)}%</td>
              <td>{formatDuration(r.p50Ms)}</td>
              <td>{formatDuration(r.p95Ms)}</td>
              <td>
                <Spark values={r.series.map((p) => p.calls)} label={`Calls per 5 minutes: ${r.series.map((p) => p.calls).join(', ')}`} tone="calls" />
              </td>
              <td>
                <Spark values={r.series.map((p) => p.p95Ms)} label={`p95 latency per 5 minutes (ms): ${r.series.map((p) => p.p95Ms.toFixed(1)).join(', ')}`} tone="latency" />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
