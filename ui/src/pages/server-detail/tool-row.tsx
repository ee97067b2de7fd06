// One tool in a server's tool list: name, title, annotation badges and an on/off switch; expands
// to the full description, the name clients call, annotations and the input/output schemas.

import type { ServerTool } from '../../api';
import { IconChevron } from '../../components/icons';
import { SchemaView } from '../../components/schema';
import { CopyButton, Switch } from '../../components/ui';
import { firstLine } from '../../lib/format';

const annotationBadges: { key: string; label: string; tone: string; help: string }[] = [
  { key: 'readOnlyHint', label: 'read-only', tone: 'ok', help: 'Does not change anything' },
  { key: 'destructiveHint', label: 'destructive', tone: 'danger', help: 'May delete or overwrite data' },
  { key: 'idempotentHint', label: 'idempotent', tone: 'neutral', help: 'Repeating a call has no extra effect' },
  { key: 'openWorldHint', label: 'open world', tone: 'neutral', help: 'Talks to the outside world' },
];

export function ToolRow(props: {
  tool: ServerTool;
  enabled: boolean;
  busy: boolean;
  serverOn: boolean;
  expanded: boolean;
  onExpand: (open: boolean) => void;
  onToggle: (on: boolean) => void;
}) {
  const { tool: t, enabled, expanded } = props;
  const id = `tool-panel-${t.originalName}`;
  const ann = t.annotations ?? {};
  const badges = annotationBadges.filter((b) => ann[b.key] === true);
  const title = t.title ?? (typeof ann.title === 'string' ? ann.title : null);

  return (
    <li class={`tool-row${expanded ? ' is-open' : ''}${enabled ? '' : ' is-off'}`} data-testid={`tool-row-${t.originalName}`} data-enabled={enabled}>
      <div class="tool-line">
        <button
          type="button"
          class="tool-toggle"
          aria-expanded={expanded}
          aria-controls={id}
          data-testid={`tool-toggle-${t.originalName}`}
          onClick={() => props.onExpand(!expanded)}
        >
          <IconChevron size={14} class="chev" />
          <span class="tool-names">
            <span class="tool-name">
              <code>{t.originalName}</code>
              {title && title !== t.originalName && <span class="tool-title">{title}</span>}
              {badges.map((b) => (
                <span key={b.key} class={`badge badge-ann tone-${b.tone}`} title={b.help}>
                  {b.label}
                </span>
              ))}
              {!enabled && <span class="badge badge-off">hidden from clients</span>}
            </span>
            {t.description && !expanded && <span class="tool-desc">{firstLine(t.description)}</span>}
          </span>
        </button>
        <Switch
          size="sm"
          checked={enabled}
          busy={props.busy}
          label={`Tool ${t.originalName} enabled`}
          title={enabled ? 'Hide this tool from clients' : 'Offer this tool to clients'}
          testId={`tool-switch-${t.originalName}`}
          onChange={props.onToggle}
        />
      </div>
      {expanded && (
        <div class="tool-panel" id={id}>
          <div class="tool-meta">
            <span class="muted">Clients call it</span> <code>{t.name}</code>
            <CopyButton text={t.name} label="Copy tool name" compact />
          </div>
          {t.description ? <p class="tool-fulldesc">{t.description}</p> : <p class="muted">No description.</p>}
          {t.annotations && Object.keys(t.annotations).length > 0 && (
            <div class="annotations">
              <h4 class="subhead">Annotations</h4>
              <dl class="ann-list">
                {Object.entries(t.annotations).map(([k, v]) => (
                  <div key={k} class="ann">
                    <dt>{k}</dt>
                    <dd>
                      <code>{typeof v === 'string' ? v : JSON.stringify(v)}</code>
                    </dd>
                  </div>
                ))}
              </dl>
            </div>
          )}
          <SchemaView schema={t.inputSchema} label="Input" testPrefix={`tool-${t.originalName}`} />
          {t.outputSchema && (
            <details class="output-schema">
              <summary>Output schema</summary>
              <SchemaView schema={t.outputSchema} label="Output" />
            </details>
          )}
        </div>
      )}
    </li>
  );
}
