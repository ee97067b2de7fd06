import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { effectiveEnabled, reconnectDelay, settlePending, signedOutMessage } from './servers';

describe('effectiveEnabled', () => {
  test('an in-flight switch click wins', () => {
    assert.equal(effectiveEnabled({ name: 'a', enabled: true }, { a: false }), false);
    assert.equal(effectiveEnabled({ name: 'a', enabled: false }, { a: true }), true);
    assert.equal(effectiveEnabled({ name: 'a', enabled: true }, { b: false }), true);
  });
});

describe('settlePending', () => {
  test('drops the values the servers caught up with', () => {
    const pending = { a: false, b: true };
    assert.deepEqual(
      settlePending(pending, [
        { name: 'a', enabled: false },
        { name: 'b', enabled: false },
      ]),
      { b: true },
    );
    assert.deepEqual(pending, { a: false, b: true }, 'the input is not changed');
  });
  test('the same object when nothing changed', () => {
    const pending = { a: true };
    assert.equal(settlePending(pending, [{ name: 'a', enabled: false }]), pending);
    assert.equal(settlePending(pending, []), pending);
  });
});

describe('reconnectDelay', () => {
  test('doubles from 1 s up to 10 s', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 10].map(reconnectDelay), [1000, 2000, 4000, 8000, 10000, 10000]);
  });
});

describe('signedOutMessage', () => {
  test('revoked, nothing stored, no revocation offered', () => {
    assert.deepEqual(signedOutMessage('s', { removed: true, revocation: { outcome: 'revoked' } }), {
      message: 'Signed out of s; its tokens were revoked and deleted from the keychain',
      kind: 'success',
    });
    assert.deepEqual(signedOutMessage('s', { removed: false, revocation: { outcome: 'nothing-to-revoke' } }), { message: 's had no stored sign-in', kind: 'success' });
    const unsupported = signedOutMessage('s', { removed: true, revocation: { outcome: 'unsupported' } });
    assert.equal(unsupported.kind, 'success');
    assert.match(unsupported.message, /offers no revocation/);
  });
  test('a failed revocation is an error naming the reason', () => {
    const m = signedOutMessage('s', { removed: true, revocation: { outcome: 'failed', detail: 'HTTP 500' } });
    assert.equal(m.kind, 'error');
    assert.match(m.message, /revoking them failed \(HTTP 500\)/);
  });
});
