import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { webUrl } from './url';

describe('webUrl', () => {
  test('http and https addresses pass, normalized', () => {
    assert.equal(webUrl('https://auth.example.com/authorize?client_id=a&state=b'), 'https://auth.example.com/authorize?client_id=a&state=b');
    assert.equal(webUrl('http://127.0.0.1:8123/authorize'), 'http://127.0.0.1:8123/authorize');
    assert.equal(webUrl('HTTPS://Auth.Example.COM'), 'https://auth.example.com/');
    assert.equal(webUrl('  https://example.com/a b  '), 'https://example.com/a%20b');
  });
  test('script and other schemes are refused', () => {
    for (const raw of [
      'javascript:alert(document.cookie)',
      'JavaScript:alert(1)',
      ' javascript:alert(1)',
      'java\tscript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox(1)',
      'file:///etc/passwd',
      'blob:https://example.com/1234',
      'ftp://example.com/x',
      'about:blank',
      'mailto:a@example.com',
    ]) {
      assert.equal(webUrl(raw), null, raw);
    }
  });
  test('relative and unparsable addresses are refused (never resolved against the dashboard)', () => {
    for (const raw of ['/api/servers', '//evil.example.com/x', 'example.com/authorize', '', 'http://', 'https://exa mple.com']) {
      assert.equal(webUrl(raw), null, raw);
    }
  });
  test('non-strings are refused', () => {
    assert.equal(webUrl(null), null);
    assert.equal(webUrl(undefined), null);
    assert.equal(webUrl(42), null);
    assert.equal(webUrl({ href: 'https://example.com' }), null);
  });
});
