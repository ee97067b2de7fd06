// One line of the Profiles list: a profile (or "everything", the baseline) with its tool count,
// the estimated tokens of its tool definitions as a bar, who uses it, and Edit / Delete.

import type { Cost, ProfileView } from '../../api';
import { IconAlert, IconEdit, IconSearch, IconTrash, IconX } from '../../components/icons';
import { barPercent, comparedWithEverything, formatTokens, settingsSummary, usersOf } from '../../lib/profiles';
import { plural } from '../../lib/format';
import { href } from '../../router';

/** The figures of one line: tools clients get, and their definitions' tokens against `max`. */
function Figures({ cost, everything, max, search }: { cost: Cost; everything: Cost | null; max: number; search: boolean }) {
  const compared = everything ? comparedWithEverything(cost, everything) : null;
  return (
    <>
      <div class="pr-tools">
        <span class="pr-num" data-testid="tool-count">
          {cost.toolCount}
        </span>
        <span class="pr-unit">{cost.toolCount === 1 ? 'tool' : 'tools'}</span>
        {search && (
          <span class="pr-note" title="search_tools finds them; call_tool calls them">
            to search {plural(cost.reachableTools, 'tool')}
          </span>
        )}
      </div>
      <div class="pr-tokens">
        <div class="pr-token-line">
          <span
            class="pr-token-num"
            data-testid="token-count"
            title={cost.definitionTokens === null ? 'The tokenizer is not available in this build' : 'An estimate, counted with the o200k tokenizer'}
          >
            {cost.definitionTokens === null ? '—' : `≈ ${formatTokens(cost.definitionTokens)}`}
          </span>
          <span class="pr-unit">tokens</span>
          {compared && <span class={`pr-compare is-${compared.tone}`}>{compared.label}</span>}
        </div>
        <span class="pr-bar" aria-hidden="true">
          <span class="pr-bar-fill" style={{ width: `${barPercent(cost.definitionTokens, max)}%` }} />
        </span>
      </div>
    </>
  );
}

/** What a client without a profile sees: the baseline every profile is compared with. */
export function EverythingRow({ cost, max, serverCount }: { cost: Cost; max: number; serverCount: number }) {
  return (
    <li
      class="pr-row pr-everything"
      data-testid="profiles-everything"
      data-tools={cost.toolCount}
      data-tokens={cost.definitionTokens ?? ''}
    >
      <div class="pr-main">
        <div class="pr-title">
          <h3 class="pr-name">Everything</h3>
          <span class="badge badge-off">no profile</span>
        </div>
        <div class="pr-summary">What a client without a profile sees: every tool of {plural(serverCount, 'server')}.</div>
      </div>
      <Figures cost={cost} everything={null} max={max} search={false} />
      <div class="pr-actions" />
    </li>
  );
}

export function ProfileRow(props: {
  profile: ProfileView;
  everything: Cost;
  max: number;
  serverCount: number;
  clientNames: Record<string, string>;
  error: string | null;
  onDelete: () => void;
  onDismissError: () => void;
}) {
  const { profile: p, error } = props;
  const users = usersOf(p, props.clientNames);
  return (
    <li
      class="pr-row"
      data-testid={`profile-row-${p.name}`}
      data-tools={p.cost.toolCount}
      data-reachable={p.cost.reachableTools}
      data-tokens={p.cost.definitionTokens ?? ''}
    >
      <div class="pr-main">
        <div class="pr-title">
          <h3 class="pr-name">
            <a href={href.editProfile(p.name)}>{p.name}</a>
          </h3>
          {p.settings.toolSearch && (
            <span class="badge badge-search" title="Clients get search_tools and call_tool instead of every tool">
              <IconSearch size={11} />
              search mode
            </span>
          )}
        </div>
        <div class="pr-summary">{settingsSummary(p.settings, props.serverCount)}</div>
        <div class="pr-users" data-testid={`profile-clients-${p.name}`}>
          {users.length === 0 ? (
            <span class="muted">No client uses it yet — choose it for one below.</span>
          ) : (
            <>
              <span class="pr-users-label">Used by</span>
              {users.map((u) => (
                <span key={u} class="chip">
                  {u}
                </span>
              ))}
            </>
          )}
        </div>
      </div>
      <Figures cost={p.cost} everything={props.everything} max={props.max} search={p.settings.toolSearch} />
      <div class="pr-actions">
        <a class="btn btn-sm" href={href.editProfile(p.name)} data-testid={`profile-edit-${p.name}`} aria-label={`Edit profile ${p.name}`}>
          <IconEdit size={14} /> Edit
        </a>
        <button
          type="button"
          class="btn btn-ghost btn-icon btn-sm btn-danger-ghost"
          aria-label={`Delete profile ${p.name}`}
          title="Delete this profile"
          data-testid={`profile-delete-${p.name}`}
          onClick={props.onDelete}
        >
          <IconTrash size={14} />
        </button>
      </div>
      {error && (
        <div class="alert alert-danger pr-error" role="alert" data-testid={`profile-error-${p.name}`}>
          <IconAlert size={16} />
          <div class="alert-text">{error}</div>
          <button type="button" class="btn btn-ghost btn-icon btn-sm" aria-label="Dismiss" onClick={props.onDismissError}>
            <IconX size={14} />
          </button>
        </div>
      )}
    </li>
  );
}
