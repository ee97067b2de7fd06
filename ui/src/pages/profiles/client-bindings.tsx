// "Which profile each client sees": one select per AI client (PUT /api/clients/{id}/profile),
// and what Loopgate's own token sees (gateway.profile, set in the config file).

import { useState } from 'preact/hooks';
import type { ApiError, ClientState, ProfilesView } from '../../api';
import { IconGlobe, IconInfo, IconTerminal } from '../../components/icons';
import { Spinner } from '../../components/ui';
import { monogram } from '../../lib/clients';
import { bindClient, toast } from '../../store';

interface Row {
  id: string;
  name: string;
  transport: ClientState['transport'] | null;
}

export function ClientBindings({ clients, view }: { clients: ClientState[] | null; view: ProfilesView }) {
  const [busy, setBusy] = useState<Record<string, boolean>>({});
  const rows: Row[] = (clients ?? []).map((c) => ({ id: c.id, name: c.name, transport: c.transport }));
  // A binding of a client this build does not list (kept in the config): shown by its id.
  for (const id of Object.keys(view.clientProfiles)) if (!rows.some((r) => r.id === id)) rows.push({ id, name: id, transport: null });
  const gatewayProfile = view.profiles.find((p) => p.gateway)?.name ?? null;

  const choose = async (r: Row, value: string) => {
    const profile = value || null;
    setBusy((b) => ({ ...b, [r.id]: true }));
    try {
      await bindClient(r.id, profile);
      toast(profile ? `${r.name} now sees the profile “${profile}”` : `${r.name} now sees everything`, 'success');
    } catch (e) {
      if (!(e as ApiError).unauthorized) toast(`Could not change ${r.name}’s profile: ${(e as Error).message}`);
    } finally {
      setBusy((b) => {
        const n = { ...b };
        delete n[r.id];
        return n;
      });
    }
  };

  return (
    <section class="card" aria-labelledby="bindings-h">
      <div class="card-head">
        <div>
          <h2 id="bindings-h" class="card-title">
            Which profile each client sees
          </h2>
          <p class="card-sub">A client’s own access token is bound to its profile; a change reaches it at once.</p>
        </div>
      </div>
      {clients === null && rows.length === 0 ? (
        <div class="pb-loading" role="status">
          <Spinner size={13} /> Looking for your clients…
        </div>
      ) : (
        <ul class="pb-list" role="list">
          {rows.map((r) => (
            <li key={r.id} class="pb-row" data-testid={`client-binding-${r.id}`}>
              <span class="pb-mark" aria-hidden="true">
                {monogram(r.name)}
              </span>
              <label class="pb-name" for={`bind-${r.id}`}>
                {r.name}
              </label>
              {r.transport && (
                <span class="badge badge-transport">
                  {r.transport === 'http' ? <IconGlobe size={12} /> : <IconTerminal size={12} />}
                  {r.transport === 'http' ? 'HTTP' : 'stdio'}
                </span>
              )}
              <span class="pb-spacer" />
              {busy[r.id] && <Spinner size={13} />}
              <select
                id={`bind-${r.id}`}
                class="select pb-select"
                value={view.clientProfiles[r.id] ?? ''}
                aria-busy={busy[r.id] || undefined}
                data-testid={`client-profile-${r.id}`}
                onChange={(e) => void choose(r, (e.target as HTMLSelectElement).value)}
              >
                <option value="">Everything (no profile)</option>
                {view.profiles.map((p) => (
                  <option key={p.name} value={p.name}>
                    {p.name}
                  </option>
                ))}
              </select>
            </li>
          ))}
        </ul>
      )}
      <p class="pr-foot">
        <IconInfo size={13} />
        <span>
          Loopgate’s own token (the command line, and <code>loopgate connect</code> without <code>--profile</code>) sees{' '}
          {gatewayProfile ? (
            <>
              the profile <strong>{gatewayProfile}</strong>
            </>
          ) : (
            'everything'
          )}
          : that is <code>gateway.profile</code> in the config file.
        </span>
      </p>
    </section>
  );
}
