// The profile editor's servers: a checkbox per server puts it in the profile or leaves it out;
// expanding a server lists its tools, each with a checkbox that shows or hides it in the profile.
// The rules (what a click does to the draft) are in lib/profiles.ts.

import { useState } from 'preact/hooks';
import type { Server, ServerTool } from '../../api';
import { IconChevron } from '../../components/icons';
import { StatePill } from '../../components/ui';
import { oneLine, plural } from '../../lib/format';
import { includes, isHidden, setEveryServer, setServer, setTools, type ProfileDraft } from '../../lib/profiles';

export interface PickerProps {
  draft: ProfileDraft;
  onDraft: (next: ProfileDraft) => void;
  /** The gateway's servers, in config order. */
  servers: Server[];
  /** Server → its tools (only connected servers have a list). */
  lists: Record<string, ServerTool[] | undefined>;
}

export function ServerPicker({ draft, onDraft, servers, lists }: PickerProps) {
  const known = servers.map((s) => s.name);
  // Servers the draft names that the gateway no longer has (removed while editing): shown, so
  // the gateway's refusal on save makes sense and they can be unchecked.
  const missing = [...(draft.servers ?? []), ...Object.keys(draft.hidden)].filter((n, i, all) => !known.includes(n) && all.indexOf(n) === i);
  return (
    <div class="ps">
      <label class="ps-every">
        <input
          type="checkbox"
          checked={draft.servers === null}
          data-testid="profile-every-server"
          onChange={(e) => onDraft(setEveryServer(draft, (e.target as HTMLInputElement).checked, known))}
        />
        <span>
          <strong>Every server, also ones you add later</strong>
          <span class="ps-every-hint">Leave this on for a profile that only hides tools or uses search mode.</span>
        </span>
      </label>
      {known.length === 0 && missing.length === 0 ? (
        <p class="ps-none muted">There are no servers yet.</p>
      ) : (
        <ul class="ps-list" role="list" aria-label="Servers in this profile">
          {servers.map((s) => (
            <ServerItem key={s.name} name={s.name} server={s} {...{ draft, onDraft, known }} tools={lists[s.name]} />
          ))}
          {missing.map((n) => (
            <ServerItem key={n} name={n} server={null} {...{ draft, onDraft, known }} tools={undefined} />
          ))}
        </ul>
      )}
    </div>
  );
}

function ServerItem(props: {
  name: string;
  server: Server | null;
  tools: ServerTool[] | undefined;
  draft: ProfileDraft;
  onDraft: (next: ProfileDraft) => void;
  known: string[];
}) {
  const { name, server, tools, draft, onDraft, known } = props;
  const [open, setOpen] = useState(false);
  const inc = includes(draft, name);
  const hiddenCount = (draft.hidden[name] ?? []).length;
  const usable = (tools ?? []).filter((t) => t.enabled);
  const shown = usable.filter((t) => !isHidden(draft, name, t.originalName)).length;
  const expanded = open && inc && tools !== undefined;
  const id = `ps-${name}`;

  let info: string;
  if (!server) info = 'no longer one of your servers — uncheck it';
  else if (!inc) info = 'left out';
  else if (tools) info = `${shown} of ${plural(usable.length, 'tool')}`;
  else info = `tools show once it is connected${hiddenCount ? ` · ${plural(hiddenCount, 'tool')} hidden` : ''}`;

  return (
    <li class={`ps-server${inc ? ' is-in' : ''}${server ? '' : ' is-missing'}`} data-testid={`profile-server-row-${name}`} data-included={inc} data-missing={!server}>
      <div class="ps-head">
        <input
          type="checkbox"
          id={id}
          checked={inc}
          aria-describedby={`${id}-info`}
          data-testid={`profile-server-${name}`}
          onChange={(e) => onDraft(setServer(draft, name, (e.target as HTMLInputElement).checked, known))}
        />
        <label class="ps-name" for={id}>
          {name}
        </label>
        {server ? <StatePill state={server.state} /> : <span class="badge badge-removed">removed</span>}
        <span class="ps-info" id={`${id}-info`} data-testid={`profile-server-info-${name}`}>
          {info}
        </span>
        <span class="ps-spacer" />
        {tools !== undefined && (
          <button
            type="button"
            class="btn btn-ghost btn-sm ps-expand"
            aria-expanded={expanded}
            aria-controls={expanded ? `${id}-tools` : undefined}
            aria-label={`${expanded ? 'Hide' : 'Choose'} the tools of ${name}`}
            disabled={!inc}
            title={inc ? undefined : 'Check the server to choose its tools'}
            data-testid={`profile-server-toggle-${name}`}
            onClick={() => setOpen(!open)}
          >
            Tools
            <IconChevron size={14} class={`ps-chev${expanded ? ' is-open' : ''}`} />
          </button>
        )}
      </div>
      {expanded && (
        <div class="ps-tools" id={`${id}-tools`} role="group" aria-label={`Tools of ${name}`}>
          {tools.length === 0 ? (
            <p class="ps-none muted">It offers no tools.</p>
          ) : (
            <>
              <div class="ps-bulk">
                <button type="button" class="btn btn-ghost btn-sm" onClick={() => onDraft(setTools(draft, name, tools.map((t) => t.originalName), true))}>
                  Show all
                </button>
                <button type="button" class="btn btn-ghost btn-sm" onClick={() => onDraft(setTools(draft, name, usable.map((t) => t.originalName), false))}>
                  Hide all
                </button>
              </div>
              <ul class="ps-tool-list" role="list">
                {tools.map((t, i) => (
                  <ToolItem key={t.originalName} id={`${id}-t${i}`} server={name} tool={t} draft={draft} onDraft={onDraft} />
                ))}
              </ul>
            </>
          )}
        </div>
      )}
    </li>
  );
}

function ToolItem({ id, server, tool: t, draft, onDraft }: { id: string; server: string; tool: ServerTool; draft: ProfileDraft; onDraft: (d: ProfileDraft) => void }) {
  const hidden = isHidden(draft, server, t.originalName);
  const on = t.enabled && !hidden;
  return (
    <li class={`ps-tool${on ? '' : ' is-off'}`} data-hidden={hidden}>
      <input
        type="checkbox"
        id={id}
        checked={on}
        disabled={!t.enabled}
        data-testid={`profile-tool-${server}-${t.originalName}`}
        onChange={(e) => onDraft(setTools(draft, server, [t.originalName], (e.target as HTMLInputElement).checked))}
      />
      <label for={id} class="ps-tool-label">
        <span class="ps-tool-name">
          <code>{t.originalName}</code>
          {!t.enabled && (
            <span class="badge badge-off" title="Switched off on the server’s page, so no client sees it">
              off for every client
            </span>
          )}
        </span>
        {t.description && <span class="ps-tool-desc">{oneLine(t.description)}</span>}
      </label>
    </li>
  );
}
