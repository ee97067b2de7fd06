// App-wide live state: gateway info, the servers array and the exposed tool count, kept current
// by the Server-Sent Events stream at /api/events (with a polling fallback while it is down);
// the profiles (GET /api/profiles), read by the Profiles pages and after each change to them.

import { useEffect, useReducer } from 'preact/hooks';
import { api, ApiError, onUnauthorized, type Info, type ProfileSettings, type ProfilesView, type Server } from './api';
import { reconnectDelay, settlePending, signedOutMessage } from './lib/servers';
import { webUrl } from './lib/url';

export type Phase = 'loading' | 'ready' | 'unauthorized' | 'unreachable';
export type Live = 'connecting' | 'live' | 'reconnecting';

export interface Toast {
  id: number;
  kind: 'error' | 'success' | 'info';
  message: string;
}

export interface State {
  phase: Phase;
  info: Info | null;
  servers: Server[];
  toolCount: number | null;
  live: Live;
  /** When the live stream dropped (ms since epoch), while it is down. */
  downSince: number | null;
  /** Optimistic enabled/disabled while a switch click is in flight. */
  pending: Record<string, boolean>;
  /** Bumped on every `tools` event (and our own tool changes), so views refetch tool lists. */
  toolsVersion: number;
  toasts: Toast[];
  /** GET /api/profiles, once a Profiles page has read it. */
  profiles: ProfilesView | null;
}

let state: State = {
  phase: 'loading',
  info: null,
  servers: [],
  toolCount: null,
  live: 'connecting',
  downSince: null,
  pending: {},
  toolsVersion: 0,
  toasts: [],
  profiles: null,
};

const listeners = new Set<() => void>();

function set(patch: Partial<State>) {
  state = { ...state, ...patch };
  if (patch.live === 'live') state.downSince = null;
  else if (patch.live && state.downSince === null) state.downSince = Date.now();
  listeners.forEach((fn) => fn());
}

export function getState(): State {
  return state;
}

/** Re-renders the calling component whenever the store changes. */
export function useStore(): State {
  const [, force] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    const fn = () => force(0);
    listeners.add(fn);
    return () => {
      listeners.delete(fn);
    };
  }, []);
  return state;
}

// ---- toasts ----------------------------------------------------------------------------------

let toastId = 0;
export function toast(message: string, kind: Toast['kind'] = 'error') {
  const id = ++toastId;
  set({ toasts: [...state.toasts, { id, kind, message }] });
  setTimeout(() => dismissToast(id), kind === 'error' ? 7000 : 3500);
}
export function dismissToast(id: number) {
  if (state.toasts.some((t) => t.id === id)) set({ toasts: state.toasts.filter((t) => t.id !== id) });
}

// ---- loading ---------------------------------------------------------------------------------

function handleFatal(e: unknown): boolean {
  if (e instanceof ApiError && e.unauthorized) {
    stopLive();
    set({ phase: 'unauthorized' });
    return true;
  }
  return false;
}

let retryTimer: ReturnType<typeof setTimeout> | undefined;

/** First load (and "Try again" from the error screens). */
export async function start() {
  clearTimeout(retryTimer);
  if (state.phase !== 'ready') set({ phase: 'loading' });
  try {
    const [info, servers] = await Promise.all([api.info(), api.servers()]);
    set({ phase: 'ready', info, servers, toolCount: state.toolCount ?? info.toolCount });
    startLive();
  } catch (e) {
    if (handleFatal(e)) return;
    set({ phase: 'unreachable' });
    retryTimer = setTimeout(start, 3000);
  }
}

/** Refetches info + servers; quiet on failure (the live indicator tells the story). */
export async function refresh() {
  try {
    const [info, servers] = await Promise.all([api.info(), api.servers()]);
    set({ info, servers: reconcile(servers), toolCount: info.toolCount });
  } catch (e) {
    handleFatal(e);
  }
}

async function refreshServers() {
  try {
    set({ servers: reconcile(await api.servers()) });
  } catch (e) {
    handleFatal(e);
  }
}

/** Drops optimistic values the server has caught up with. */
function reconcile(servers: Server[]): Server[] {
  const pending = settlePending(state.pending, servers);
  if (pending !== state.pending) state = { ...state, pending };
  return servers;
}

onUnauthorized(() => {
  stopLive();
  set({ phase: 'unauthorized' });
});

// ---- live updates (SSE) ----------------------------------------------------------------------

let es: EventSource | null = null;
let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
let pollTimer: ReturnType<typeof setInterval> | undefined;
let attempts = 0;

function startLive() {
  if (es) return;
  connect();
  // While the stream is down, keep the page correct by polling.
  clearInterval(pollTimer);
  pollTimer = setInterval(() => {
    if (state.live !== 'live' && state.phase === 'ready') void refresh();
  }, 4000);
}

function stopLive() {
  es?.close();
  es = null;
  clearTimeout(reconnectTimer);
  clearInterval(pollTimer);
}

function connect() {
  const source = new EventSource('/api/events');
  es = source;
  source.addEventListener('open', () => {
    attempts = 0;
    set({ live: 'live' });
    void refresh(); // catch up on anything missed while disconnected
  });
  source.addEventListener('servers', (ev) => {
    try {
      const servers = JSON.parse((ev as MessageEvent).data) as Server[];
      if (Array.isArray(servers)) set({ servers: reconcile(servers), live: 'live' });
    } catch {
      /* ignore a malformed event */
    }
  });
  source.addEventListener('tools', (ev) => {
    try {
      const { count } = JSON.parse((ev as MessageEvent).data) as { count: number };
      set({ toolCount: typeof count === 'number' ? count : state.toolCount, toolsVersion: state.toolsVersion + 1, live: 'live' });
    } catch {
      /* ignore a malformed event */
    }
  });
  source.addEventListener('error', () => {
    if (es !== source) return;
    set({ live: 'reconnecting' });
    if (source.readyState === EventSource.CLOSED) {
      // The browser gave up (HTTP error or wrong content type): retry ourselves, with backoff,
      // checking first whether we are still signed in.
      source.close();
      es = null;
      const delay = reconnectDelay(attempts);
      attempts++;
      clearTimeout(reconnectTimer);
      reconnectTimer = setTimeout(async () => {
        try {
          await api.info();
        } catch (e) {
          if (handleFatal(e)) return;
        }
        if (!es && state.phase === 'ready') connect();
      }, delay);
    }
  });
}

// ---- actions ---------------------------------------------------------------------------------

export async function setServerEnabled(name: string, on: boolean) {
  set({ pending: { ...state.pending, [name]: on } });
  try {
    await api.setServerEnabled(name, on);
    await refreshServers();
  } catch (e) {
    if (!handleFatal(e)) toast(`Could not ${on ? 'enable' : 'disable'} ${name}: ${(e as Error).message}`);
  } finally {
    if (name in state.pending) {
      const pending = { ...state.pending };
      delete pending[name];
      set({ pending });
    }
  }
}

export async function restartServer(name: string) {
  try {
    await api.restartServer(name);
    toast(`Restarting ${name}…`, 'info');
    await refreshServers();
  } catch (e) {
    if (!handleFatal(e)) toast(`Could not restart ${name}: ${(e as Error).message}`);
  }
}

/** Shown instead of opening a sign-in page whose address is not http(s). */
const NOT_A_WEB_ADDRESS = "The server's sign-in address is not a web address; not opening it.";

/**
 * Opens an OAuth sign-in page in a new tab, but only a web address (`http:`/`https:`, see
 * lib/url.ts): the address comes from the remote server's OAuth metadata, so anything else
 * (`javascript:`, `data:`…) is refused with a toast and never navigated to. The tab gets no
 * `window.opener` and no referrer, and no blank tab of the dashboard's own origin is opened
 * first and pointed at the address later. Returns whether it opened one.
 */
function openSignInPage(raw: string | null | undefined): boolean {
  const url = webUrl(raw);
  if (url === null) {
    toast(NOT_A_WEB_ADDRESS);
    return false;
  }
  window.open(url, '_blank', 'noopener,noreferrer');
  return true;
}

/** Starts (or re-opens) the OAuth sign-in of `name` and opens its page in a new tab. */
export async function signIn(name: string) {
  // The desktop app opens the system browser itself.
  const gatewayOpens = state.info?.signInOpensBrowser === true;
  // A pending sign-in whose page is known ("Open sign-in page"): open it right in the click, where
  // no popup blocker stops it.
  const pending = state.servers.find((s) => s.name === name)?.signIn;
  if (!gatewayOpens && pending?.pending && pending.url) {
    if (openSignInPage(pending.url)) toast(`Signing in to ${name}: finish in the new tab`, 'info');
    return;
  }
  try {
    const { url } = await api.signIn(name);
    if (gatewayOpens) toast(`Signing in to ${name}: finish in your browser`, 'info');
    // Opened after an await, so a popup blocker may stop it (and a noopener tab can't be told
    // from a blocked one); the row's "Open sign-in page" then opens it from the click.
    else if (openSignInPage(url)) toast(`Signing in to ${name}: finish in the new tab. If none opened, use “Open sign-in page”.`, 'info');
    await refreshServers();
  } catch (e) {
    if (!handleFatal(e)) toast(`Could not start the sign-in to ${name}: ${(e as Error).message}`);
  }
}

export async function cancelSignIn(name: string) {
  try {
    await api.cancelSignIn(name);
    await refreshServers();
  } catch (e) {
    if (!handleFatal(e)) toast(`Could not cancel: ${(e as Error).message}`);
  }
}

export async function signOut(name: string) {
  try {
    const { message, kind } = signedOutMessage(name, await api.signOut(name));
    toast(message, kind);
    await refreshServers();
  } catch (e) {
    if (!handleFatal(e)) toast(`Could not sign out of ${name}: ${(e as Error).message}`);
  }
}

export async function removeServer(name: string): Promise<boolean> {
  try {
    await api.removeServer(name);
    set({ servers: state.servers.filter((s) => s.name !== name) });
    toast(`Removed ${name}`, 'success');
    void refresh();
    return true;
  } catch (e) {
    if (!handleFatal(e)) toast(`Could not remove ${name}: ${(e as Error).message}`);
    return false;
  }
}

/** Our own change to a tool list: bump the version so open views refetch. */
export function toolsChanged() {
  set({ toolsVersion: state.toolsVersion + 1 });
  void refresh();
}

// ---- profiles --------------------------------------------------------------------------------

/** Re-reads GET /api/profiles (their clients and costs change with every change of servers,
 *  tools and bindings). Throws the API's error; a 401 also switches to the signed-out screen. */
export async function loadProfiles(): Promise<ProfilesView> {
  const profiles = await api.profiles();
  set({ profiles });
  return profiles;
}

/** Re-reads the profiles after a change, quietly (the change itself went through). */
async function reloadProfiles() {
  try {
    await loadProfiles();
  } catch (e) {
    handleFatal(e);
  }
}

/** Creates or replaces profile `name`. Throws the gateway's error (shown as it is). */
export async function saveProfile(name: string, settings: ProfileSettings) {
  await api.putProfile(name, settings);
  await reloadProfiles();
}

/** Deletes profile `name`. Throws the gateway's error (409 names the clients that use it). */
export async function deleteProfile(name: string) {
  await api.deleteProfile(name);
  if (state.profiles) set({ profiles: { ...state.profiles, profiles: state.profiles.profiles.filter((p) => p.name !== name) } });
  await reloadProfiles();
}

/** Binds client `id` to `profile` (null: everything). Throws the gateway's error. */
export async function bindClient(id: string, profile: string | null) {
  await api.setClientProfile(id, profile);
  await reloadProfiles();
}
