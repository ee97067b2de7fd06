// Keychain references in the config: a value `${secret:NAME}` stands for a secret stored in the OS
// keychain under NAME (the value itself is never shown).

/** `${secret:NAME}` → NAME, else null. */
export function secretRef(value: string | undefined | null): string | null {
  if (typeof value !== 'string') return null;
  const m = /^\$\{secret:([^}]*)\}$/.exec(value.trim());
  return m ? m[1] : null;
}
