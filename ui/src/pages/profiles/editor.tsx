// Create a profile (#/profiles/new) or edit one (#/profiles/NAME/edit): its name, search mode,
// and its servers and tools (server-picker.tsx). Saving PUTs /api/profiles/{name} and re-reads
// GET /api/profiles; the gateway's refusal is shown as it is.

import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type ApiError, type ProfileView, type ServerTool } from '../../api';
import { IconAlert, IconBack, IconSearch } from '../../components/icons';
import { EmptyState, Spinner, Switch, useTitle } from '../../components/ui';
import { plural } from '../../lib/format';
import { draftFrom, draftToolCount, emptyDraft, formatTokens, profileNameError, settingsOf, type ProfileDraft } from '../../lib/profiles';
import { href, navigate } from '../../router';
import { loadProfiles, saveProfile, toast, useStore } from '../../store';
import { Field, TextInput } from '../server-form/field';
import { ServerPicker } from './server-picker';

export function ProfileEditorPage({ name }: { name: string | null }) {
  const { profiles: view } = useStore();
  const [error, setError] = useState<string | null>(null);
  useTitle(name === null ? 'New profile' : `Edit ${name}`);
  useEffect(() => {
    loadProfiles().catch((e: ApiError) => !e.unauthorized && setError(e.message));
  }, []);

  const back = (
    <a class="back-link" href={href.profiles()}>
      <IconBack size={14} /> Profiles
    </a>
  );
  if (view === null) {
    return (
      <div class="page page-narrow">
        {back}
        <div class="card">
          {error ? (
            <EmptyState icon={<IconAlert size={24} />} title="Couldn’t load the profiles" tone="danger">
              <p>{error}</p>
            </EmptyState>
          ) : (
            <div class="page-loading" role="status">
              <Spinner size={18} /> Loading the profile…
            </div>
          )}
        </div>
      </div>
    );
  }
  const original = name === null ? undefined : view.profiles.find((p) => p.name === name);
  if (name !== null && !original) {
    return (
      <div class="page page-narrow">
        {back}
        <div class="card">
          <EmptyState icon={<IconSearch size={24} />} title={`No profile named “${name}”`} testId="profile-not-found">
            <p>It may have been deleted in the meantime.</p>
          </EmptyState>
        </div>
      </div>
    );
  }
  return <ProfileForm original={original} taken={view.profiles.map((p) => p.name)} back={back} />;
}

/** Every connected server's tools (GET /api/servers/{name}/tools), re-read as they change. */
function useToolLists(): Record<string, ServerTool[] | undefined> {
  const { servers, toolsVersion } = useStore();
  const [lists, setLists] = useState<Record<string, ServerTool[] | undefined>>({});
  const connected = servers.filter((s) => s.state === 'ready' || s.state === 'degraded');
  const key = connected.map((s) => `${s.name}:${s.toolCount}:${(s.config?.disabledTools ?? []).join(',')}`).join('|');
  useEffect(() => {
    let alive = true;
    void Promise.all(
      connected.map(async (s) => {
        try {
          return [s.name, await api.serverTools(s.name)] as const;
        } catch {
          return [s.name, undefined] as const; // gone or not connected meanwhile: no list
        }
      }),
    ).then((pairs) => alive && setLists(Object.fromEntries(pairs)));
    return () => {
      alive = false;
    };
  }, [key, toolsVersion]);
  return lists;
}

function ProfileForm({ original, taken, back }: { original?: ProfileView; taken: string[]; back: ComponentChildren }) {
  const { servers } = useStore();
  const lists = useToolLists();
  const [name, setName] = useState('');
  const [draft, setDraft] = useState<ProfileDraft>(() => (original ? draftFrom(original.settings) : emptyDraft()));
  const [nameError, setNameError] = useState<string | null>(null);
  const [general, setGeneral] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const known = servers.map((s) => s.name);
  const { count, complete } = draftToolCount(draft, known, lists);

  const focus = (selector: string) => requestAnimationFrame(() => formRef.current?.querySelector<HTMLElement>(selector)?.focus());

  const submit = async (e: Event) => {
    e.preventDefault();
    if (submitting) return;
    const target = original ? original.name : name.trim();
    if (!original) {
      const bad = profileNameError(target, taken);
      if (bad) {
        setNameError(bad);
        focus('[data-field="name"]');
        return;
      }
    }
    setSubmitting(true);
    setGeneral(null);
    try {
      await saveProfile(target, settingsOf(draft, known));
      toast(`Saved the profile “${target}”`, 'success');
      navigate(href.profiles());
    } catch (err) {
      const ae = err as ApiError;
      if (ae.unauthorized) return;
      if (!original && ae.field === 'name') {
        setNameError(ae.message);
        focus('[data-field="name"]');
      } else {
        setGeneral(ae.message);
        focus('.form-alert');
      }
    } finally {
      setSubmitting(false);
    }
  };

  return (
    <div class="page page-narrow">
      {back}
      <div class="page-head">
        <div>
          <h1 tabIndex={-1}>{original ? `Edit “${original.name}”` : 'New profile'}</h1>
          <p class="page-sub">
            {original ? (
              <span data-testid="profile-saved-cost">
                Saved now: clients get {plural(original.cost.toolCount, 'tool')}
                {original.cost.definitionTokens !== null && <>, about {formatTokens(original.cost.definitionTokens)} tokens of definitions</>}.
              </span>
            ) : (
              'Choose the servers and tools a client bound to this profile sees. You choose which client uses it on the Profiles page.'
            )}
          </p>
        </div>
      </div>

      <form class="card form" ref={formRef} onSubmit={submit} noValidate data-testid="profile-form">
        {general && (
          <div class="alert alert-danger form-alert" role="alert" tabIndex={-1} data-testid="profile-form-error">
            <IconAlert size={18} />
            <div class="alert-text">{general}</div>
          </div>
        )}

        {!original && (
          <Field label="Name" field="name" error={nameError ?? undefined} hint="Letters, digits, “-” and “_”, e.g. coding or research.">
            {(p) => (
              <TextInput
                {...p}
                value={name}
                placeholder="coding"
                autoFocus
                onValue={(v) => {
                  setName(v);
                  setNameError(null);
                }}
              />
            )}
          </Field>
        )}

        <div class="field pe-search">
          <div class="pe-search-text">
            <span class="field-label" id="pe-search-label">
              Search mode
            </span>
            <p class="field-hint pe-search-hint" id="pe-search-hint">
              Clients get two tools instead of every tool: <code>search_tools</code>, which finds tools by what you want to do,
              and <code>call_tool</code>, which calls one by name. Their definitions take a few hundred tokens however many tools
              the profile has; the model searches before it calls. Worth it for large sets of tools.
            </p>
          </div>
          <Switch
            checked={draft.toolSearch}
            onChange={(on) => setDraft({ ...draft, toolSearch: on })}
            label="Search mode: search_tools and call_tool instead of every tool"
            testId="profile-search-switch"
          />
        </div>

        <div class="field" role="group" aria-labelledby="pe-servers-label">
          <div class="pe-legend">
            <span class="field-label" id="pe-servers-label">
              Servers and tools
            </span>
            <span class="pe-count" role="status" data-testid="profile-draft-count">
              {draft.toolSearch
                ? `clients get search_tools + call_tool, reaching ${complete ? '' : 'at least '}${plural(count, 'tool')}`
                : `${complete ? '' : 'at least '}${plural(count, 'tool')} for clients`}
            </span>
          </div>
          <ServerPicker draft={draft} onDraft={setDraft} servers={servers} lists={lists} />
        </div>

        <div class="form-actions">
          <a class="btn" href={href.profiles()}>
            Cancel
          </a>
          <button type="submit" class="btn btn-primary" disabled={submitting} data-testid="submit-profile">
            {submitting && <Spinner size={13} />}
            {original ? 'Save changes' : 'Create profile'}
          </button>
        </div>
      </form>
    </div>
  );
}
