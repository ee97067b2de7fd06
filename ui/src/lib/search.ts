// Matching for the search boxes (tools page, a server's tool filter) and highlighting what matched.

/** The lower-cased, whitespace-separated terms of a query. */
export function searchTerms(query: string): string[] {
  return query.toLowerCase().split(/\s+/).filter(Boolean);
}

/** Case-insensitive match of every whitespace-separated term against the haystacks. */
export function matches(query: string, ...hay: (string | null | undefined)[]): boolean {
  const terms = searchTerms(query);
  if (terms.length === 0) return true;
  const text = hay.filter(Boolean).join('\n').toLowerCase();
  return terms.every((t) => text.includes(t));
}

export interface Segment {
  text: string;
  /** Part of a match of some term. */
  mark: boolean;
}

/** Splits `text` into runs that match a term of `query` (case-insensitive) and runs that don't. */
export function highlightSegments(text: string, query: string): Segment[] {
  const terms = searchTerms(query);
  if (terms.length === 0) return text ? [{ text, mark: false }] : [];
  const lower = text.toLowerCase();
  const marks = new Array<boolean>(text.length).fill(false);
  for (const t of terms) {
    let i = lower.indexOf(t);
    while (i !== -1) {
      for (let j = i; j < i + t.length; j++) marks[j] = true;
      i = lower.indexOf(t, i + t.length);
    }
  }
  const out: Segment[] = [];
  let i = 0;
  while (i < text.length) {
    const mark = marks[i];
    let j = i;
    while (j < text.length && marks[j] === mark) j++;
    out.push({ text: text.slice(i, j), mark });
    i = j;
  }
  return out;
}
