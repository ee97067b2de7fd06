// On the Servers page (first run included): the well-known servers whose program is installed
// here (Claude Code's `claude`) and not added yet, each a link to the Add page filled in for it.

import { useEffect, useState } from 'preact/hooks';
import { api, type Server, type Suggestion } from '../api';
import { IconPlus } from '../components/icons';
import { worthHinting } from '../lib/suggestions';
import { href } from '../router';

export function SuggestedHint({ servers }: { servers: Server[] }) {
  const [all, setAll] = useState<Suggestion[]>([]);
  useEffect(() => {
    let alive = true;
    api
      .suggestions()
      .then((r) => alive && setAll(r.suggestions))
      .catch(() => {});
    return () => {
      alive = false;
    };
  }, []);
  const hints = worthHinting(all, servers);
  if (hints.length === 0) return null;
  return (
    <div class="suggested-hints" data-testid="suggested-hints">
      {hints.map((s) => (
        <div key={s.name} class="alert alert-info suggested-hint">
          <div class="alert-text">
            <strong>{s.title} is installed on this computer.</strong> {s.description}.
          </div>
          <a class="btn btn-sm" href={href.add(s.name)} data-testid={`suggested-add-${s.name}`}>
            <IconPlus size={14} /> Add it
          </a>
        </div>
      ))}
    </div>
  );
}
