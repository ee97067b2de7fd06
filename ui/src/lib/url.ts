// Addresses that came from elsewhere (a remote server's OAuth metadata, relayed by the gateway) are
// only ever opened or linked when they are plain web addresses.

/**
 * `raw` as a normalized absolute URL if it parses (`new URL`, no base) and its scheme is `http:`
 * or `https:`; otherwise null. So `javascript:`, `data:`, `file:`, `blob:`, relative paths and
 * anything unparsable are refused — a refused address must never be opened, linked or navigated
 * to. Open the returned string, not `raw`: it is exactly what was checked.
 */
export function webUrl(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
}
