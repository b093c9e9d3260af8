import {
  checkEnvironment,
  ConfigFormat,
  judgeReachability,
  parseConfigChecks,
  type ConfigCheck,
  type ConfigCheckResult,
  type ReachabilityTest,
} from '../../src/core/config-checks';

describe('parseConfigChecks', () => {
  it.each<{ name: string; input: unknown; expected: ConfigCheck[] }>([
    { name: 'reads no checks when the field is absent', input: undefined, expected: [] },
    {
      name: 'defaults a check to a required string',
      input: [{ key: 'TABLE_NAME' }],
      expected: [{ key: 'TABLE_NAME', required: true, format: ConfigFormat.STRING }],
    },
    {
      name: 'reads every option of a check',
      input: [{ key: 'STAGE', required: false, format: 'string', pattern: '[a-z]+', oneOf: ['dev', 'prod'] }],
      expected: [{ key: 'STAGE', required: false, format: ConfigFormat.STRING, pattern: '[a-z]+', oneOf: ['dev', 'prod'] }],
    },
    {
      name: 'reads a url check that tests reachability',
      input: [{ key: 'PAYMENTS_URL', format: 'url', reachableWithinMs: 2000 }],
      expected: [{ key: 'PAYMENTS_URL', required: true, format: ConfigFormat.URL, reachableWithinMs: 2000 }],
    },
    {
      name: 'keeps checks in order',
      input: [{ key: 'B', format: 'integer' }, { key: 'A', format: 'boolean' }],
      expected: [
        { key: 'B', required: true, format: ConfigFormat.INTEGER },
        { key: 'A', required: true, format: ConfigFormat.BOOLEAN },
      ],
    },
  ])('$name', ({ input, expected }) => {
    expect(parseConfigChecks(input, 'checks')).toEqual(expected);
  });

  it.each<{ name: string; input: unknown; message: string }>([
    {
      name: 'rejects an unknown format, listing the allowed ones',
      input: [{ key: 'A', format: 'email' }],
      message: 'checks[0].format: expected one of string, json, url, number, integer, boolean, got "email"',
    },
    {
      name: 'rejects an empty oneOf, which no value could satisfy',
      input: [{ key: 'A', oneOf: [] }],
      message: 'checks[0].oneOf: expected at least one allowed value, got an empty list',
    },
    {
      name: 'rejects reachableWithinMs on a check that is not a url',
      input: [{ key: 'A', reachableWithinMs: 1000 }],
      message: 'checks[0].reachableWithinMs: only a check with format "url" can test reachability (format is string)',
    },
    {
      name: 'rejects a reachability limit above one minute',
      input: [{ key: 'A', format: 'url', reachableWithinMs: 60_001 }],
      message: 'checks[0].reachableWithinMs: expected an integer from 1 to 60000, got 60001',
    },
    {
      name: 'rejects a key that is not an environment variable name',
      input: [{ key: '1ST_KEY' }],
      message: 'checks[0].key: expected an environment variable name ([a-zA-Z][a-zA-Z0-9_]*), got "1ST_KEY"',
    },
    {
      name: 'rejects a key with a dash',
      input: [{ key: 'TABLE-NAME' }],
      message: 'checks[0].key: expected an environment variable name ([a-zA-Z][a-zA-Z0-9_]*), got "TABLE-NAME"',
    },
    {
      name: 'rejects two checks of the same key',
      input: [{ key: 'A' }, { key: 'B' }, { key: 'A', format: 'json' }],
      message: 'checks: duplicate config check key "A"; each must be unique',
    },
    {
      name: 'rejects an unknown field',
      input: [{ key: 'A', optional: true }],
      message: 'checks[0].optional: unknown field; allowed fields are key, required, format, pattern, oneOf, reachableWithinMs',
    },
    {
      name: 'rejects an invalid pattern',
      input: [{ key: 'A', pattern: '[a-' }],
      message: 'checks[0].pattern: not a valid regular expression: Invalid regular expression: /[a-/: Unterminated character class',
    },
    {
      name: 'rejects a pattern that is not a string without calling it invalid',
      input: [{ key: 'A', pattern: 7 }],
      message: 'checks[0].pattern: expected a non-empty string, got 7',
    },
    {
      name: 'rejects required that is not a boolean',
      input: [{ key: 'A', required: 'yes' }],
      message: 'checks[0].required: expected true or false, got "yes"',
    },
    {
      name: 'rejects oneOf values that are not strings',
      input: [{ key: 'A', oneOf: ['a', 1] }],
      message: 'checks[0].oneOf[1]: expected a non-empty string, got 1',
    },
  ])('$name', ({ input, message }) => {
    expect(() => parseConfigChecks(input, 'checks')).toThrow(message);
  });
});

describe('checkEnvironment', () => {
  const check = (c: Partial<ConfigCheck> & { key: string }): ConfigCheck => ({ required: true, format: ConfigFormat.STRING, ...c });
  const pass = (key: string, message: string): ConfigCheckResult => ({ key, passed: true, message });
  const fail = (key: string, message: string): ConfigCheckResult => ({ key, passed: false, message });

  it.each<{ name: string; checks: ConfigCheck[]; env: Record<string, string>; results: ConfigCheckResult[]; reachability?: ReachabilityTest[] }>([
    { name: 'fails a required variable that is not set', checks: [check({ key: 'TABLE_NAME' })], env: {}, results: [fail('TABLE_NAME', 'TABLE_NAME is required but not set')] },
    {
      name: 'fails a required variable that is empty',
      checks: [check({ key: 'TABLE_NAME' })],
      env: { TABLE_NAME: '' },
      results: [fail('TABLE_NAME', 'TABLE_NAME is required but empty')],
    },
    {
      name: 'passes an optional variable that is not set',
      checks: [check({ key: 'DEBUG', required: false, format: ConfigFormat.BOOLEAN })],
      env: {},
      results: [pass('DEBUG', 'DEBUG is not set (optional)')],
    },
    {
      name: 'passes an optional variable that is empty without checking its format',
      checks: [check({ key: 'DEBUG', required: false, format: ConfigFormat.BOOLEAN })],
      env: { DEBUG: '' },
      results: [pass('DEBUG', 'DEBUG is not set (optional)')],
    },
    {
      name: 'checks the format of an optional variable that is set',
      checks: [check({ key: 'DEBUG', required: false, format: ConfigFormat.BOOLEAN })],
      env: { DEBUG: 'yes' },
      results: [fail('DEBUG', 'DEBUG: not a boolean (true or false): "yes"')],
    },
    { name: 'passes any non-empty string', checks: [check({ key: 'A' })], env: { A: ' ' }, results: [pass('A', 'A is a valid string')] },
    {
      name: 'passes valid JSON',
      checks: [check({ key: 'FLAGS', format: ConfigFormat.JSON })],
      env: { FLAGS: '{"beta":true}' },
      results: [pass('FLAGS', 'FLAGS is a valid json')],
    },
    {
      name: 'passes a bare JSON scalar',
      checks: [check({ key: 'LIMIT', format: ConfigFormat.JSON })],
      env: { LIMIT: '42' },
      results: [pass('LIMIT', 'LIMIT is a valid json')],
    },
    { name: 'passes an https URL', checks: [check({ key: 'U', format: ConfigFormat.URL })], env: { U: 'https://api.example.com/v1' }, results: [pass('U', 'U is a valid url')] },
    { name: 'passes an http URL', checks: [check({ key: 'U', format: ConfigFormat.URL })], env: { U: 'http://localhost:8080' }, results: [pass('U', 'U is a valid url')] },
    {
      name: 'fails a URL that does not parse',
      checks: [check({ key: 'U', format: ConfigFormat.URL })],
      env: { U: 'api.example.com' },
      results: [fail('U', 'U: not a valid URL: "api.example.com"')],
    },
    {
      name: 'fails a URL of another scheme',
      checks: [check({ key: 'U', format: ConfigFormat.URL })],
      env: { U: 'ftp://files.example.com' },
      results: [fail('U', 'U: URL scheme must be http or https, got ftp:')],
    },
    { name: 'passes a decimal number', checks: [check({ key: 'N', format: ConfigFormat.NUMBER })], env: { N: '-3.25' }, results: [pass('N', 'N is a valid number')] },
    { name: 'passes a number in exponent notation', checks: [check({ key: 'N', format: ConfigFormat.NUMBER })], env: { N: '1e3' }, results: [pass('N', 'N is a valid number')] },
    { name: 'fails text as a number', checks: [check({ key: 'N', format: ConfigFormat.NUMBER })], env: { N: '12ms' }, results: [fail('N', 'N: not a number: "12ms"')] },
    { name: 'fails Infinity as a number', checks: [check({ key: 'N', format: ConfigFormat.NUMBER })], env: { N: 'Infinity' }, results: [fail('N', 'N: not a number: "Infinity"')] },
    { name: 'fails blanks as a number', checks: [check({ key: 'N', format: ConfigFormat.NUMBER })], env: { N: '  ' }, results: [fail('N', 'N: not a number: "  "')] },
    { name: 'passes a negative integer', checks: [check({ key: 'I', format: ConfigFormat.INTEGER })], env: { I: '-7' }, results: [pass('I', 'I is a valid integer')] },
    { name: 'fails a decimal as an integer', checks: [check({ key: 'I', format: ConfigFormat.INTEGER })], env: { I: '4.0' }, results: [fail('I', 'I: not an integer: "4.0"')] },
    { name: 'passes true as a boolean', checks: [check({ key: 'B', format: ConfigFormat.BOOLEAN })], env: { B: 'true' }, results: [pass('B', 'B is a valid boolean')] },
    { name: 'passes false as a boolean', checks: [check({ key: 'B', format: ConfigFormat.BOOLEAN })], env: { B: 'false' }, results: [pass('B', 'B is a valid boolean')] },
    { name: 'fails a capitalised boolean', checks: [check({ key: 'B', format: ConfigFormat.BOOLEAN })], env: { B: 'True' }, results: [fail('B', 'B: not a boolean (true or false): "True"')] },
    { name: 'fails 1 as a boolean', checks: [check({ key: 'B', format: ConfigFormat.BOOLEAN })], env: { B: '1' }, results: [fail('B', 'B: not a boolean (true or false): "1"')] },
    {
      name: 'passes a value the pattern matches whole',
      checks: [check({ key: 'V', pattern: 'v\\d+' })],
      env: { V: 'v12' },
      results: [pass('V', 'V is a valid string')],
    },
    {
      name: 'fails a value the pattern matches only in part',
      checks: [check({ key: 'V', pattern: 'v\\d+' })],
      env: { V: 'v12-beta' },
      results: [fail('V', 'V: "v12-beta" does not match /v\\d+/')],
    },
    {
      name: 'anchors every alternative of the pattern',
      checks: [check({ key: 'V', pattern: 'dev|prod' })],
      env: { V: 'devprod' },
      results: [fail('V', 'V: "devprod" does not match /dev|prod/')],
    },
    {
      name: 'checks the format before the pattern',
      checks: [check({ key: 'I', format: ConfigFormat.INTEGER, pattern: '\\d{3}' })],
      env: { I: 'abc' },
      results: [fail('I', 'I: not an integer: "abc"')],
    },
    {
      name: 'passes a value that is one of the allowed ones',
      checks: [check({ key: 'STAGE', oneOf: ['dev', 'staging', 'prod'] })],
      env: { STAGE: 'prod' },
      results: [pass('STAGE', 'STAGE is a valid string')],
    },
    {
      name: 'fails a value that is not one of the allowed ones',
      checks: [check({ key: 'STAGE', oneOf: ['dev', 'staging', 'prod'] })],
      env: { STAGE: 'Prod' },
      results: [fail('STAGE', 'STAGE: "Prod" is not one of dev, staging, prod')],
    },
    {
      name: 'returns a reachability test instead of a result for a valid url that must answer',
      checks: [check({ key: 'PAYMENTS_URL', format: ConfigFormat.URL, reachableWithinMs: 1500 })],
      env: { PAYMENTS_URL: 'https://payments.example.com/health' },
      results: [],
      reachability: [{ key: 'PAYMENTS_URL', url: 'https://payments.example.com/health', timeoutMs: 1500 }],
    },
    {
      name: 'does not test the reachability of an invalid url',
      checks: [check({ key: 'PAYMENTS_URL', format: ConfigFormat.URL, reachableWithinMs: 1500 })],
      env: { PAYMENTS_URL: 'payments' },
      results: [fail('PAYMENTS_URL', 'PAYMENTS_URL: not a valid URL: "payments"')],
    },
    {
      name: 'does not test the reachability of a missing url',
      checks: [check({ key: 'PAYMENTS_URL', format: ConfigFormat.URL, reachableWithinMs: 1500 })],
      env: {},
      results: [fail('PAYMENTS_URL', 'PAYMENTS_URL is required but not set')],
    },
    {
      name: 'reports every check in order and ignores variables nobody checks',
      checks: [check({ key: 'TABLE_NAME' }), check({ key: 'PORT', format: ConfigFormat.INTEGER }), check({ key: 'API', format: ConfigFormat.URL, reachableWithinMs: 500 })],
      env: { PORT: '8080', TABLE_NAME: 'orders', API: 'https://a.example.com', AWS_REGION: 'eu-west-1' },
      results: [pass('TABLE_NAME', 'TABLE_NAME is a valid string'), pass('PORT', 'PORT is a valid integer')],
      reachability: [{ key: 'API', url: 'https://a.example.com', timeoutMs: 500 }],
    },
  ])('$name', ({ checks, env, results, reachability }) => {
    expect(checkEnvironment(checks, env)).toEqual({ results, reachability: reachability ?? [] });
  });

  it.each<{ name: string; value: string }>([
    { name: 'an unterminated object', value: '{"a":' },
    { name: 'single quotes', value: "{'a':1}" },
  ])('fails JSON with $name, quoting the parser', ({ value }) => {
    const { results } = checkEnvironment([check({ key: 'FLAGS', format: ConfigFormat.JSON })], { FLAGS: value });
    expect(results).toHaveLength(1);
    expect(results[0].passed).toBe(false);
    expect(results[0].message).toMatch(/^FLAGS: not valid JSON \(.+\)$/);
  });
});

describe('judgeReachability', () => {
  const test: ReachabilityTest = { key: 'PAYMENTS_URL', url: 'https://payments.example.com/health', timeoutMs: 2000 };

  it.each<{ name: string; answer: Parameters<typeof judgeReachability>[1]; expected: ConfigCheckResult }>([
    {
      name: 'passes an endpoint that answers 200',
      answer: { status: 200, elapsedMs: 120 },
      expected: { key: 'PAYMENTS_URL', passed: true, message: 'PAYMENTS_URL: https://payments.example.com/health answered HTTP 200 in 120 ms' },
    },
    {
      name: 'passes an endpoint that answers a client error: it is up',
      answer: { status: 403, elapsedMs: 80 },
      expected: { key: 'PAYMENTS_URL', passed: true, message: 'PAYMENTS_URL: https://payments.example.com/health answered HTTP 403 in 80 ms' },
    },
    {
      name: 'passes an endpoint that answers with a redirect',
      answer: { status: 301, elapsedMs: 30 },
      expected: { key: 'PAYMENTS_URL', passed: true, message: 'PAYMENTS_URL: https://payments.example.com/health answered HTTP 301 in 30 ms' },
    },
    {
      name: 'fails an endpoint that answers 500',
      answer: { status: 500, elapsedMs: 90 },
      expected: { key: 'PAYMENTS_URL', passed: false, message: 'PAYMENTS_URL: https://payments.example.com/health answered HTTP 500 (server error)' },
    },
    {
      name: 'fails an endpoint that answers 503',
      answer: { status: 503, elapsedMs: 90 },
      expected: { key: 'PAYMENTS_URL', passed: false, message: 'PAYMENTS_URL: https://payments.example.com/health answered HTTP 503 (server error)' },
    },
    {
      name: 'fails an endpoint that does not answer in time',
      answer: { error: 'The operation was aborted due to timeout', elapsedMs: 2001 },
      expected: {
        key: 'PAYMENTS_URL',
        passed: false,
        message: 'PAYMENTS_URL: https://payments.example.com/health did not answer within 2000 ms: The operation was aborted due to timeout',
      },
    },
    {
      name: 'fails an answer that came later than the limit',
      answer: { status: 200, elapsedMs: 2500 },
      expected: { key: 'PAYMENTS_URL', passed: false, message: 'PAYMENTS_URL: https://payments.example.com/health answered HTTP 200 after 2500 ms, later than 2000 ms' },
    },
    {
      name: 'fails when no status came back',
      answer: { elapsedMs: 10 },
      expected: { key: 'PAYMENTS_URL', passed: false, message: 'PAYMENTS_URL: https://payments.example.com/health gave no HTTP status' },
    },
    {
      name: 'fails on a connection error even with a status',
      answer: { status: 200, error: 'ECONNRESET', elapsedMs: 5 },
      expected: { key: 'PAYMENTS_URL', passed: false, message: 'PAYMENTS_URL: https://payments.example.com/health did not answer within 2000 ms: ECONNRESET' },
    },
  ])('$name', ({ answer, expected }) => {
    expect(judgeReachability(test, answer)).toEqual(expected);
  });
});
