import { judgeProbe, parseProbes, resolvePath, type ProbeExpectation, type ProbeResult, type ProbeSpec } from '../../src/core/probes';

describe('parseProbes', () => {
  it.each<{ name: string; input: unknown; expected: ProbeSpec[] }>([
    { name: 'reads no probes when the field is absent', input: undefined, expected: [] },
    {
      name: 'reads a status-only probe and keeps its event',
      input: [{ name: 'list', event: { path: '/orders' }, expect: { status: 'success' } }],
      expected: [{ name: 'list', event: { path: '/orders' }, expect: { status: 'success' } }],
    },
    {
      name: 'defaults a missing event to an empty object',
      input: [{ name: 'ping', expect: { maxLatencyMs: 500 } }],
      expected: [{ name: 'ping', event: {}, expect: { maxLatencyMs: 500 } }],
    },
    {
      name: 'reads body expectations with equals, matches and exists',
      input: [
        {
          name: 'get',
          event: { pathParameters: { id: 'o-1' } },
          expect: {
            status: 'success',
            body: [
              { path: '$.statusCode', equals: 200 },
              { path: '$.body.items[0].id', matches: '^o-\\d+$' },
              { path: '$.body.nextToken', exists: false },
              { path: '$', equals: null },
            ],
            maxLatencyMs: 1000,
          },
        },
      ],
      expected: [
        {
          name: 'get',
          event: { pathParameters: { id: 'o-1' } },
          expect: {
            status: 'success',
            body: [
              { path: '$.statusCode', equals: 200 },
              { path: '$.body.items[0].id', matches: '^o-\\d+$' },
              { path: '$.body.nextToken', exists: false },
              { path: '$', equals: null },
            ],
            maxLatencyMs: 1000,
          },
        },
      ],
    },
    {
      name: 'accepts an expected error status',
      input: [{ name: 'rejects-bad-input', event: { bad: true }, expect: { status: 'error' } }],
      expected: [{ name: 'rejects-bad-input', event: { bad: true }, expect: { status: 'error' } }],
    },
  ])('$name', ({ input, expected }) => {
    expect(parseProbes(input, 'probes')).toEqual(expected);
  });

  it.each<{ name: string; input: unknown; message: string }>([
    {
      name: 'rejects a probe without any expectation',
      input: [{ name: 'p', expect: {} }],
      message: 'probes[0].expect: a probe needs at least one expectation: status, body or maxLatencyMs',
    },
    {
      name: 'rejects an empty body list as the only expectation',
      input: [{ name: 'p', expect: { body: [] } }],
      message: 'probes[0].expect: a probe needs at least one expectation: status, body or maxLatencyMs',
    },
    {
      name: 'rejects a probe without an expect object',
      input: [{ name: 'p' }],
      message: 'probes[0].expect: expected an object, got nothing',
    },
    {
      name: 'rejects two probes with the same name',
      input: [
        { name: 'list', expect: { status: 'success' } },
        { name: 'list', expect: { status: 'error' } },
      ],
      message: 'probes: duplicate probe name "list"; each must be unique',
    },
    {
      name: 'rejects an unknown field of a probe',
      input: [{ name: 'p', payload: {}, expect: { status: 'success' } }],
      message: 'probes[0].payload: unknown field; allowed fields are name, event, expect',
    },
    {
      name: 'rejects an unknown field of an expectation',
      input: [{ name: 'p', expect: { status: 'success', maxLatency: 100 } }],
      message: 'probes[0].expect.maxLatency: unknown field; allowed fields are status, body, maxLatencyMs',
    },
    {
      name: 'rejects an unknown field of a body expectation',
      input: [{ name: 'p', expect: { body: [{ path: '$.a', equal: 1 }] } }],
      message: 'probes[0].expect.body[0].equal: unknown field; allowed fields are path, equals, matches, exists',
    },
    {
      name: 'rejects an invalid regular expression',
      input: [{ name: 'p', expect: { body: [{ path: '$.a', matches: '(' }] } }],
      message: 'probes[0].expect.body[0].matches: not a valid regular expression: Invalid regular expression: /(/: Unterminated group',
    },
    {
      name: 'rejects a regular expression that is not a string without calling it invalid',
      input: [{ name: 'p', expect: { body: [{ path: '$.a', matches: 5 }] } }],
      message: 'probes[0].expect.body[0].matches: expected a non-empty string, got 5',
    },
    {
      name: 'rejects a JSON path that does not start at the root',
      input: [{ name: 'p', expect: { body: [{ path: 'body.id', exists: true }] } }],
      message: 'probes[0].expect.body[0].path: expected a JSON path such as $.body.items[0].id, got "body.id"',
    },
    {
      name: 'rejects a JSON path with a quoted index',
      input: [{ name: 'p', expect: { body: [{ path: "$.items['id']", exists: true }] } }],
      message: `probes[0].expect.body[0].path: expected a JSON path such as $.body.items[0].id, got "$.items['id']"`,
    },
    {
      name: 'rejects a body expectation that expects nothing',
      input: [{ name: 'p', expect: { body: [{ path: '$.a' }] } }],
      message: 'probes[0].expect.body[0]: a body expectation needs one of equals, matches, exists',
    },
    {
      name: 'rejects an unknown status',
      input: [{ name: 'p', expect: { status: 'ok' } }],
      message: 'probes[0].expect.status: expected one of success, error, got "ok"',
    },
    {
      name: 'rejects a latency limit below 1 ms',
      input: [{ name: 'p', expect: { maxLatencyMs: 0 } }],
      message: 'probes[0].expect.maxLatencyMs: expected a number >= 1, got 0',
    },
    {
      name: 'rejects a probe without a name',
      input: [{ expect: { status: 'success' } }],
      message: 'probes[0].name: expected a non-empty string, got nothing',
    },
    {
      name: 'rejects probes that are not a list',
      input: { name: 'p' },
      message: 'probes: expected an array, got an object',
    },
  ])('$name', ({ input, message }) => {
    expect(() => parseProbes(input, 'probes')).toThrow(message);
  });
});

describe('resolvePath', () => {
  const apiGatewayResponse = {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ items: [{ id: 'o-1', total: 12.5 }, { id: 'o-2', total: 0 }], nextToken: null }),
  };

  it.each<{ name: string; root: unknown; path: string; expected: unknown }>([
    { name: 'returns the root for $', root: { a: 1 }, path: '$', expected: { a: 1 } },
    { name: 'follows nested object fields', root: { a: { b: { c: 'deep' } } }, path: '$.a.b.c', expected: 'deep' },
    { name: 'indexes arrays', root: { items: ['x', 'y'] }, path: '$.items[1]', expected: 'y' },
    { name: 'indexes a root array', root: [{ id: 7 }], path: '$[0].id', expected: 7 },
    { name: 'returns null for a field that holds null', root: { a: null }, path: '$.a', expected: null },
    { name: 'returns an API Gateway body as text when the path stops at it', root: apiGatewayResponse, path: '$.body', expected: apiGatewayResponse.body },
    { name: 'parses a string field holding JSON on the way down', root: apiGatewayResponse, path: '$.body.items[1].id', expected: 'o-2' },
    { name: 'keeps falsy values found through a JSON string', root: apiGatewayResponse, path: '$.body.items[1].total', expected: 0 },
    { name: 'keeps null found through a JSON string', root: apiGatewayResponse, path: '$.body.nextToken', expected: null },
  ])('$name', ({ root, path, expected }) => {
    expect(resolvePath(root, path)).toEqual(expected);
  });

  it.each<{ name: string; root: unknown; path: string }>([
    { name: 'a field that is absent', root: { a: 1 }, path: '$.b' },
    { name: 'an index past the end of an array', root: { items: [1] }, path: '$.items[3]' },
    { name: 'a named field of an array', root: { items: [1] }, path: '$.items.length' },
    { name: 'a field below a number', root: { a: 1 }, path: '$.a.b' },
    { name: 'a field below null', root: { a: null }, path: '$.a.b' },
    { name: 'a field below a string that is not JSON', root: { body: '<html>' }, path: '$.body.id' },
    { name: 'a field below a string holding a JSON number', root: { body: '42' }, path: '$.body.id' },
  ])('finds nothing at $name', ({ root, path }) => {
    const found = resolvePath(root, path);
    expect(typeof found).toBe('symbol');
    expect((found as symbol).description).toBe('missing');
  });
});

describe('judgeProbe', () => {
  const probe = (expect: ProbeExpectation): ProbeSpec => ({ name: 'orders-list', event: {}, expect });
  const ok = (payload: unknown, latencyMs = 80): ProbeResult => ({ payload: JSON.stringify(payload), latencyMs });
  const apiResponse = (statusCode: number, body: unknown) => ({ statusCode, body: JSON.stringify(body) });
  const handled: ProbeResult = {
    functionError: 'Handled',
    payload: JSON.stringify({ errorType: 'ValidationError', errorMessage: 'id is required' }),
    latencyMs: 40,
  };
  const longHtml = `<html>${'x'.repeat(300)}</html>`;

  it.each<{ name: string; expect: ProbeExpectation; result: ProbeResult; failures: string[] }>([
    { name: 'passes a success probe when the function returns normally', expect: { status: 'success' }, result: ok({}), failures: [] },
    {
      name: 'fails a success probe when the function returns an error, quoting the error',
      expect: { status: 'success' },
      result: { functionError: 'Unhandled', payload: '{"errorMessage":"boom"}', latencyMs: 12 },
      failures: ['expected success, got error (Unhandled: {"errorMessage":"boom"})'],
    },
    {
      name: 'truncates a long error payload to 200 characters',
      expect: { status: 'success' },
      result: { functionError: 'Unhandled', payload: longHtml, latencyMs: 12 },
      failures: [`expected success, got error (Unhandled: ${longHtml.slice(0, 197)}...)`],
    },
    { name: 'passes an error probe when the function returns an error', expect: { status: 'error' }, result: handled, failures: [] },
    { name: 'fails an error probe when the function succeeds', expect: { status: 'error' }, result: ok({}), failures: ['expected error, got success'] },
    {
      name: 'checks the error payload of an error probe',
      expect: { status: 'error', body: [{ path: '$.errorType', equals: 'ValidationError' }] },
      result: handled,
      failures: [],
    },
    {
      name: 'treats body expectations without a status as expecting success',
      expect: { body: [{ path: '$.errorType', exists: true }] },
      result: handled,
      failures: [`expected success, got error (Handled: ${handled.payload})`],
    },
    { name: 'does not judge the status of a latency-only probe', expect: { maxLatencyMs: 100 }, result: handled, failures: [] },
    { name: 'passes at exactly the latency limit', expect: { maxLatencyMs: 80 }, result: ok({}, 80), failures: [] },
    { name: 'fails above the latency limit', expect: { maxLatencyMs: 1000 }, result: ok({}, 1500), failures: ['latency 1500 ms above 1000 ms'] },
    {
      name: 'passes when a value equals the expected one',
      expect: { body: [{ path: '$.statusCode', equals: 200 }] },
      result: ok(apiResponse(200, {})),
      failures: [],
    },
    {
      name: 'fails when a value differs from the expected one',
      expect: { body: [{ path: '$.statusCode', equals: 200 }] },
      result: ok(apiResponse(500, {})),
      failures: ['$.statusCode is 500, expected 200'],
    },
    {
      name: 'compares objects and arrays by value',
      expect: { body: [{ path: '$.body.page', equals: { items: [{ id: 'o-1' }], count: 1 } }] },
      result: ok(apiResponse(200, { page: { count: 1, items: [{ id: 'o-1' }] } })),
      failures: [],
    },
    {
      name: 'compares a JSON string the path stops at as text, not as the value it holds',
      expect: { body: [{ path: '$.body', equals: { count: 1 } }] },
      result: ok(apiResponse(200, { count: 1 })),
      failures: ['$.body is "{\\"count\\":1}", expected {"count":1}'],
    },
    {
      name: 'does not take an object for an array with the same entries',
      expect: { body: [{ path: '$.items', equals: ['a'] }] },
      result: ok({ items: { 0: 'a' } }),
      failures: ['$.items is {"0":"a"}, expected ["a"]'],
    },
    {
      name: 'reports a missing value expected to equal something',
      expect: { body: [{ path: '$.body.id', equals: 'o-1' }] },
      result: ok(apiResponse(200, {})),
      failures: ['$.body.id is missing, expected "o-1"'],
    },
    {
      name: 'passes when a string value matches the regular expression',
      expect: { body: [{ path: '$.body.items[0].id', matches: '^o-\\d+$' }] },
      result: ok(apiResponse(200, { items: [{ id: 'o-42' }] })),
      failures: [],
    },
    {
      name: 'matches a non-string value against its JSON text',
      expect: { body: [{ path: '$.statusCode', matches: '^2\\d\\d$' }] },
      result: ok(apiResponse(204, {})),
      failures: [],
    },
    {
      name: 'fails when a value does not match the regular expression',
      expect: { body: [{ path: '$.body.items[0].id', matches: '^o-\\d+$' }] },
      result: ok(apiResponse(200, { items: [{ id: 'x-1' }] })),
      failures: ['$.body.items[0].id is "x-1", expected to match /^o-\\d+$/'],
    },
    {
      name: 'fails when a value expected to match is missing',
      expect: { body: [{ path: '$.body.items[0].id', matches: '.' }] },
      result: ok(apiResponse(200, { items: [] })),
      failures: ['$.body.items[0].id is missing, expected to match /./'],
    },
    { name: 'passes when a field expected to exist does', expect: { body: [{ path: '$.id', exists: true }] }, result: ok({ id: null }), failures: [] },
    { name: 'fails when a field expected to exist is missing', expect: { body: [{ path: '$.id', exists: true }] }, result: ok({}), failures: ['$.id is missing'] },
    {
      name: 'fails when a field expected to be absent exists',
      expect: { body: [{ path: '$.error', exists: false }] },
      result: ok({ error: 'oops' }),
      failures: ['$.error exists but should not'],
    },
    { name: 'passes when a field expected to be absent is', expect: { body: [{ path: '$.error', exists: false }] }, result: ok({}), failures: [] },
    { name: 'does not mistake inherited properties for fields of the response', expect: { body: [{ path: '$.constructor', exists: false }] }, result: ok({}), failures: [] },
    {
      name: 'fails a body check on a payload that is not JSON',
      expect: { body: [{ path: '$.id', exists: true }] },
      result: { payload: longHtml, latencyMs: 10 },
      failures: [`response is not JSON: ${longHtml.slice(0, 197)}...`],
    },
    {
      name: 'does not parse the payload when there is no body expectation',
      expect: { status: 'success' },
      result: { payload: 'plain text', latencyMs: 10 },
      failures: [],
    },
    {
      name: 'reports every failure in order: status, latency, then each body expectation',
      expect: {
        maxLatencyMs: 100,
        body: [
          { path: '$.statusCode', equals: 200 },
          { path: '$.errorMessage', exists: false },
        ],
      },
      result: { functionError: 'Handled', payload: '{"errorMessage":"no"}', latencyMs: 250 },
      failures: [
        'expected success, got error (Handled: {"errorMessage":"no"})',
        'latency 250 ms above 100 ms',
        '$.statusCode is missing, expected 200',
        '$.errorMessage exists but should not',
      ],
    },
  ])('$name', ({ expect: expectation, result, failures }) => {
    expect(judgeProbe(probe(expectation), result)).toEqual({
      probe: 'orders-list',
      passed: failures.length === 0,
      latencyMs: result.latencyMs,
      failures,
    });
  });
});
