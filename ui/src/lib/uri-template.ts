// Resource templates (RFC 6570, the forms MCP servers use): the variables a template names, and
// the URI it stands for once they are filled in. No DOM.

const EXPR = /\{([+#./;?&]?)([^}]+)\}/g;

/** The variable names of `template`, in order, each once ("{a}/{+b}{?c,d}" → a, b, c, d). */
export function templateVariables(template: string): string[] {
  const out: string[] = [];
  for (const m of template.matchAll(EXPR)) {
    for (const raw of m[2].split(',')) {
      const name = raw.replace(/[*]$/, '').replace(/:\d+$/, '').trim();
      if (name && !out.includes(name)) out.push(name);
    }
  }
  return out;
}

const enc = (v: string, reserved: boolean) =>
  reserved ? encodeURI(v).replace(/%25([0-9A-Fa-f]{2})/g, '%$1') : encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** `template` with `values` filled in (simple, reserved `+`, fragment `#`, label `.`, path `/`,
 *  and query `?`/`&` expressions); an empty value leaves its part out, as RFC 6570 says. */
export function expandTemplate(template: string, values: Record<string, string>): string {
  return template.replace(EXPR, (_all, op: string, vars: string) => {
    const names = vars.split(',').map((v) => v.replace(/[*]$/, '').replace(/:\d+$/, '').trim());
    const defined = names.filter((n) => values[n] !== undefined && values[n] !== '');
    if (defined.length === 0) return '';
    const reserved = op === '+' || op === '#';
    const parts = defined.map((n) => (op === '?' || op === '&' || op === ';' ? `${n}=${enc(values[n], false)}` : enc(values[n], reserved)));
    switch (op) {
      case '+':
        return parts.join(',');
      case '#':
        return `#${parts.join(',')}`;
      case '.':
        return `.${parts.join('.')}`;
      case '/':
        return `/${parts.join('/')}`;
      case ';':
        return `;${parts.join(';')}`;
      case '?':
        return `?${parts.join('&')}`;
      case '&':
        return `&${parts.join('&')}`;
      default:
        return parts.join(',');
    }
  });
}
