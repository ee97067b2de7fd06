// "Start from a well-known server" on the Add page: GET /api/suggestions as buttons that fill the
// form (Claude Code's `claude mcp serve` first when it is installed here). `preselect` (from
// #/add?suggest=NAME) fills the form with that one as soon as the list arrives.

import { useEffect, useState } from 'preact/hooks';
import { api, type Suggestion } from '../../api';
import { IconCheck } from '../../components/icons';
import { valuesFromSuggestion } from '../../lib/server-form';
import type { ServerForm } from './use-server-form';

export function Suggestions({ form, preselect }: { form: ServerForm; preselect: string | null }) {
  const [list, setList] = useState<Suggestion[] | null>(null);
  const [picked, setPicked] = useState<string | null>(null);

  const pick = (s: Suggestion) => {
    form.fill(valuesFromSuggestion(s));
    setPicked(s.name);
  };

  useEffect(() => {
    let alive = true;
    api
      .suggestions()
      .then((r) => {
        if (!alive) return;
        setList(r.suggestions);
        const pre = preselect ? r.suggestions.find((s) => s.name === preselect) : undefined;
        if (pre) pick(pre);
      })
      // Suggestions are a convenience: without them the blank form still works.
      .catch(() => alive && setList([]));
    return () => {
      alive = false;
    };
  }, []);

  if (!list || list.length === 0) return null;
  return (
    <section class="card suggestions" aria-labelledby="suggestions-h" data-testid="suggestions">
      <div class="card-head">
        <div>
          <h2 id="suggestions-h" class="card-title">
            Start from a well-known server
          </h2>
          <p class="card-sub">Pick one to fill in the form below, then check it and add it.</p>
        </div>
      </div>
      <ul class="suggestion-list" role="list">
        {list.map((s) => (
          <li key={s.name}>
            <button
              type="button"
              class={`suggestion${picked === s.name ? ' is-picked' : ''}`}
              aria-pressed={picked === s.name}
              data-testid={`suggestion-${s.name}`}
              data-detected={s.detected !== null}
              title={s.detected ? `Found at ${s.detected}` : s.program ? `Needs ${s.program} on this computer` : undefined}
              onClick={() => pick(s)}
            >
              <span class="suggestion-title">
                {s.title}
                {s.detected && s.program && !['npx', 'uvx'].includes(s.program) && (
                  <span class="badge badge-detected">
                    <IconCheck size={11} /> Installed
                  </span>
                )}
              </span>
              <span class="suggestion-desc">{s.description}</span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
