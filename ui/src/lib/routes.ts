// Hash routes: #/, #/servers/NAME[?tool=X], #/servers/NAME/edit, #/tools[?q=…], #/add[?suggest=NAME],
// #/connect, #/profiles, #/profiles/new, #/profiles/NAME/edit;
// #/servers/NAME/play[?tool=X&args=JSON] (the playground), #/activity[?id=N&server=…&client=…&tool=…&outcome=…].
// Parsing and building them (no DOM); router.ts follows location.hash.

export type Route =
  | { page: 'servers' }
  | { page: 'server'; server: string; tool: string | null }
  | { page: 'edit'; server: string }
  | { page: 'tools'; q: string }
  | { page: 'add'; suggest: string | null }
  | { page: 'connect' }
  | { page: 'profiles' }
  /** The profile editor: `profile` null creates one. */
  | { page: 'profile'; profile: string | null }
  | { page: 'play'; server: string; tool: string | null; args: string | null }
  | { page: 'activity'; id: number | null; server: string; client: string; tool: string; outcome: string }
  | { page: 'notfound'; path: string };

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const [path, query = ''] = raw.split('?', 2);
  const params = new URLSearchParams(query);
  const parts = path
    .split('/')
    .filter(Boolean)
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  if (parts.length === 0) return { page: 'servers' };
  if (parts[0] === 'servers' && parts.length === 1) return { page: 'servers' };
  if (parts[0] === 'servers' && parts.length === 2) return { page: 'server', server: parts[1], tool: params.get('tool') };
  if (parts[0] === 'servers' && parts.length === 3 && parts[2] === 'edit') return { page: 'edit', server: parts[1] };
  if (parts[0] === 'tools' && parts.length === 1) return { page: 'tools', q: params.get('q') ?? '' };
  if (parts[0] === 'add' && parts.length === 1) return { page: 'add', suggest: params.get('suggest') };
  if (parts[0] === 'connect' && parts.length === 1) return { page: 'connect' };
  if (parts[0] === 'profiles' && parts.length === 1) return { page: 'profiles' };
  if (parts[0] === 'profiles' && parts.length === 2 && parts[1] === 'new') return { page: 'profile', profile: null };
  if (parts[0] === 'profiles' && parts.length === 3 && parts[2] === 'edit') return { page: 'profile', profile: parts[1] };
  if (parts[0] === 'servers' && parts.length === 3 && parts[2] === 'play')
    return { page: 'play', server: parts[1], tool: params.get('tool'), args: params.get('args') };
  if (parts[0] === 'activity' && parts.length === 1) {
    const id = Number(params.get('id'));
    return {
      page: 'activity',
      id: params.get('id') && Number.isInteger(id) ? id : null,
      server: params.get('server') ?? '',
      client: params.get('client') ?? '',
      tool: params.get('tool') ?? '',
      outcome: params.get('outcome') ?? '',
    };
  }
  return { page: 'notfound', path };
}

/** Links to every page (always `#/…`: names are percent-encoded, so they stay in the hash). */
export const href = {
  servers: () => '#/',
  server: (name: string, tool?: string) =>
    `#/servers/${encodeURIComponent(name)}${tool ? `?tool=${encodeURIComponent(tool)}` : ''}`,
  edit: (name: string) => `#/servers/${encodeURIComponent(name)}/edit`,
  tools: (q?: string) => (q ? `#/tools?q=${encodeURIComponent(q)}` : '#/tools'),
  add: (suggest?: string) => (suggest ? `#/add?suggest=${encodeURIComponent(suggest)}` : '#/add'),
  connect: () => '#/connect',
  profiles: () => '#/profiles',
  newProfile: () => '#/profiles/new',
  editProfile: (name: string) => `#/profiles/${encodeURIComponent(name)}/edit`,
  /** The playground of `server`, with `tool` open and `args` (a JSON object) filled in. */
  play: (server: string, tool?: string, args?: unknown) => {
    const q = new URLSearchParams();
    if (tool) q.set('tool', tool);
    if (args !== undefined) q.set('args', JSON.stringify(args));
    const s = q.toString();
    return `#/servers/${encodeURIComponent(server)}/play${s ? `?${s}` : ''}`;
  },
  /** The Activity page, filtered, with call `id` open. */
  activity: (f: { id?: number; server?: string; client?: string; tool?: string; outcome?: string } = {}) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(f)) if (v !== undefined && v !== '') q.set(k, String(v));
    const s = q.toString();
    return `#/activity${s ? `?${s}` : ''}`;
  },
};
