import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Suggestion } from '../api';
import { worthHinting } from './suggestions';

const s = (name: string, program: string | null, detected: string | null, command?: string): Suggestion => ({
  name,
  title: name,
  description: '',
  entry: command ? { command, args: [] } : { url: 'https://x/mcp' },
  program,
  detected,
  needs: [],
});

describe('worthHinting', () => {
  const all = [s('claude-code', 'claude', '/usr/bin/claude', '/usr/bin/claude'), s('memory', 'npx', '/usr/bin/npx', 'npx'), s('fetch', 'uvx', null, 'uvx'), s('github', null, null)];
  test('only installed programs other than npx/uvx', () => {
    assert.deepEqual(
      worthHinting(all, []).map((x) => x.name),
      ['claude-code'],
    );
  });
  test('not once added, by name or by command', () => {
    assert.deepEqual(worthHinting(all, [{ name: 'claude-code' }]), []);
    assert.deepEqual(worthHinting(all, [{ name: 'cc', config: { command: '/usr/bin/claude', args: ['mcp', 'serve'] } }]), []);
  });
});
