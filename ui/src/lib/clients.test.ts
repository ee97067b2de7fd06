import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { monogram, noticeFor } from './clients';

describe('noticeFor', () => {
  const c = { name: 'Cursor' };
  test('a written install or removal, with its backup', () => {
    assert.deepEqual(noticeFor(c, 'install', { written: true, backup: '/h/.cursor/mcp.json.bak' }), {
      kind: 'ok',
      title: 'Added to Cursor',
      text: 'restart Cursor to pick it up.',
      backup: '/h/.cursor/mcp.json.bak',
    });
    assert.equal(noticeFor(c, 'uninstall', { written: true, backup: null }).title, 'Removed from Cursor');
  });
  test('nothing written: information, not success', () => {
    assert.equal(noticeFor(c, 'install', { written: false, backup: null }).kind, 'info');
    assert.equal(noticeFor(c, 'uninstall', { written: false, backup: null }).title, 'Loopgate wasn’t in Cursor’s config');
  });
});

describe('monogram', () => {
  test('initials of two capitalized words, else the first two letters', () => {
    assert.equal(monogram('Claude Desktop'), 'CD');
    assert.equal(monogram('VS Code'), 'VC');
    assert.equal(monogram('Cursor'), 'Cu');
    assert.equal(monogram('claude code'), 'cl');
    assert.equal(monogram('Codex CLI'), 'Co');
    assert.equal(monogram('GitHub Copilot CLI'), 'GC');
  });
});
