import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { highlightSegments, matches, searchTerms } from './search';

describe('matches', () => {
  test('every term must appear, in any haystack, ignoring case', () => {
    assert.equal(matches('ECHO everything', 'everything__echo', null), true);
    assert.equal(matches('echo py', 'everything__echo', 'everything'), false);
    assert.equal(matches('sum', undefined, 'Returns the SUM'), true);
  });
  test('an empty query matches everything', () => {
    assert.equal(matches('  ', 'x'), true);
    assert.equal(matches(''), true);
  });
  test('terms do not match across haystacks', () => {
    assert.equal(matches('ab', 'a', 'b'), false);
  });
});

describe('searchTerms', () => {
  test('lower-cased words', () => {
    assert.deepEqual(searchTerms('  Foo\tBAR  '), ['foo', 'bar']);
  });
});

describe('highlightSegments', () => {
  test('marks every occurrence of every term', () => {
    assert.deepEqual(highlightSegments('echo_echo', 'ECHO'), [
      { text: 'echo', mark: true },
      { text: '_', mark: false },
      { text: 'echo', mark: true },
    ]);
  });
  test('overlapping terms merge into one mark', () => {
    assert.deepEqual(highlightSegments('get-sum', 'get t-s'), [
      { text: 'get-s', mark: true },
      { text: 'um', mark: false },
    ]);
  });
  test('the text comes back whole', () => {
    const text = 'Search issues in GitHub';
    assert.equal(highlightSegments(text, 'issue hub').map((s) => s.text).join(''), text);
  });
  test('no terms: the text unmarked; no text: nothing', () => {
    assert.deepEqual(highlightSegments('abc', ' '), [{ text: 'abc', mark: false }]);
    assert.deepEqual(highlightSegments('', 'a'), []);
  });
});
