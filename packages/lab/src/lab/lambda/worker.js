// One published Lambda version, run in its own worker thread so that it has its own
// process.env (the template's environment) and its own module scope, as in Lambda.
//
// Time: the lab's clock is shared through a SharedArrayBuffer. Date.now() and new Date() read
// it. A timer set inside an invocation (a prober's sleep between rounds) completes at once and
// moves that invocation's own clock forward by its delay, so virtual time never waits for wall
// time; the offset lives in AsyncLocalStorage and ends with the invocation.
'use strict';
/* global URL, Response, performance */
const { parentPort } = require('node:worker_threads');
const { AsyncLocalStorage } = require('node:async_hooks');
const path = require('node:path');
const v8 = require('node:v8');
const util = require('node:util');

// What this thread runs now: set by an 'assign' message (a lab may hand a thread that served
// one version to the next, see index.ts), cleared by 'release'.
let current;
let shared = new Float64Array(1);
const local = new AsyncLocalStorage();
const RealDate = Date;
const realSetTimeout = setTimeout;
const now = () => shared[0] + (local.getStore()?.offset ?? 0);

class LabDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(now());
    else super(...args);
  }
  static now() {
    return now();
  }
}
globalThis.Date = LabDate;
globalThis.setTimeout = function labSetTimeout(fn, ms, ...args) {
  const store = local.getStore();
  // Only the function's own sleeps and the SDK's retry backoff (a sleep too, between attempts) are
  // virtual; other library timers (the SDK's socket and request timeouts) keep real time and their
  // own meaning. https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
  if (!store || !(ownCaller() || sdkBackoff())) return realSetTimeout(fn, ms, ...args);
  return virtualSleep(store, fn, ms, args);
};
// The installed CLI's bundled SDK calls this for its retry backoff (packages/cli/scripts/build.js).
globalThis.__labRetryBackoff = function labRetryBackoff(fn, ms, ...args) {
  const store = local.getStore();
  return store ? virtualSleep(store, fn, ms, args) : realSetTimeout(fn, ms, ...args);
};
function virtualSleep(store, fn, ms, args) {
  store.offset += Math.max(0, Number(ms) || 0);
  // A sleep that ends past the function's timeout: Lambda stops the invocation at the timeout,
  // so the code after it never runs.
  if (store.offset - store.base > store.timeoutMs) {
    store.offset = store.base + store.timeoutMs;
    store.timedOut();
    return realSetTimeout(() => {}, 0);
  }
  return realSetTimeout(fn, 0, ...args);
}

// The Lambda Node.js runtime ships the AWS SDK v3 (/var/runtime/node_modules), so bundles leave
// it out. The lab plays that part: '@aws-sdk/*' the bundle cannot find comes from the lab's own
// node_modules. https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html
const Module = require('node:module');
const originalResolve = Module._resolveFilename;
Module._resolveFilename = function resolveWithRuntimeSdk(request, parent, ...rest) {
  try {
    return originalResolve.call(this, request, parent, ...rest);
  } catch (err) {
    if (typeof request === 'string' && (request.startsWith('@aws-sdk/') || request.startsWith('@smithy/'))) {
      // The installed CLI carries the SDK bundled once, one module per name under sdk/ (packages/cli).
      const packed = path.join(__dirname, 'sdk', request, 'index.js');
      if (require('node:fs').existsSync(packed)) return packed;
      return originalResolve.call(this, request, { ...parent, paths: Module._nodeModulePaths(__dirname) }, ...rest);
    }
    throw err;
  }
};

// The function runs on the Lambda runtime it names, not on the lab host's Node.js: a warning
// about the host's own Node.js version (the AWS SDK's NodeVersionSupportWarning on Node 20) is
// the host's, and stays out of the function's log. Every other warning is the function's.
const realEmitWarning = process.emitWarning;
process.emitWarning = function emitWarningOfTheFunction(warning, ...rest) {
  const text = warning instanceof Error ? warning.message : String(warning);
  if (text.includes(`running node ${process.version}`) || text.includes(`Node.js ${process.version.slice(1).split('.')[0]}.x`)) return;
  return realEmitWarning.call(process, warning, ...rest);
};

// The network function code sees (README, The lab): loopback (the lab's own endpoint, which the SDK
// talks to) passes through; any other host answers as the lab's network map says (the hosts the
// template's functions name in their environment answer 200), and a host not in it fails as DNS
// does. Nothing leaves the machine. The map comes with every invocation (it may change).
const http = require('node:http');
const https = require('node:https');
const { Duplex } = require('node:stream');
let network = {};
const isLoopback = (host) => host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
const answerOf = (host) => network[String(host).toLowerCase()] ?? 'unreachable';
const dnsError = (host) => Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', hostname: host });

const realFetch = globalThis.fetch;
globalThis.fetch = async function labFetch(input, init) {
  const url = new URL(typeof input === 'string' || input instanceof URL ? String(input) : input.url);
  if (isLoopback(url.hostname)) return realFetch(input, init);
  init?.signal?.throwIfAborted();
  const answer = answerOf(url.hostname);
  // undici's shape: TypeError('fetch failed') with the DNS error as its cause.
  if (answer === 'unreachable') throw new TypeError('fetch failed', { cause: dnsError(url.hostname) });
  hostDelay(answer);
  return new Response(null, { status: answer.status });
};

// A slow host answers `latencyMs` later on the invocation's clock; past the function's timeout the
// invocation ends there, as Lambda ends it.
function hostDelay(answer) {
  const store = local.getStore();
  if (!store || !answer.latencyMs) return;
  store.offset += answer.latencyMs;
  if (store.offset - store.base > store.timeoutMs) {
    store.offset = store.base + store.timeoutMs;
    store.timedOut();
  }
}

// A socket that answers one request with the host's status (or fails as DNS does).
function fakeSocket(host) {
  const answer = answerOf(host);
  let head = '';
  let answered = false;
  const socket = new Duplex({
    read() {},
    write(chunk, _enc, cb) {
      head += chunk.toString('latin1');
      if (!answered && head.includes('\r\n\r\n')) {
        answered = true;
        hostDelay(answer);
        socket.push(`HTTP/1.1 ${answer.status} ${http.STATUS_CODES[answer.status] || ''}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
        socket.push(null);
      }
      cb();
    },
  });
  for (const m of ['setTimeout', 'setNoDelay', 'setKeepAlive', 'ref', 'unref']) socket[m] = () => socket;
  if (answer === 'unreachable') process.nextTick(() => socket.destroy(dnsError(host)));
  return socket;
}

function hostOf(args) {
  const first = args[0];
  if (typeof first === 'string' || first instanceof URL) return new URL(String(first)).hostname;
  const o = first || {};
  return String(o.hostname || (o.host || 'localhost').replace(/:\d+$/, ''));
}

// A response of the lab says how long the call took in virtual time (an Invoke's duration, init
// included; a call slowed by an injected fault): the calling invocation's clock moves to at least
// its start plus that, so its round trip shows it (calls made at once overlap, as they would). A
// call that ends past the function's timeout ends the invocation there, as Lambda does.
function trackElapsed(req) {
  const store = local.getStore();
  if (!store) return req;
  // The caller's own time, so the lab places what it invokes after the caller's sleeps and calls.
  try {
    req.setHeader('x-lab-caller-now', String(now()));
  } catch {
    // Headers already sent: the lab uses its own clock.
  }
  const startOffset = store.offset;
  req.once('response', (res) => {
    const ms = Number(res.headers['x-lab-elapsed-ms']);
    if (ms > 0) store.offset = Math.max(store.offset, startOffset + ms);
    // The offset counts from the lab's clock; the invocation began `base` after it.
    if (store.offset - store.base > store.timeoutMs) {
      store.offset = store.base + store.timeoutMs;
      store.timedOut();
    }
  });
  return req;
}

for (const mod of [http, https]) {
  const realRequest = mod.request;
  mod.request = function labRequest(...args) {
    const host = hostOf(args);
    if (isLoopback(host)) return trackElapsed(realRequest.apply(this, args));
    // The same request object, over a socket that never leaves the thread.
    const cb = typeof args[args.length - 1] === 'function' ? args.pop() : undefined;
    const [a, b] = args;
    const base = typeof a === 'string' || a instanceof URL ? b || {} : a || {};
    const opts = { ...base, agent: undefined, createConnection: () => fakeSocket(host) };
    const call = typeof a === 'string' || a instanceof URL ? [a, opts] : [opts];
    return realRequest.call(this, ...call, ...(cb ? [cb] : []));
  };
  mod.get = function labGet(...args) {
    const req = mod.request(...args);
    req.end();
    return req;
  };
}

// Who called setTimeout: frame 3 of a short stack (the SDK sets timers on every request, so the
// stack is kept to the frames this needs).
function ownCaller() {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 3;
  const stack = new Error().stack || '';
  Error.stackTraceLimit = limit;
  const caller = stack.slice(stack.lastIndexOf('\n') + 1);
  return stack.split('\n').length >= 4 && !caller.includes('node_modules') && !caller.includes('node:') && !caller.includes(PACKED_SDK);
}

// Whether the SDK's retry strategy set this timer: its wait between attempts. The SDK v3 keeps it in
// @smithy's retry module (@smithy/core's retry submodule, or @smithy/middleware-retry and
// @smithy/util-retry in older releases). (The installed CLI's bundled SDK has no module paths: it
// calls __labRetryBackoff instead, see packages/cli/scripts/build.js.)
const RETRY_MODULE = /[\\/]@smithy[\\/](?:core[\\/]dist-[a-z]+[\\/]submodules[\\/]retry|middleware-retry|util-retry)[\\/]/;
function sdkBackoff() {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 4;
  const stack = new Error().stack || '';
  Error.stackTraceLimit = limit;
  return RETRY_MODULE.test(stack);
}

// The SDK the installed CLI carries bundled (packages/cli): a library, like node_modules.
const PACKED_SDK = path.join(__dirname, 'sdk.js');

let handler;
let initError;
// How long the code's last load took, wall ms: the REPORT line's Init Duration of a cold start
// when the version models no init of its own (index.ts).
let loadMs;
function load() {
  if (handler || initError) return;
  const loadStarted = performance.now();
  try {
    const [file, name] = splitHandler(current.handler);
    const mod = require(path.join(current.codeDir, file));
    handler = mod[name];
    if (typeof handler !== 'function') throw new Error(`Handler '${name}' missing on module '${file}'`);
  } catch (err) {
    initError = err;
  }
  loadMs = performance.now() - loadStarted;
}

function splitHandler(h) {
  const dot = h.lastIndexOf('.');
  return [h.slice(0, dot), h.slice(dot + 1)];
}

function errorPayload(err) {
  const e = err instanceof Error ? err : new Error(String(err));
  return { errorType: e.name || 'Error', errorMessage: e.message, trace: (e.stack || '').split('\n').slice(0, 5) };
}

// The most memory this environment has held, bytes: its V8 heap and the external memory (buffers)
// the heap keeps, measured as each invocation ends (REPORT's Max Memory Used).
let peakMemory = 0;
function memoryPeak() {
  const h = v8.getHeapStatistics();
  peakMemory = Math.max(peakMemory, h.total_heap_size + h.external_memory);
  return peakMemory;
}

// Lambda's JSON log format for Node.js: each console call is one record with its level, the
// invocation's request id and the formatted message; calls below AWS_LAMBDA_LOG_LEVEL are dropped.
// https://docs.aws.amazon.com/lambda/latest/dg/nodejs-logging.html
const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
const CONSOLE_LEVELS = { trace: 'TRACE', debug: 'DEBUG', log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR' };
const textConsole = Object.fromEntries(Object.keys(CONSOLE_LEVELS).map((m) => [m, console[m]]));
function setLogFormat(env) {
  if (env.AWS_LAMBDA_LOG_FORMAT !== 'JSON') return Object.assign(console, textConsole);
  const least = Math.max(0, LOG_LEVELS.indexOf(env.AWS_LAMBDA_LOG_LEVEL || 'INFO'));
  for (const [method, level] of Object.entries(CONSOLE_LEVELS)) {
    console[method] = (...args) => {
      if (LOG_LEVELS.indexOf(level) < least) return;
      const requestId = local.getStore()?.requestId;
      const record = { timestamp: new RealDate(now()).toISOString(), level, ...(requestId ? { requestId } : {}), message: util.format(...args) };
      // One stream for every level, so that the records keep the order they were written in.
      process.stdout.write(`${JSON.stringify(record)}\n`);
    };
  }
}

function assign(msg) {
  current = msg;
  peakMemory = 0;
  shared = new Float64Array(msg.clock);
  for (const key of Object.keys(process.env)) delete process.env[key];
  Object.assign(process.env, msg.env);
  setLogFormat(msg.env);
  // Initialise at once, as Lambda's init phase does, so the first invocation finds the code loaded.
  load();
}

// Forget the version: its modules (a fresh module scope for the next), its environment and its
// handler. Modules from outside its code folder (the SDK, node builtins) stay loaded, as the
// runtime's own do. The marker tells the lab that every earlier output line has arrived.
function forgetCode() {
  const prefix = current.codeDir.endsWith(path.sep) ? current.codeDir : current.codeDir + path.sep;
  for (const key of Object.keys(require.cache)) if (key.startsWith(prefix)) delete require.cache[key];
}

function release() {
  forgetCode();
  handler = undefined;
  initError = undefined;
  current = undefined;
  for (const key of Object.keys(process.env)) delete process.env[key];
  process.stdout.write(`${RELEASED}\n`);
  process.stderr.write(`${RELEASED}\n`);
}
const RELEASED = '\u0000canary-watchdog-lab:released';
const DONE = '\u0000canary-watchdog-lab:done ';

// A new execution environment after a failed init: the code loads afresh (its init runs again).
function reinit() {
  forgetCode();
  handler = undefined;
  initError = undefined;
  load();
}

parentPort.on('message', (msg) => {
  if (msg.type === 'assign') return assign(msg);
  if (msg.type === 'release') return release();
  if (msg.type === 'reinit') return reinit();
  if (msg.type !== 'invoke') return;
  network = msg.network || {};
  // The invocation starts at the lab's clock plus `startOffset` (a caller ahead of the lab's clock).
  const base = Number(msg.startOffset) || 0;
  const started = now() + base;
  const wallStarted = performance.now();
  const cur = current;
  // Time the invocation has taken: its virtual sleeps and calls (the offset) plus, on a real
  // clock, its own compute at wall-clock speed. A sped-up clock (--speed N) runs the world N
  // times faster, not the function's code: 10 ms of work stays 10 ms, as it would in Lambda.
  const elapsed = () => (cur.wallClock ? (local.getStore()?.offset ?? base) - base + (performance.now() - wallStarted) : now() - started);
  const context = {
    functionName: cur.functionName,
    functionVersion: cur.version,
    invokedFunctionArn: msg.arn,
    awsRequestId: msg.requestId,
    getRemainingTimeInMillis: () => Math.max(0, cur.timeoutMs - elapsed()),
  };
  let replied = false;
  const send = (reply) => {
    if (replied) return;
    replied = true;
    // Every line the invocation printed is written before this marker (runner.ts waits for it).
    process.stdout.write(`${DONE}${msg.id}\n`);
    process.stderr.write(`${DONE}${msg.id}\n`);
    parentPort.postMessage({ type: 'result', id: msg.id, loadMs, memoryBytes: memoryPeak(), ...reply });
  };
  // Lambda's timeout: the invocation ends with Sandbox.Timedout at the configured duration.
  // https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
  const timedOut = () =>
    send({
      ok: false,
      timedOut: true,
      durationMs: cur.timeoutMs,
      payload: { errorType: 'Sandbox.Timedout', errorMessage: `${new RealDate(started + cur.timeoutMs).toISOString()} ${msg.requestId} Task timed out after ${(cur.timeoutMs / 1000).toFixed(2)} seconds` },
    });
  local.run({ offset: base, base, timeoutMs: cur.timeoutMs, timedOut, requestId: msg.requestId }, async () => {
    let reply;
    try {
      load();
      if (initError) throw Object.assign(initError, { lambdaInit: true });
      const result = await handler(msg.event, context);
      reply = { ok: true, payload: result === undefined ? null : result };
    } catch (err) {
      reply = { ok: false, payload: errorPayload(err), init: Boolean(err && err.lambdaInit) };
    }
    const durationMs = elapsed();
    if (durationMs > cur.timeoutMs) return timedOut();
    send({ durationMs, ...reply });
  });
});
