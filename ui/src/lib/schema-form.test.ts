import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildFields, initialValues, parseRawArguments, toArguments, valueFor } from './schema-form';

const schema = {
  type: 'object',
  properties: {
    a: { type: 'number', description: 'First' },
    b: { type: 'integer', default: 2 },
    name: { type: 'string' },
    mode: { type: 'string', enum: ['fast', 'slow'], default: 'fast' },
    on: { type: 'boolean' },
    tags: { type: 'array', items: { type: 'string' } },
    opts: { $ref: '#/$defs/Opts' },
    anything: {},
    maybe: { anyOf: [{ type: 'string' }, { type: 'null' }] },
  },
  required: ['a', 'on'],
  $defs: { Opts: { type: 'object', properties: { retries: { type: 'integer' } }, required: ['retries'] } },
};

describe('buildFields', () => {
  test('kinds, required marks, defaults, descriptions, $ref and nullable', () => {
    const f = buildFields(schema);
    const by = Object.fromEntries(f.map((x) => [x.name, x]));
    assert.equal(by.a.kind, 'number');
    assert.equal(by.a.required, true);
    assert.equal(by.a.description, 'First');
    assert.equal(by.b.kind, 'integer');
    assert.equal(by.b.default, 2);
    assert.equal(by.mode.kind, 'enum');
    assert.deepEqual(by.mode.options, ['fast', 'slow']);
    assert.equal(by.on.kind, 'boolean');
    assert.equal(by.tags.kind, 'array');
    assert.equal(by.tags.item?.kind, 'string');
    assert.equal(by.opts.kind, 'object');
    assert.equal(by.opts.fields?.[0].key, 'opts.retries');
    assert.equal(by.anything.kind, 'json');
    assert.equal(by.maybe.kind, 'string');
    assert.equal(by.maybe.nullable, true);
  });
  test('no schema, no fields', () => {
    assert.deepEqual(buildFields(undefined), []);
    assert.deepEqual(buildFields({ type: 'object' }), []);
  });
});

describe('toArguments', () => {
  test('defaults fill the form and come back as arguments', () => {
    const f = buildFields(schema);
    const v = initialValues(f);
    assert.equal(v.b, '2');
    assert.equal(v.mode, '"fast"');
    assert.equal(v.on, false);
    const { args, errors } = toArguments(f, { ...v, a: '1.5', tags: ['x', 'y'], opts: { retries: '3' }, anything: '{"k": [1]}' });
    assert.deepEqual(errors, {});
    assert.deepEqual(args, { a: 1.5, b: 2, mode: 'fast', on: false, tags: ['x', 'y'], opts: { retries: 3 }, anything: { k: [1] } });
  });
  test('missing required fields and bad numbers or JSON are reported per field', () => {
    const f = buildFields(schema);
    const { errors } = toArguments(f, { b: '2.5', opts: {}, anything: '{nope' });
    assert.equal(errors.a, 'required');
    assert.equal(errors.b, 'must be a whole number');
    assert.equal(errors['opts.retries'], 'required');
    assert.match(errors.anything, /not valid JSON/);
  });
  test('recorded arguments fill the form back', () => {
    const f = buildFields(schema);
    const v = initialValues(f, { a: 7, tags: ['q'], mode: 'slow' });
    assert.equal(v.a, '7');
    assert.deepEqual(v.tags, ['q']);
    assert.equal(valueFor(f[3], 'slow'), '"slow"');
    assert.deepEqual(toArguments(f, v).args.mode, 'slow');
  });
});

describe('parseRawArguments', () => {
  test('an object, empty, or an error', () => {
    assert.deepEqual(parseRawArguments('{"a": 1}'), { args: { a: 1 } });
    assert.deepEqual(parseRawArguments('  '), { args: {} });
    assert.ok('error' in parseRawArguments('[1]'));
    assert.ok('error' in parseRawArguments('{'));
  });
});
