import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clockTime } from './format';
import { logsText, sameLogs } from './logs';

const line = (tsMs: number, text: string, source = 'stderr') => ({ tsMs, source, line: text });

describe('sameLogs', () => {
  test('same length and same ends: the same', () => {
    assert.equal(sameLogs([line(1, 'a'), line(2, 'b')], [line(1, 'a'), line(2, 'b')]), true);
    assert.equal(sameLogs([], []), true);
  });
  test('a new line, a rotated start or a changed last line: different', () => {
    assert.equal(sameLogs([line(1, 'a')], [line(1, 'a'), line(2, 'b')]), false);
    assert.equal(sameLogs([line(1, 'a'), line(2, 'b')], [line(0, 'z'), line(2, 'b')]), false);
    assert.equal(sameLogs([line(1, 'a'), line(2, 'b')], [line(1, 'a'), line(2, 'c')]), false);
  });
});

describe('logsText', () => {
  test('time, source and text, one line each', () => {
    const t = new Date(2024, 4, 6, 7, 8, 9, 10).getTime();
    assert.equal(logsText([line(t, 'ready', 'gateway'), line(t, 'oops')]), `${clockTime(t)} [gateway] ready\n${clockTime(t)} [stderr] oops`);
    assert.equal(logsText([]), '');
  });
});
