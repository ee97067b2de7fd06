import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Server } from '../api';
import {
  buildServerInput,
  firstErrorField,
  formFieldOf,
  initialValues,
  newRow,
  rowsError,
  rowsFrom,
  validateServerForm,
  valuesFromSuggestion,
  type Row,
  type ServerFormValues,
} from './server-form';

const row = (key: string, value: string, patch: Partial<Row> = {}): Row => ({ ...newRow(), key, value, ...patch });
const values = (patch: Partial<ServerFormValues>): ServerFormValues => ({ ...initialValues(), ...patch });

const httpServer = {
  name: 'remote',
  transport: 'http',
  config: {
    url: 'https://mcp.example.com/mcp',
    headers: { 'X-Team': 'blue', Authorization: '${secret:loopgate/remote/Authorization}' },
    auth: 'oauth',
    oauth: { clientId: 'lg-app', hasClientSecret: true, scopes: ['read', 'write'], clientMetadataUrl: 'https://lg.example/cimd.json' },
  },
} as unknown as Server;

describe('initialValues / rowsFrom', () => {
  test('a new server starts empty, stdio, OAuth when asked', () => {
    const v = initialValues();
    assert.equal(v.transport, 'stdio');
    assert.equal(v.name, '');
    assert.equal(v.signIn, 'auto');
    assert.deepEqual(v.envRows, []);
  });
  test('an HTTP server fills in its config; stored secrets are shown empty', () => {
    const v = initialValues(httpServer);
    assert.equal(v.url, 'https://mcp.example.com/mcp');
    assert.equal(v.clientId, 'lg-app');
    assert.equal(v.scopes, 'read write');
    assert.equal(v.clientSecret, '');
    assert.deepEqual(
      v.headerRows.map((r) => [r.key, r.value, r.secret, r.existing]),
      [
        ['X-Team', 'blue', false, null],
        ['Authorization', '', true, '${secret:loopgate/remote/Authorization}'],
      ],
    );
  });
  test('a stdio server joins its arguments one per line', () => {
    const v = initialValues({ name: 'm', transport: 'stdio', config: { command: 'npx', args: ['-y', 'pkg'], cwd: null } } as unknown as Server);
    assert.equal(v.argsText, '-y\npkg');
    assert.equal(v.cwd, '');
  });
  test('every row gets its own id', () => {
    const ids = [...rowsFrom({ a: '1', b: '2' }), newRow(), newRow()].map((r) => r.id);
    assert.equal(new Set(ids).size, 4);
  });
});

describe('rowsError', () => {
  test('blank rows are ignored', () => {
    assert.equal(rowsError([row('', ''), row('  ', '')], 'env'), null);
  });
  test('a value without a name', () => {
    assert.equal(rowsError([row('', 'x')], 'env'), 'Every variable needs a name.');
    assert.equal(rowsError([row(' ', 'x')], 'headers'), 'Every header needs a name.');
  });
  test('duplicate variables (exact) and headers (any case)', () => {
    assert.equal(rowsError([row('PATH', 'a'), row('PATH ', 'b')], 'env'), '“PATH” appears twice.');
    assert.equal(rowsError([row('Path', 'a'), row('PATH', 'b')], 'env'), null);
    assert.equal(rowsError([row('X-Team', 'a'), row('x-team', 'b')], 'headers'), '“x-team” appears twice.');
  });
  test('a new secret needs a value; a stored one does not', () => {
    assert.equal(rowsError([row('TOKEN', '', { secret: true })], 'env'), 'Enter a value for the secret “TOKEN”.');
    assert.equal(rowsError([row('TOKEN', '', { secret: true, existing: '${secret:t}' })], 'env'), null);
  });
});

describe('validateServerForm', () => {
  test('name, command and url are required', () => {
    assert.deepEqual(Object.keys(validateServerForm(values({}))).sort(), ['command', 'name']);
    assert.deepEqual(Object.keys(validateServerForm(values({ transport: 'http' }))).sort(), ['name', 'url']);
  });
  test('names are letters, digits, - and _ without "__"', () => {
    for (const bad of ['my server', 'a__b', 'ü', 'a.b']) assert.ok(validateServerForm(values({ name: bad, command: 'x' })).name, bad);
    for (const good of ['github', 'my-server_2', ' padded ']) assert.equal(validateServerForm(values({ name: good, command: 'x' })).name, undefined, good);
  });
  test('only the chosen transport is checked', () => {
    const v = values({ name: 'a', command: 'npx', headerRows: [row('', 'x')] });
    assert.deepEqual(validateServerForm(v), {});
  });
  test('a client secret needs a client id, unless sign-in is off', () => {
    const v = values({ name: 'a', transport: 'http', url: 'https://x', clientSecret: 's' });
    assert.match(validateServerForm(v).clientSecret ?? '', /client id/);
    assert.deepEqual(validateServerForm({ ...v, clientId: 'id' }), {});
    assert.deepEqual(validateServerForm({ ...v, signIn: 'none' }), {});
  });
});

describe('buildServerInput', () => {
  test('stdio: trimmed fields, arguments per line, env with new secrets apart', () => {
    const body = buildServerInput(
      values({
        name: ' mem ',
        command: ' node ',
        argsText: 'C:\\srv\\index.js\r\n\n--x',
        cwd: '  ',
        envRows: [row('LOG', 'info'), row('KEY', 's3cret', { secret: true }), row('OLD', '', { secret: true, existing: '${secret:o}' }), row('', '')],
      }),
    );
    assert.deepEqual(body, {
      name: 'mem',
      command: 'node',
      args: ['C:\\srv\\index.js', '--x'],
      env: { LOG: 'info', OLD: '${secret:o}' },
      cwd: null,
      secrets: { KEY: 's3cret' },
    });
  });
  test('http: headers, OAuth client, explicit "oauth" kept, client metadata URL kept', () => {
    const v = { ...initialValues(httpServer), clientSecret: 'new' };
    assert.deepEqual(buildServerInput(v, httpServer.config), {
      name: 'remote',
      url: 'https://mcp.example.com/mcp',
      headers: { 'X-Team': 'blue', Authorization: '${secret:loopgate/remote/Authorization}' },
      auth: 'oauth',
      oauth: { clientId: 'lg-app', clientSecret: 'new', scopes: 'read write', clientMetadataUrl: 'https://lg.example/cimd.json' },
    });
  });
  test('http: sign-in off; no client id drops the secret; a new server asks "auto"', () => {
    const off = buildServerInput({ ...initialValues(httpServer), signIn: 'none' }, httpServer.config);
    assert.equal(off.auth, 'none');
    const fresh = buildServerInput(values({ name: 'r', transport: 'http', url: 'https://x/mcp', clientId: '  ', clientSecret: 'left over' }));
    assert.equal(fresh.auth, 'auto');
    assert.deepEqual(fresh.oauth, { clientId: '', clientSecret: null, scopes: '', clientMetadataUrl: null });
    assert.equal(fresh.secrets, undefined);
  });
});

describe('formFieldOf / firstErrorField', () => {
  test('API error fields map to form fields', () => {
    assert.equal(formFieldOf('url', 'http'), 'url');
    assert.equal(formFieldOf('env.API_KEY', 'stdio'), 'env');
    assert.equal(formFieldOf('args[2]', 'stdio'), 'args');
    assert.equal(formFieldOf('secrets.X', 'stdio'), 'env');
    assert.equal(formFieldOf('secrets.X', 'http'), 'headers');
    assert.equal(formFieldOf('oauth.clientSecret', 'http'), 'clientSecret');
    assert.equal(formFieldOf('oauth.scopes[0]', 'http'), 'scopes');
    assert.equal(formFieldOf('oauth', 'http'), 'clientId');
    assert.equal(formFieldOf('gateway.port', 'http'), null);
    assert.equal(formFieldOf(null, 'http'), null);
  });
  test('the first error in form order gets the focus', () => {
    assert.equal(firstErrorField({ scopes: 'x', url: 'y' }), 'url');
    assert.equal(firstErrorField({ other: 'x' }), 'other');
    assert.equal(firstErrorField({}), undefined);
  });
});

describe('valuesFromSuggestion', () => {
  test('a stdio suggestion fills command and arguments, and a secret row per value it needs', () => {
    const v = valuesFromSuggestion({ name: 'claude-code', entry: { command: '/usr/bin/claude', args: ['mcp', 'serve'] }, needs: ['API_KEY'] });
    assert.equal(v.transport, 'stdio');
    assert.equal(v.name, 'claude-code');
    assert.equal(v.command, '/usr/bin/claude');
    assert.equal(v.argsText, 'mcp\nserve');
    assert.deepEqual(
      v.envRows.map((r) => [r.key, r.value, r.secret]),
      [['API_KEY', '', true]],
    );
    // The form asks for the key before it can be added.
    assert.deepEqual(Object.keys(validateServerForm(v)), ['env']);
  });
  test('an HTTP suggestion fills the URL', () => {
    const v = valuesFromSuggestion({ name: 'github', entry: { url: 'https://api.githubcopilot.com/mcp/' }, needs: [] });
    assert.equal(v.transport, 'http');
    assert.equal(v.url, 'https://api.githubcopilot.com/mcp/');
    assert.deepEqual(validateServerForm(v), {});
  });
});
