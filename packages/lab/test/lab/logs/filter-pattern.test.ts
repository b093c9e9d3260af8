/**
 * CloudWatch Logs filter patterns, one case a row, from the examples of "Filter pattern syntax for
 * metric filters, subscription filters, filter log events, and Live Tail" (CloudWatch Logs user guide).
 */
import { compileFilterPattern, FilterPatternError } from '../../../src/lab/logs/filter-pattern';

const json = JSON.stringify({ level: 'ERROR', latency: 250, user: { id: 'u-1', admin: false }, tags: ['a', 'b'], none: null, eventType: 'UpdateTrail' });
const access = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 1534';

describe('filter patterns match as CloudWatch Logs matches them', () => {
  it.each([
    // terms
    ['', 'anything', true],
    ['ERROR', '[ERROR] disk full', true],
    ['ERROR', 'error: disk full', false],
    ['ERROR Exception', 'ERROR NullPointerException', true],
    ['ERROR Exception', 'ERROR only', false],
    ['"disk full"', 'ERROR disk full', true],
    ['?ERROR ?WARN', 'WARN slow', true],
    ['?ERROR ?WARN', 'INFO ok', false],
    ['ERROR -Exiting', 'ERROR Exiting now', false],
    ['ERROR -Exiting', 'ERROR retrying', true],
    // JSON
    ['{ $.level = "ERROR" }', json, true],
    ['{ $.level = ERROR }', json, true],
    ['{ $.level = "INFO" }', json, false],
    ['{ $.level != "INFO" }', json, true],
    ['{ $.level = "ERR*" }', json, true],
    ['{ $.latency > 200 }', json, true],
    ['{ $.latency >= 250 && $.latency <= 250 }', json, true],
    ['{ $.latency < 100 }', json, false],
    ['{ $.latency > 1e2 }', json, true],
    ['{ $.level = "INFO" || $.latency > 200 }', json, true],
    ['{ ($.level = "INFO" || $.latency > 200) && $.user.id = "u-1" }', json, true],
    ['{ $.user.admin IS FALSE }', json, true],
    ['{ $.none IS NULL }', json, true],
    ['{ $.missing NOT EXISTS }', json, true],
    ['{ $.level NOT EXISTS }', json, false],
    ['{ $.tags[1] = "b" }', json, true],
    ['{ $.level = "ERROR" }', 'ERROR not json', false],
    // space-delimited
    ['[ip, identity, user, timestamp, request, status_code, bytes]', access, true],
    ['[ip, identity, user, timestamp, request, status_code = 404, bytes]', access, true],
    ['[ip, identity, user, timestamp, request, status_code = 4*, bytes]', access, true],
    ['[ip, identity, user, timestamp, request, status_code >= 500, bytes]', access, false],
    ['[..., status_code >= 400 && status_code < 500, bytes]', access, true],
    ['[..., status_code = 200 || status_code = 404, bytes]', access, true],
    ['[ip = 127.0.0.1, ...]', access, true],
    ['[ip, identity, user = "frank", ...]', access, true],
    ['[ip, request = "*gif*", ...]', access, false],
    ['[ip, identity, user, timestamp, request = "*gif*", ...]', access, true],
    ['[a, b]', access, false],
  ])('%s on %s: %s', (pattern, message, expected) => {
    expect(compileFilterPattern(pattern)(message)).toBe(expected);
  });

  it.each([
    ['%ERR[0-9]+%', 'regular-expression filter patterns (%...%) are not supported by the lab'],
    ['{ $.level = "ERROR" ', 'a JSON pattern is enclosed in { }'],
    ['{ level = "ERROR" }', 'expected a selector such as $.level'],
    ['{ $.level ~ "ERROR" }', 'expected one of = != < > <= >= after $.level'],
    ['{ $.level > "ERROR" }', '> compares numbers'],
    ['[a, b', 'a space-delimited pattern is enclosed in [ ]'],
    ['?ERROR WARN', '?term (any of) cannot be combined'],
  ])('refuses %s, naming the syntax: %s', (pattern, message) => {
    expect(() => compileFilterPattern(pattern)).toThrow(FilterPatternError);
    expect(() => compileFilterPattern(pattern)).toThrow(message);
  });

  it('keeps a % inside a quoted term literal (a guard against refusing too much)', () => {
    expect(compileFilterPattern('"100%"')('CPU at 100% now')).toBe(true);
  });
});
