import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expandTemplate, templateVariables } from './uri-template';

describe('resource templates', () => {
  test('variables, each once, in order', () => {
    assert.deepEqual(templateVariables('demo://resource/dynamic/text/{resourceId}'), ['resourceId']);
    assert.deepEqual(templateVariables('x://{a}/{+b}{?c,d}{&a}'), ['a', 'b', 'c', 'd']);
  });
  test('expansion', () => {
    assert.equal(expandTemplate('demo://resource/dynamic/text/{resourceId}', { resourceId: '7' }), 'demo://resource/dynamic/text/7');
    assert.equal(expandTemplate('x://{a}', { a: 'a b/c' }), 'x://a%20b%2Fc');
    assert.equal(expandTemplate('x://{+path}', { path: 'a/b c' }), 'x://a/b%20c');
    assert.equal(expandTemplate('x://s{?q,n}', { q: 'hi there', n: '2' }), 'x://s?q=hi%20there&n=2');
    assert.equal(expandTemplate('x://s{?q,n}', { n: '2' }), 'x://s?n=2');
    assert.equal(expandTemplate('x://{/a,b}', { a: '1', b: '2' }), 'x:///1/2');
  });
});
