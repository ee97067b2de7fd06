import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  barPercent,
  comparedWithEverything,
  draftFrom,
  draftToolCount,
  emptyDraft,
  includes,
  isHidden,
  profileNameError,
  formatTokens,
  sameSettings,
  setEveryServer,
  setServer,
  setTools,
  settingsOf,
  settingsSummary,
  usersOf,
} from './profiles';

const known = ['everything', 'py', 'github'];
const cost = (toolCount: number, definitionTokens: number | null) => ({ toolCount, reachableTools: toolCount, definitionTokens });

describe('checkboxes → ProfileSettings', () => {
  test('a new profile has every server, nothing hidden', () => {
    assert.deepEqual(settingsOf(emptyDraft(), known), { servers: null, disabledTools: {}, toolSearch: false });
    assert.ok(known.every((s) => includes(emptyDraft(), s)));
  });
  test('unchecking a server of "every server" keeps all the others, in config order', () => {
    const d = setServer(emptyDraft(), 'py', false, known);
    assert.deepEqual(d.servers, ['everything', 'github']);
    assert.equal(includes(d, 'py'), false);
    assert.deepEqual(setServer(d, 'py', true, known).servers, ['everything', 'py', 'github'], 'checked again: back in its place');
    assert.equal(setServer(emptyDraft(), 'py', true, known).servers, null, 'checking one of every server changes nothing');
  });
  test('"every server, also ones added later" is servers: null; turning it off keeps today’s servers', () => {
    const d = setEveryServer(emptyDraft(), false, known);
    assert.deepEqual(d.servers, known);
    assert.deepEqual(settingsOf(d, known).servers, known);
    assert.equal(setEveryServer(setServer(d, 'py', false, known), true, known).servers, null);
  });
  test('hiding and showing tools', () => {
    let d = setTools(emptyDraft(), 'everything', ['echo'], false);
    d = setTools(d, 'everything', ['get-env', 'echo'], false);
    assert.deepEqual(d.hidden, { everything: ['echo', 'get-env'] }, 'no duplicates');
    assert.ok(isHidden(d, 'everything', 'echo') && !isHidden(d, 'py', 'echo'));
    assert.deepEqual(settingsOf(d, known).disabledTools, { everything: ['echo', 'get-env'] });
    d = setTools(d, 'everything', ['echo', 'get-env'], true);
    assert.deepEqual(d.hidden, {}, 'a server with nothing hidden has no entry');
  });
  test('hidden tools of a server left out are kept in the draft but not saved', () => {
    let d = setTools(setEveryServer(emptyDraft(), false, known), 'py', ['echo'], false);
    d = setServer(d, 'py', false, known);
    assert.deepEqual(d.hidden, { py: ['echo'] });
    assert.deepEqual(settingsOf(d, known), { servers: ['everything', 'github'], disabledTools: {}, toolSearch: false });
    assert.deepEqual(settingsOf(setServer(d, 'py', true, known), known).disabledTools, { py: ['echo'] });
  });
  test('search mode, and hidden tools in config order', () => {
    let d = { ...setTools(setTools(emptyDraft(), 'github', ['delete_repo'], false), 'everything', ['echo'], false), toolSearch: true };
    assert.deepEqual(settingsOf(d, known), { servers: null, disabledTools: { everything: ['echo'], github: ['delete_repo'] }, toolSearch: true });
    d = setServer(d, 'gone', true, known);
    assert.deepEqual(d.servers, null);
  });
  test('a server the gateway does not know stays (the gateway then says so)', () => {
    const d = setServer(setEveryServer(emptyDraft(), false, ['a']), 'gone', true, ['a']);
    assert.deepEqual(settingsOf(d, ['a']).servers, ['a', 'gone']);
  });
});

describe('ProfileSettings → checkboxes', () => {
  test('round-trips', () => {
    const s = { servers: ['everything', 'py'], disabledTools: { everything: ['echo'] }, toolSearch: true };
    const d = draftFrom(s);
    assert.deepEqual(settingsOf(d, known), s);
    assert.ok(includes(d, 'py') && !includes(d, 'github') && isHidden(d, 'everything', 'echo'));
    assert.deepEqual(settingsOf(draftFrom({ servers: null, disabledTools: {}, toolSearch: false }), known), { servers: null, disabledTools: {}, toolSearch: false });
  });
  test('does not share arrays with the settings it came from', () => {
    const s = { servers: ['py'], disabledTools: { py: ['echo'] }, toolSearch: false };
    const d = setTools(setServer(draftFrom(s), 'everything', true, known), 'py', ['add'], false);
    assert.deepEqual(s, { servers: ['py'], disabledTools: { py: ['echo'] }, toolSearch: false });
    assert.deepEqual(settingsOf(d, known), { servers: ['everything', 'py'], disabledTools: { py: ['echo', 'add'] }, toolSearch: false });
  });
  test('an empty hidden list is dropped', () => {
    assert.deepEqual(draftFrom({ servers: null, disabledTools: { py: [] }, toolSearch: false }).hidden, {});
  });
});

describe('sameSettings', () => {
  test('ignores order, sees every difference', () => {
    const a = { servers: ['a', 'b'], disabledTools: { a: ['x', 'y'], b: ['z'] }, toolSearch: false };
    assert.ok(sameSettings(a, { servers: ['b', 'a'], disabledTools: { b: ['z'], a: ['y', 'x'] }, toolSearch: false }));
    assert.ok(sameSettings(a, { ...a, disabledTools: { ...a.disabledTools, c: [] } }));
    assert.ok(!sameSettings(a, { ...a, toolSearch: true }));
    assert.ok(!sameSettings(a, { ...a, servers: null }));
    assert.ok(!sameSettings(a, { ...a, disabledTools: { a: ['x'], b: ['z'] } }));
  });
});

describe('draftToolCount', () => {
  const lists = {
    everything: [
      { originalName: 'echo', enabled: true },
      { originalName: 'get-env', enabled: true },
      { originalName: 'off', enabled: false },
    ],
    py: [{ originalName: 'add', enabled: true }],
  };
  test('counts the tools clients would get', () => {
    assert.deepEqual(draftToolCount(setServer(setEveryServer(emptyDraft(), false, known), 'github', false, known), known, lists), { count: 3, complete: true });
    const d = setTools(setServer(setEveryServer(emptyDraft(), false, known), 'github', false, known), 'everything', ['echo'], false);
    assert.deepEqual(draftToolCount(d, known, lists), { count: 2, complete: true });
    assert.deepEqual(draftToolCount(setServer(d, 'py', false, known), known, lists), { count: 1, complete: true });
  });
  test('incomplete while an included server’s tools are unknown', () => {
    assert.deepEqual(draftToolCount(emptyDraft(), known, lists), { count: 3, complete: false });
  });
});

describe('profileNameError', () => {
  test('the gateway’s name rules', () => {
    assert.equal(profileNameError('coding', []), null);
    assert.equal(profileNameError('a-b_c9', []), null);
    assert.match(profileNameError('', []) ?? '', /name/);
    for (const bad of ['bad name', '-x', '_x', 'a.b', 'é']) assert.match(profileNameError(bad, []) ?? '', /letters, digits/, bad);
    assert.match(profileNameError('a__b', []) ?? '', /__/);
    assert.match(profileNameError('a_', []) ?? '', /end with/);
    assert.match(profileNameError('x'.repeat(49), []) ?? '', /48/);
    assert.equal(profileNameError('x'.repeat(48), []), null);
  });
  test('an existing name would replace that profile', () => {
    assert.match(profileNameError('coding', ['coding']) ?? '', /already exists/);
  });
});

describe('figures', () => {
  test('formatTokens', () => {
    assert.equal(formatTokens(12345), '12,345');
    assert.equal(formatTokens(0), '0');
    assert.equal(formatTokens(null), '—');
  });
  test('comparedWithEverything', () => {
    assert.deepEqual(comparedWithEverything(cost(3, 380), cost(20, 1000)), { label: '62% fewer than everything', tone: 'less' });
    assert.deepEqual(comparedWithEverything(cost(2, 1080), cost(1, 1000)), { label: '8% more than everything', tone: 'more' });
    assert.deepEqual(comparedWithEverything(cost(20, 1000), cost(20, 1000)), { label: 'same as everything', tone: 'same' });
    assert.equal(comparedWithEverything(cost(3, null), cost(20, 1000)), null);
    assert.equal(comparedWithEverything(cost(0, 0), cost(0, 0)), null);
  });
  test('barPercent', () => {
    assert.equal(barPercent(50, 200), 25);
    assert.equal(barPercent(1, 10000), 1.5, 'a sliver stays visible');
    assert.equal(barPercent(0, 100), 0);
    assert.equal(barPercent(null, 100), 0);
    assert.equal(barPercent(5, 0), 0);
    assert.equal(barPercent(300, 200), 100);
  });
  test('usersOf', () => {
    assert.deepEqual(usersOf({ clients: ['cursor', 'zed'], gateway: true }, { cursor: 'Cursor' }), ['Cursor', 'zed', 'Loopgate’s own token']);
    assert.deepEqual(usersOf({ clients: [], gateway: false }, {}), []);
  });
  test('settingsSummary', () => {
    assert.equal(settingsSummary({ servers: null, disabledTools: {}, toolSearch: true }, 3), 'Every server (3)');
    assert.equal(settingsSummary({ servers: ['py'], disabledTools: { py: ['echo'] }, toolSearch: false }, 3), '1 server: py · 1 tool hidden');
    assert.equal(settingsSummary({ servers: ['a', 'b'], disabledTools: { a: ['x', 'y'] }, toolSearch: false }, 3), '2 servers: a, b · 2 tools hidden');
    assert.equal(settingsSummary({ servers: [], disabledTools: {}, toolSearch: false }, 3), 'No servers');
  });
});
