// One recorded call (GET /api/activity/{id}): who, what, where, how it ended, how long, the sizes,
// the request and response as kept (bodies of recent calls only; secrets masked), and "Run again
// in the playground" for tool calls.

import { useEffect, useState } from 'preact/hooks';
import { api, type ActivityDetail } from '../../api';
import { RawJson } from '../../components/schema';
import { Spinner } from '../../components/ui';
import { callerLabel, formatBytes, formatDuration, outcomeLabel, recordedArguments } from '../../lib/activity';
import { href } from '../../router';

function Body({ text, truncated, label }: { text: string | null; truncated: boolean; label: string }) {
  if (text === null) return <p class="muted">{label}: no longer kept (bodies are kept for the most recent calls only).</p>;
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    /* cut bodies are not JSON: shown as text */
  }
  return (
    <div class="act-body">
      <h4 class="subhead">
        {label} {truncated && <span class="badge">cut at 64 kB</span>}
      </h4>
      {typeof value === 'string' ? <pre class="pg-text">{value}</pre> : <RawJson value={value} />}
    </div>
  );
}

export function CallDetail({ id, onClose }: { id: number; onClose: () => void }) {
  const [d, setD] = useState<ActivityDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    setD(null);
    setError(null);
    api
      .activityCall(id)
      .then((x) => alive && setD(x))
      .catch((e: Error) => alive && setError(e.message));
    return () => {
      alive = false;
    };
  }, [id]);
  const args = d && d.method === 'tools/call' ? recordedArguments(d.request) : null;
  return (
    <aside class="card act-detail" aria-label={`Call ${id}`} data-testid="activity-detail">
      <div class="card-head">
        <h2 class="card-title">Call #{id}</h2>
        <button type="button" class="btn btn-sm btn-ghost" onClick={onClose}>
          Close
        </button>
      </div>
      {error && <p class="field-error">{error}</p>}
      {!d && !error && <Spinner size={16} />}
      {d && (
        <div class="act-detail-body">
          <dl class="facts act-facts">
            <div class="fact"><dt>When</dt><dd>{new Date(d.tsMs).toLocaleString()}</dd></div>
            <div class="fact"><dt>Client</dt><dd data-testid="detail-caller">{callerLabel(d.caller)}</dd></div>
            <div class="fact"><dt>Method</dt><dd><code>{d.method}</code></dd></div>
            <div class="fact"><dt>Server</dt><dd>{d.server ?? '—'}</dd></div>
            <div class="fact"><dt>Tool / prompt / URI</dt><dd><code>{d.target ?? '—'}</code></dd></div>
            <div class="fact"><dt>Outcome</dt><dd><span class={`badge outcome-${d.outcome}`} data-testid="detail-outcome">{outcomeLabel(d.outcome)}</span></dd></div>
            <div class="fact"><dt>Duration</dt><dd>{d.kind === 'request' ? formatDuration(d.durationMs) : '—'}</dd></div>
            <div class="fact"><dt>Sizes</dt><dd>{formatBytes(d.requestBytes)} in · {formatBytes(d.responseBytes)} out</dd></div>
          </dl>
          {d.error && <p class="pg-error-note">{d.error}</p>}
          {args && d.server && d.target && (
            <a class="btn btn-primary" data-testid="run-again" href={href.play(d.server, d.target, args)}>
              Run again in the playground
            </a>
          )}
          <Body text={d.request} truncated={d.requestTruncated} label="Request" />
          <Body text={d.response} truncated={d.responseTruncated} label="Response" />
        </div>
      )}
    </aside>
  );
}
