// Command lines of stdio servers: splitting one pasted into the form, showing one for copying.

/** Starts a drive path (`C:\…`) or a UNC path (`\\host\…`) at the start of a word. */
const WINDOWS_PATH = /(?:^|[\s"'=])(?:[A-Za-z]:\\|\\\\[^\\\s"'])/;

/**
 * Splits a pasted command line into the program and its arguments.
 *
 * - Whitespace separates arguments. `'…'` and `"…"` group (the quotes are removed); pieces next
 *   to each other join (`--x="a b"` → `--x=a b`); `""` is an empty argument. An unclosed quote
 *   runs to the end of the line.
 * - Inside single quotes everything is literal.
 * - Backslashes are literal, with one exception: on a line that does not look like Windows, a
 *   backslash escapes the character after it when that is whitespace, a quote or another
 *   backslash (`e\ f` → `e f`, `\"` → `"`, `\\` → `\`), both outside quotes and (for `"` and `\`)
 *   inside double quotes, as a POSIX shell would. Any other backslash stays (`\d+` → `\d+`,
 *   `dist\index.js` → `dist\index.js`).
 * - A line looks like Windows when a word starts with a drive path (`C:\`) or a UNC path
 *   (`\\host\`): then every backslash is literal, so `C:\Users\me\srv.exe`,
 *   `"C:\Program Files\srv.exe"`, `C:\data\ --verbose` and `\\host\share\srv.exe` come through
 *   unchanged.
 */
export function splitCommandLine(line: string): string[] {
  const escapes = !WINDOWS_PATH.test(line);
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | null = null;
  let has = false; // the current argument exists even if empty ("" or '')
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    const next = line[i + 1];
    if (quote === "'") {
      if (c === "'") quote = null;
      else cur += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && escapes && (next === '"' || next === '\\')) cur += line[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === '\\' && escapes && next !== undefined && /[\s"'\\]/.test(next)) {
      cur += line[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
    }
  }
  if (has || cur) out.push(cur);
  return out;
}

/** Quotes `arg` for a POSIX shell when it needs it (`it's` → `'it'\''s'`). */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_\-./:=@%+,]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A command and its arguments as one line for people to read and copy. */
export function commandLine(command: string, args: readonly string[] = []): string {
  return [command, ...args].map(shellQuote).join(' ');
}

/** The form's "Arguments" box (one argument per line) as a list: blank lines are dropped, a
 *  trailing CR (pasted from Windows) is removed, other whitespace is kept. */
export function argsFromText(text: string): string[] {
  return text
    .split('\n')
    .map((a) => a.replace(/\r$/, ''))
    .filter((a) => a.trim() !== '');
}

/** Whether the form should offer to split the Command field into command and arguments: it
 *  holds whitespace inside and the Arguments box is still empty. */
export function looksLikeCommandLine(command: string, argsText: string): boolean {
  return /\s/.test(command.trim()) && argsText.trim() === '';
}
