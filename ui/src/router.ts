// Hash routes: #/, #/servers/NAME[?tool=X], #/servers/NAME/edit, #/tools[?q=…], #/add, #/connect

import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'servers' }
  | { page: 'server'; server: string; tool: string | null }
  | { page: 'edit'; server: string }
  | { page: 'tools'; q: string }
  | { page: 'add' }
  | { page: 'connect' }
  | { page: 'notfound'; path: string };

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const [path, query = ''] = raw.split('?', 2);
  const params = new URLSearchParams(query);
  const parts = path.split('/').filter(Boolean).map((p) => {
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
  if (parts[0] === 'add' && parts.length === 1) return { page: 'add' };
  if (parts[0] === 'connect' && parts.length === 1) return { page: 'connect' };
  return { page: 'notfound', path };
}

export const href = {
  servers: () => '#/',
  server: (name: string, tool?: string) =>
    `#/servers/${encodeURIComponent(name)}${tool ? `?tool=${encodeURIComponent(tool)}` : ''}`,
  edit: (name: string) => `#/servers/${encodeURIComponent(name)}/edit`,
  tools: (q?: string) => (q ? `#/tools?q=${encodeURIComponent(q)}` : '#/tools'),
  add: () => '#/add',
  connect: () => '#/connect',
};

export function navigate(to: string, replace = false) {
  if (replace) {
    history.replaceState(null, '', to);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = to;
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const fn = () => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', fn);
    return () => window.removeEventListener('hashchange', fn);
  }, []);
  return route;
}
