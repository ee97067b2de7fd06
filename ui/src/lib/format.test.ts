import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clockTime, duration, firstLine, oneLine, plural, shortId, stateLabel } from './format';

describe('plural', () => {
  test('one and many', () => {
    assert.equal(plural(1, 'tool'), '1 tool');
    assert.equal(plural(0, 'tool'), '0 tools');
    assert.equal(plural(3, 'tool'), '3 tools');
    assert.equal(plural(2, 'entry', 'entries'), '2 entries');
  });
});

describe('duration', () => {
  test('each unit', () => {
    assert.equal(duration(0), '0s');
    assert.equal(duration(9_999), '9s');
    assert.equal(duration(4 * 60_000 + 12_000), '4m 12s');
    assert.equal(duration(2 * 3_600_000 + 5 * 60_000 + 59_000), '2h 5m');
    assert.equal(duration(3 * 86_400_000 + 4 * 3_600_000 + 1), '3d 4h');
  });
  test('negative is 0s', () => {
    assert.equal(duration(-5000), '0s');
  });
});

describe('clockTime', () => {
  test('local time with milliseconds, zero-padded', () => {
    assert.equal(clockTime(new Date(2024, 0, 2, 3, 4, 5, 6).getTime()), '03:04:05.006');
    assert.equal(clockTime(new Date(2024, 11, 31, 23, 59, 59, 999).getTime()), '23:59:59.999');
  });
});

describe('firstLine / oneLine', () => {
  test('firstLine takes the first line, trimmed', () => {
    assert.equal(firstLine('  Echoes the input.\nMore text.'), 'Echoes the input.');
  });
  test('firstLine cuts past 160 characters', () => {
    const long = 'x'.repeat(200);
    assert.equal(firstLine(long), `${'x'.repeat(157)}…`);
    assert.equal(firstLine('y'.repeat(160)), 'y'.repeat(160));
  });
  test('oneLine joins lines and collapses whitespace', () => {
    assert.equal(oneLine(' Adds\n  two   numbers.\t'), 'Adds two numbers.');
  });
  test('oneLine cuts past 220 characters', () => {
    assert.equal(oneLine('z'.repeat(300)), `${'z'.repeat(217)}…`);
  });
});

describe('shortId', () => {
  test('long ids keep their ends', () => {
    assert.equal(shortId('a3f09c2e71b84d6f9e0c55d1b2a7e410'), 'a3f09c…a7e410');
  });
  test('short ids stay', () => {
    assert.equal(shortId('abc'), 'abc');
    assert.equal(shortId('12345678901234'), '12345678901234');
  });
});

describe('stateLabel', () => {
  test('every state has a label', () => {
    assert.equal(stateLabel['needs-sign-in'], 'Needs sign-in');
    assert.equal(Object.keys(stateLabel).length, 6);
  });
});
