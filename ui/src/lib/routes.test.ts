import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { href, parseHash } from './routes';

describe('parseHash', () => {
  test('the servers page', () => {
    for (const h of ['', '#', '#/', '#/servers', '#/servers/']) assert.deepEqual(parseHash(h), { page: 'servers' }, h);
  });
  test('a server, with and without a tool', () => {
    assert.deepEqual(parseHash('#/servers/github'), { page: 'server', server: 'github', tool: null });
    assert.deepEqual(parseHash('#/servers/github?tool=create_issue'), { page: 'server', server: 'github', tool: 'create_issue' });
  });
  test('editing, tools, add, connect', () => {
    assert.deepEqual(parseHash('#/servers/py/edit'), { page: 'edit', server: 'py' });
    assert.deepEqual(parseHash('#/tools'), { page: 'tools', q: '' });
    assert.deepEqual(parseHash('#/tools?q=echo%20sum'), { page: 'tools', q: 'echo sum' });
    assert.deepEqual(parseHash('#/add'), { page: 'add', suggest: null });
    assert.deepEqual(parseHash('#/add?suggest=claude-code'), { page: 'add', suggest: 'claude-code' });
    assert.equal(href.add('claude code'), '#/add?suggest=claude%20code');
    assert.deepEqual(parseHash('#/connect'), { page: 'connect' });
  });
  test('profiles: the list, a new one, editing one (even one named “new”)', () => {
    assert.deepEqual(parseHash('#/profiles'), { page: 'profiles' });
    assert.deepEqual(parseHash('#/profiles/new'), { page: 'profile', profile: null });
    assert.deepEqual(parseHash('#/profiles/coding/edit'), { page: 'profile', profile: 'coding' });
    assert.deepEqual(parseHash('#/profiles/new/edit'), { page: 'profile', profile: 'new' });
    assert.deepEqual(parseHash('#/profiles/coding'), { page: 'notfound', path: '/profiles/coding' });
  });
  test('names are percent-decoded; a bad escape is kept as it is', () => {
    assert.deepEqual(parseHash('#/servers/my%20server'), { page: 'server', server: 'my server', tool: null });
    assert.deepEqual(parseHash('#/servers/100%'), { page: 'server', server: '100%', tool: null });
  });
  test('anything else is not found', () => {
    assert.deepEqual(parseHash('#/nope'), { page: 'notfound', path: '/nope' });
    assert.deepEqual(parseHash('#/servers/a/b'), { page: 'notfound', path: '/servers/a/b' });
  });
});

describe('playground and activity routes', () => {
  test('round trips', () => {
    const play = href.play('my server', 'get-sum', { a: 1 });
    assert.deepEqual(parseHash(play), { page: 'play', server: 'my server', tool: 'get-sum', args: '{"a":1}' });
    assert.deepEqual(parseHash(href.play('x')), { page: 'play', server: 'x', tool: null, args: null });
    assert.deepEqual(parseHash(href.activity({ id: 12, server: 'py' })), { page: 'activity', id: 12, server: 'py', client: '', tool: '', outcome: '' });
    assert.deepEqual(parseHash('#/activity?id=nope'), { page: 'activity', id: null, server: '', client: '', tool: '', outcome: '' });
  });
});

describe('href', () => {
  test('round-trips through parseHash', () => {
    assert.deepEqual(parseHash(href.server('a/b?c', 't#1')), { page: 'server', server: 'a/b?c', tool: 't#1' });
    assert.deepEqual(parseHash(href.edit('x y')), { page: 'edit', server: 'x y' });
    assert.deepEqual(parseHash(href.tools('a&b=c')), { page: 'tools', q: 'a&b=c' });
    assert.deepEqual(parseHash(href.editProfile('a b/c')), { page: 'profile', profile: 'a b/c' });
    assert.deepEqual(parseHash(href.newProfile()), { page: 'profile', profile: null });
    assert.deepEqual(parseHash(href.profiles()), { page: 'profiles' });
  });
  test('always stays in the hash', () => {
    for (const h of [href.servers(), href.server('javascript:alert(1)'), href.tools(), href.add(), href.connect(), href.profiles(), href.editProfile('javascript:x')]) assert.match(h, /^#\//);
  });
});
