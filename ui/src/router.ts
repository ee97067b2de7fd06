// Follows location.hash; the routes themselves are parsed and built in lib/routes.ts.

import { useEffect, useState } from 'preact/hooks';
import { parseHash, type Route } from './lib/routes';

export { href, parseHash, type Route } from './lib/routes';

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
