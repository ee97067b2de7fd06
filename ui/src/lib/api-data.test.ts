import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errorMessage, normalizeTool } from './api-data';

describe('errorMessage', () => {
  test('the admin API shape, with and without a field', () => {
    assert.deepEqual(errorMessage({ error: 'bad url', field: 'url' }, 400), { message: 'bad url', field: 'url' });
    assert.deepEqual(errorMessage({ error: 'nope', field: 3 }, 400), { message: 'nope', field: null });
  });
  test('the guard refusing a token answers the same shape', () => {
    assert.deepEqual(errorMessage({ error: 'Unauthorized: wrong access token' }, 401), { message: 'Unauthorized: wrong access token', field: null });
  });
  test('anything else: the HTTP status', () => {
    for (const body of [null, 'text', { error: 42 }, { error: '' }, { error: { code: 1, message: 'rpc' } }]) {
      assert.deepEqual(errorMessage(body, 502), { message: 'The gateway answered HTTP 502.', field: null });
    }
  });
});

describe('normalizeTool', () => {
  test('the flat shape', () => {
    const t = normalizeTool({ name: 'gh__create', originalName: 'create', description: 'd', inputSchema: { type: 'object', properties: {} }, enabled: false });
    assert.equal(t.name, 'gh__create');
    assert.equal(t.originalName, 'create');
    assert.equal(t.enabled, false);
    assert.equal(t.title, null);
    assert.equal(t.outputSchema, null);
  });
  test('the older nested shape', () => {
    const t = normalizeTool({ tool: { name: 'echo', title: 'Echo', inputSchema: { type: 'object' } }, originalName: 'echo' });
    assert.equal(t.name, 'echo');
    assert.equal(t.title, 'Echo');
    assert.equal(t.enabled, true);
  });
  test('defaults for what is missing', () => {
    assert.deepEqual(normalizeTool(null), {
      name: '',
      originalName: '',
      title: null,
      description: null,
      annotations: null,
      inputSchema: { type: 'object' },
      outputSchema: null,
      enabled: true,
    });
  });
});
