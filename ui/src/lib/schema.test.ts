import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { flattenSchema, jsonTokens, typeOf } from './schema';

describe('typeOf', () => {
  const root = { $defs: { Point: { type: 'object', properties: { x: { type: 'number' } } } } };
  test('plain types', () => {
    assert.equal(typeOf({ type: 'string' }, root), 'string');
    assert.equal(typeOf({ type: ['string', 'null'] }, root), 'string | null');
    assert.equal(typeOf({ type: 'string', format: 'uri' }, root), 'string (uri)');
    assert.equal(typeOf({}, root), 'any');
    assert.equal(typeOf(true, root), 'any');
  });
  test('arrays, maps, unions, consts, enums', () => {
    assert.equal(typeOf({ type: 'array', items: { type: 'integer' } }, root), 'integer[]');
    assert.equal(typeOf({ type: 'array' }, root), 'array');
    assert.equal(typeOf({ type: 'object', additionalProperties: { type: 'number' } }, root), 'map<string, number>');
    assert.equal(typeOf({ anyOf: [{ type: 'string' }, { type: 'null' }, { type: 'string' }] }, root), 'string | null');
    assert.equal(typeOf({ const: 'on' }, root), '"on"');
    assert.equal(typeOf({ enum: ['a', 'b'] }, root), 'enum');
  });
  test('local $refs are followed', () => {
    assert.equal(typeOf({ $ref: '#/$defs/Point' }, root), 'object');
    assert.equal(typeOf({ $ref: '#/$defs/Missing' }, root), 'Missing');
  });
});

describe('flattenSchema', () => {
  test('fields with types, required, descriptions and details', () => {
    const rows = flattenSchema({
      type: 'object',
      required: ['message'],
      properties: {
        message: { type: 'string', description: 'Text to echo', maxLength: 10 },
        count: { type: 'integer', minimum: 1, default: 1, title: 'How many times' },
        mode: { enum: ['a', 'b'], title: 'Mode' },
      },
    });
    assert.deepEqual(
      rows.map((r) => [r.key, r.type, r.required, r.description, r.details]),
      [
        ['message', 'string', true, 'Text to echo', ['max length 10']],
        ['count', 'integer', false, 'How many times', ['default: 1', '≥ 1']],
        ['mode', 'enum', false, null, ['one of: "a", "b"']],
      ],
    );
  });
  test('nested objects and arrays of objects, with depth', () => {
    const rows = flattenSchema({
      type: 'object',
      properties: {
        opts: { type: 'object', required: ['retries'], properties: { retries: { type: 'integer' } } },
        points: { type: 'array', items: { $ref: '#/$defs/Point' } },
      },
      $defs: { Point: { type: 'object', properties: { x: { type: 'number' } } } },
    });
    assert.deepEqual(
      rows.map((r) => [r.key, r.depth, r.required]),
      [
        ['opts', 0, false],
        ['opts.retries', 1, true],
        ['points', 0, false],
        ['points.x', 1, false],
      ],
    );
  });
  test('a recursive $ref stops instead of looping', () => {
    const rows = flattenSchema({
      $ref: '#/$defs/Node',
      $defs: { Node: { type: 'object', properties: { name: { type: 'string' }, child: { $ref: '#/$defs/Node' } } } },
    });
    assert.ok(rows.length > 0 && rows.length < 40, `got ${rows.length} rows`);
    assert.deepEqual(rows.slice(0, 2).map((r) => r.key), ['name', 'child']);
  });
  test('no properties: no rows', () => {
    assert.deepEqual(flattenSchema({ type: 'object' }), []);
    assert.deepEqual(flattenSchema({}), []);
  });
});

describe('jsonTokens', () => {
  test('keys, strings, numbers, literals and the rest', () => {
    const text = JSON.stringify({ a: 'x', n: -1.5e3, t: true, z: null }, null, 2);
    const tokens = jsonTokens(text);
    assert.equal(tokens.map((t) => t.text).join(''), text);
    const kinds = tokens.filter((t) => t.kind).map((t) => `${t.kind}:${t.text}`);
    assert.deepEqual(kinds, ['key:"a"', 'str:"x"', 'key:"n"', 'num:-1500', 'key:"t"', 'lit:true', 'key:"z"', 'lit:null']);
  });
  test('escaped quotes stay inside their string', () => {
    const tokens = jsonTokens(JSON.stringify({ q: 'say "hi"' }));
    assert.deepEqual(tokens.filter((t) => t.kind === 'str').map((t) => t.text), ['"say \\"hi\\""']);
  });
});
