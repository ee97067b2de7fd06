// Profiles (#/profiles): every profile with its tool count and the estimated tokens of its tool
// definitions next to "everything" (no profile), who uses it, Edit / Delete; and which profile
// each client sees. The editor is editor.tsx (#/profiles/new, #/profiles/NAME/edit).

import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, type ApiError, type ClientState } from '../../api';
import { IconAlert, IconInfo, IconPlus, IconRestart } from '../../components/icons';
import { ConfirmDialog, EmptyState, Skeleton, useTitle } from '../../components/ui';
import { href } from '../../router';
import { deleteProfile, loadProfiles, toast, useStore } from '../../store';
import { ClientBindings } from './client-bindings';
import { EverythingRow, ProfileRow } from './profile-row';

export function ProfilesPage() {
  useTitle('Profiles');
  const { profiles: view, toolsVersion, servers } = useStore();
  const [error, setError] = useState<string | null>(null);
  const [clients, setClients] = useState<ClientState[] | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [rowErrors, setRowErrors] = useState<Record<string, string>>({});

  // The counts follow the servers: re-read on every tools event and every change of servers.
  const serversKey = servers.map((s) => `${s.name}:${s.state}:${s.toolCount}`).join('|');
  const reload = async (isAlive: () => boolean = () => true) => {
    try {
      await loadProfiles();
      if (isAlive()) setError(null);
    } catch (e) {
      if (isAlive() && !(e as ApiError).unauthorized) setError((e as Error).message);
    }
  };
  useEffect(() => {
    let alive = true;
    void reload(() => alive);
    return () => {
      alive = false;
    };
  }, [toolsVersion, serversKey]);

  useEffect(() => {
    let alive = true;
    api.clients().then(
      (r) => alive && setClients(r.clients),
      () => alive && setClients([]), // the bindings still show, by client id
    );
    return () => {
      alive = false;
    };
  }, []);

  const setRowError = (name: string, message: string | null) =>
    setRowErrors((all) => {
      const next = { ...all };
      if (message) next[name] = message;
      else delete next[name];
      return next;
    });

  const confirmDelete = async () => {
    const name = confirming;
    if (!name) return;
    setDeleting(true);
    setRowError(name, null);
    try {
      await deleteProfile(name);
      toast(`Deleted the profile “${name}”`, 'success');
    } catch (e) {
      if (!(e as ApiError).unauthorized) setRowError(name, (e as Error).message);
    } finally {
      setDeleting(false);
      setConfirming(null);
    }
  };

  const clientNames = Object.fromEntries((clients ?? []).map((c) => [c.id, c.name]));
  const serverCount = servers.length;

  let list: ComponentChildren;
  if (view === null && error === null) {
    list = (
      <ul class="pr-list" aria-busy="true">
        {[0, 1, 2].map((i) => (
          <li key={i} class="pr-row pr-skeleton">
            <Skeleton width="26%" height={15} />
            <Skeleton width="62%" height={12} />
          </li>
        ))}
      </ul>
    );
  } else if (view === null) {
    list = (
      <EmptyState
        icon={<IconAlert size={24} />}
        title="Couldn’t load the profiles"
        tone="danger"
        testId="profiles-error"
        action={
          <button type="button" class="btn" onClick={() => void reload()}>
            <IconRestart /> Try again
          </button>
        }
      >
        <p>{error}</p>
      </EmptyState>
    );
  } else {
    const max = Math.max(view.everything.definitionTokens ?? 0, ...view.profiles.map((p) => p.cost.definitionTokens ?? 0));
    list = (
      <>
        <ul class="pr-list" role="list" data-testid="profile-list">
          <EverythingRow cost={view.everything} max={max} serverCount={serverCount} />
          {view.profiles.map((p) => (
            <ProfileRow
              key={p.name}
              profile={p}
              everything={view.everything}
              max={max}
              serverCount={serverCount}
              clientNames={clientNames}
              error={rowErrors[p.name] ?? null}
              onDelete={() => setConfirming(p.name)}
              onDismissError={() => setRowError(p.name, null)}
            />
          ))}
        </ul>
        {view.profiles.length === 0 && (
          <div class="pr-empty" data-testid="profiles-empty">
            <strong>No profiles yet.</strong> Make one for a client that needs only some of your servers — a code editor
            has no use for your calendar — or switch on search mode for a client that would otherwise get hundreds of
            tools.
          </div>
        )}
        {error && (
          <div class="alert alert-danger pr-refresh-error" role="alert">
            <IconAlert size={16} />
            <div class="alert-text">Couldn’t refresh the profiles: {error}</div>
          </div>
        )}
      </>
    );
  }

  return (
    <div class="page">
      <div class="page-head">
        <div>
          <h1 tabIndex={-1}>Profiles</h1>
          <p class="page-sub">
            A profile is a named set of servers and tools. A client bound to one sees only those: fewer tools to pick from,
            and fewer tokens of tool definitions in every request.
          </p>
        </div>
        <a class="btn btn-primary" href={href.newProfile()} data-testid="new-profile-button">
          <IconPlus size={15} /> New profile
        </a>
      </div>

      <section class="card" aria-labelledby="profiles-h">
        <div class="card-head">
          <div>
            <h2 id="profiles-h" class="card-title">
              What each profile costs
            </h2>
            <p class="card-sub">The tools a client gets, and the tokens their definitions take up in every request.</p>
          </div>
        </div>
        {list}
        <p class="pr-foot" data-testid="profiles-estimate-note">
          <IconInfo size={13} />
          <span>
            Token counts are estimates: the tool definitions a client receives (names, descriptions, parameters), counted
            with the o200k tokenizer (<code>o200k_base</code>). Other models count somewhat differently.
          </span>
        </p>
      </section>

      {view && <ClientBindings clients={clients} view={view} />}

      <ConfirmDialog
        open={confirming !== null}
        title={`Delete the profile “${confirming ?? ''}”?`}
        confirmLabel="Delete profile"
        danger
        busy={deleting}
        onConfirm={() => void confirmDelete()}
        onCancel={() => setConfirming(null)}
      >
        <p>Its servers and tools stay as they are; only the profile goes. A profile that a client uses can’t be deleted: choose another one for that client first.</p>
      </ConfirmDialog>
    </div>
  );
}
