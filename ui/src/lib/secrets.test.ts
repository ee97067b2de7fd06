import assert from 'node:assert/strict';
import { test } from 'node:test';
import { secretRef } from './secrets';

test('secretRef reads ${secret:NAME} references', () => {
  assert.equal(secretRef('${secret:loopgate/github/TOKEN}'), 'loopgate/github/TOKEN');
  assert.equal(secretRef('  ${secret:x}  '), 'x');
  assert.equal(secretRef('${secret:}'), '');
});

test('secretRef: anything else is not a reference', () => {
  assert.equal(secretRef('ghp_plain'), null);
  assert.equal(secretRef('Bearer ${secret:x}'), null);
  assert.equal(secretRef('${secret:a}b}'), null);
  assert.equal(secretRef(null), null);
  assert.equal(secretRef(undefined), null);
});
