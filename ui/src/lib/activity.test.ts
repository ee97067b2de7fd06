import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { activityQuery, callerLabel, formatBytes, formatDuration, outcomeLabel, recordedArguments, sparkPoints } from './activity';

describe('activity helpers', () => {
  test('query strings leave empty filters out', () => {
    assert.equal(activityQuery({ server: 'py', tool: '' }, { limit: 50, before: undefined }), '?server=py&limit=50');
    assert.equal(activityQuery({}), '');
    assert.equal(activityQuery({ client: 'client:cursor' }), '?client=client%3Acursor');
  });
  test('labels for people', () => {
    assert.equal(outcomeLabel('isError'), 'Tool error');
    assert.equal(outcomeLabel('error'), 'MCP error');
    assert.equal(callerLabel('client:cursor'), 'cursor (client token)');
    assert.equal(callerLabel('dashboard'), 'Dashboard');
  });
  test('durations and sizes', () => {
    assert.equal(formatDuration(0.25), '0.25 ms');
    assert.equal(formatDuration(3.14), '3.1 ms');
    assert.equal(formatDuration(250), '250 ms');
    assert.equal(formatDuration(1250), '1.25 s');
    assert.equal(formatDuration(125_000), '2 min 5 s');
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1500), '1.5 kB');
  });
  test('spark points span the box, the largest value at the top', () => {
    assert.equal(sparkPoints([0, 2, 1], 100, 20), '0,20 50,0 100,10');
    assert.equal(sparkPoints([], 100, 20), '');
    assert.equal(sparkPoints([0, 0], 10, 10), '0,10 10,10');
  });
  test('recorded arguments', () => {
    assert.deepEqual(recordedArguments('{"name":"x__y","arguments":{"a":1}}'), { a: 1 });
    assert.deepEqual(recordedArguments('{"name":"x__y"}'), {});
    assert.equal(recordedArguments(null), null);
    assert.equal(recordedArguments('{'), null);
  });
});
