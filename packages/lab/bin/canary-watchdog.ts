/**
 * The canary-watchdog CLI. Commands stay thin: read input, call lib/, print.
 */
import { CLI_PACKAGE_JSON } from '../src/lab/files';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { checkConfigReport, EXPLAIN_INPUT, explainRecords, runLab } from '../src/cli/commands';
import { badInput, CliError, EXIT, EXIT_CODE_HELP, exitCodeOf } from '../src/cli/exit-codes';
import { decisionLinesFromLogGroup } from '../src/cli/log-group';
import { checkOutputFile } from '../src/cli/output-path';
import { onInterrupt } from '../src/cli/interrupt';
import { checkCloudAssembly } from '../src/cli/preflight';
import { parseLabStart } from '../src/cli/lab-start';
import { terminalLines } from '../src/cli/terminal-text';
import { rehearse } from '../src/rehearsal/rehearse';
import { serveStrategyRuns, StrategyProcesses, STRATEGY_RUNNER_ENV } from '../src/rehearsal/processes';
import { loadScenarios, QUICK_SCENARIOS } from '../src/rehearsal/scenario';
import { deployCommand, watchCommand, type FollowFlags, type WatchFlags } from '../src/cli/watch-command';
import { DEFAULT_WAIT_FOR_UPDATE_MINUTES } from '../src/cli/watch';
import { mergeCommand, parseShard, QUICK_LEAVES_OUT, threatModelCommand, type ThreatModelFlags } from '../src/cli/threat-model-command';
import { CATALOGUE } from '../src/threat-model/catalogue';

function readInput(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw badInput(`cannot read ${file === '-' ? 'standard input' : file}: ${(err as Error).message}`);
  }
}

export function program(): Command {
  const cli = new Command('canary-watchdog')
    .description('Safe-by-default AWS Lambda releases: layered verification and a watchdog that rolls back.')
    .version(packageVersion(), '-V, --version', "print the CLI's version")
    .addHelpText('after', `\n${EXIT_CODE_HELP}\n`)
    .showHelpAfterError()
    .enablePositionalOptions()
    .exitOverride();

  cli
    .command('check-config')
    .description('validate a watchdog configuration (JSON) and print the layers and signals it guards each function with')
    .argument('<file>', "configuration file, or - for standard input (the CANARY_WATCHDOG_CONFIG value)")
    .action((file: string) => {
      process.stdout.write(checkConfigReport(readInput(file)));
    });

  cli
    .command('explain')
    .description(`print ${EXPLAIN_INPUT}, as readable explanations; input without any record is bad input (2)`)
    .argument('[file]', 'file (a log export, an event archive, a saved record), or - for standard input; or --log-group')
    .option('--rollbacks-only', 'show only rollback decisions', false)
    .option('--log-group <name>', "read the records from the watchdog's log group (AWS, or the lab through AWS_ENDPOINT_URL) instead of a file")
    .option('--deployment <id>', 'only the records of this deployment (d-...)')
    .action(async (file: string | undefined, opts: { rollbacksOnly: boolean; logGroup?: string; deployment?: string }) => {
      if ((file === undefined) === (opts.logGroup === undefined)) throw badInput('explain: give a file (or - for standard input) or --log-group NAME, not both and not neither');
      if (opts.deployment !== undefined && !/^d-[A-Z0-9]{9}$/.test(opts.deployment)) throw badInput(`--deployment: expected a CodeDeploy deployment id (d- and 9 letters or digits), got ${JSON.stringify(opts.deployment)}`);
      const text = opts.logGroup !== undefined ? await decisionLinesFromLogGroup(opts.logGroup, opts.deployment) : readInput(file!);
      const source = opts.logGroup !== undefined ? `log group ${opts.logGroup}` : file === '-' ? 'standard input' : file!;
      process.stdout.write(explainRecords(text, { ...opts, source }));
    });

  cli
    .command('lab')
    .description('start the embedded AWS lab (Lambda, CloudWatch, CodeDeploy, DynamoDB, EventBridge, and CloudFormation, S3, SSM, STS for cdk deploy) on 127.0.0.1 with an app loaded, or empty')
    .option('--port <n>', 'port to listen on (0: any free port)', parsePort, 4577)
    .addOption(new Option('--clock <mode>', 'virtual: time moves only through POST /_lab/clock/advance; real: time flows').choices(['virtual', 'real']).default('virtual'))
    .option('--speed <n>', 'with --clock real: lab seconds per wall-clock second (60: a 10-minute canary in 10 s)', parseSpeed)
    .option('--app <dir>', 'a synthesized cloud assembly (cdk.out) to load (default: synthesize the sample app)')
    .option('--empty', 'load no app: wait for cdk bootstrap and cdk deploy against the endpoint', false)
    .option('--start <time>', 'with --clock virtual: when the clock starts, now or an ISO 8601 time (default: 2026-01-01T00:00:00Z); a real clock starts now', (v: string) => parseLabStart(v))
    .option('--seed <n>', 'seed of every random draw (traffic, injected errors, faults)', parseSeed, 1)
    .option('--traffic <file>', "user traffic that runs the real code: per function (construct id or function name) its events and rate (e.g. the sample's sample/traffic.yaml); it starts for each function as soon as a stack deploys it")
    .action(async (opts: { port: number; clock: 'virtual' | 'real'; speed?: number; start?: number; app?: string; empty: boolean; seed: number; traffic?: string }) => {
      await runLab(opts);
    });

  cli
    .command('rehearse')
    .description('rehearse releases on the lab: each scenario with the watchdog and with native CodeDeploy alarm rollback, side by side')
    .option('--scenario <ref...>', 'scenario file, folder or built-in name (repeatable; default: every built-in scenario)')
    .option('--json <file>', 'write the results as JSON')
    .option('--report <file.html>', 'write a self-contained HTML report')
    .option('--app <dir>', 'a synthesized cloud assembly (default: synthesize the sample app)')
    .option('--seed <n>', 'override every scenario\'s seed', parseSeed)
    .option('--parallel <n>', 'scenarios run at once (results do not depend on it)', parsePositive, 2)
    .option('--quick', `a tour of the built-in scenarios: ${QUICK_SCENARIOS.join(', ')}`)
    .action(async (opts: { scenario?: string[]; json?: string; report?: string; app?: string; seed?: number; parallel: number; quick?: boolean }) => {
      if (opts.quick && opts.scenario) throw badInput('--quick and --scenario exclude each other: --quick rehearses a tour of the built-in scenarios, --scenario the ones you name');
      // Every input and output path is checked before the app is synthesized or a lab starts.
      if (opts.json !== undefined) checkOutputFile('--json', opts.json);
      if (opts.report !== undefined) checkOutputFile('--report', opts.report);
      if (opts.app !== undefined) checkCloudAssembly(opts.app);
      const scenarios = loadScenarios(opts.quick ? QUICK_SCENARIOS : (opts.scenario ?? []));
      // Each strategy of each scenario running at once in a process of its own (results do not depend on it).
      const processes = new StrategyProcesses(opts.parallel * 2);
      let results;
      try {
        results = await interruptible((interrupt) => rehearse({ scenarios, ...opts, interrupt, runner: processes.run }));
      } finally {
        processes.close();
      }
      if (results.some((r) => !r.passed)) throw new CliError(EXIT.failed, 'some scenarios did not meet their expectations');
    });

  const threat = cli
    .command('threat-model')
    .description('for each guarded function and failure mode: which layers stop it, each with the ones before taken away; how far it gets, its failed requests, and where there is one chance or none (a static audit of the templates first)')
    .option('--app <dir>', 'a synthesized cloud assembly (default: synthesize the sample app)')
    .option('--function <name...>', 'only these guarded functions (name or construct id)')
    .option('--mode <id...>', `only these failure modes: ${CATALOGUE.map((m) => m.id).join(', ')}`)
    .option('--scenario <ref...>', 'your own failure modes: scenario files or folders, real traffic (traffic.events, release.code) included; one with a catalogue mode\'s id replaces it (expect.outcome completed: a good release that must not roll back)')
    .option('--stages <name:share:bake...>', "the app's stages (pipeline waves) in order, each NAME:SHARE:BAKE_MINUTES (share of all users, 0-1), for all-stages-at-once; --rps is then the whole fleet's rate")
    .option('--quick', `a subset for pull requests; leaves out ${QUICK_LEAVES_OUT.join(', ')}`)
    .option('--rps <n>', 'user requests a second each function gets (what you declare)', parseRps, 10)
    .option('--baseline-error-rate <rate>', 'the error rate the old version runs at (for the audit)', parseRate, 0.005)
    .option('--parallel <n>', 'trials at once (results do not depend on it)', parsePositive, 2)
    .option('--seed <n>', 'the rehearsals\' seed', parseSeed, 1)
    .option('--shard <i/n>', 'only shard I of N of the trials (a CI job matrix); join them with threat-model merge')
    .option('--json <file>', 'write { findings, rows } as JSON, one row per function and mode')
    .option('--report <file.html>', 'write a self-contained HTML matrix of modes by layers')
    .option('--fail-under <n>', 'exit 1 when a bad release is stopped by fewer than N layers before 100 % (false rollbacks are shown, not counted)', parseCount)
    .option('--audit-only', 'the static audit alone, no rehearsal')
    .action(async (opts: Omit<ThreatModelFlags, 'shard'> & { shard?: string }) => {
      if (opts.json !== undefined) checkOutputFile('--json', opts.json);
      if (opts.report !== undefined) checkOutputFile('--report', opts.report);
      if (opts.app !== undefined) checkCloudAssembly(opts.app);
      const shard = opts.shard === undefined ? undefined : parseShard(opts.shard);
      const processes = new StrategyProcesses(opts.parallel);
      try {
        await interruptible((interrupt) => threatModelCommand({ ...opts, ...(shard ? { shard } : { shard: undefined }), interrupt, runner: processes.run }));
      } finally {
        processes.close();
      }
    });
  threat
    .command('merge')
    .description("join the JSON of threat-model --shard runs into one result: the table, --json, --report, --fail-under")
    .argument('<files...>', "the shards' JSON files")
    .option('--json <file>', 'write the joined JSON')
    .option('--report <file.html>', 'write the HTML matrix')
    .option('--fail-under <n>', 'exit 1 when a bad release is stopped by fewer than N layers before 100 % (false rollbacks are shown, not counted)', parseCount)
    .action((files: string[], opts: { json?: string; report?: string; failUnder?: number }) => {
      if (opts.json !== undefined) checkOutputFile('--json', opts.json);
      if (opts.report !== undefined) checkOutputFile('--report', opts.report);
      mergeCommand(files, opts);
    });

  const followOptions = (c: Command) =>
    c
      .option('--json <file>', 'write the decision records and the outcome as JSON')
      .option('--interval <seconds>', 'seconds between polls of CodeDeploy, the alias and the state table', parseInterval, 5)
      .option('--timeout <minutes>', 'give up (exit 3) after this many minutes', parseTimeout, 180)
      .option('--table <name>', "the watchdog's state table (default: named by the deployment's hook function's environment)");

  followOptions(
    cli
      .command('watch')
      .description("follow a guarded release to its verdict (AWS, or the lab through AWS_ENDPOINT_URL): traffic share, stage, each layer's state, the watchdog's decision records, and on a rollback the deciding layer's reason and evidence")
      .option('--deployment <id>', 'a CodeDeploy deployment id')
      .option('--stack <name>', "every guarded deployment the stack's current update starts")
      .option('--wait-for-update <minutes>', `with --stack: when the stack is not being updated, wait this long for its update to begin (exit 3 if none does); 0: report its last update`, parseWait, DEFAULT_WAIT_FOR_UPDATE_MINUTES)
      .option('--application <name>', 'with --group: the deployment in progress in that group, or the next one')
      .option('--group <name>', 'a deployment group of --application'),
  ).action(async (opts: WatchFlags) => {
    await interruptible((interrupt) => watchCommand({ ...opts, interrupt }));
  });

  followOptions(
    cli
      .command('deploy')
      .description('run `npx cdk deploy [args]` in this folder, follow every guarded release it starts, and exit with their verdict (1 and the reason when one was rolled back)')
      .argument('[cdkArgs...]', 'arguments for cdk deploy (put them after --, or after the options above)')
      .option('--cdk <command>', 'the command that runs the CDK CLI', 'npx cdk')
      .passThroughOptions()
      .allowUnknownOption(),
  ).action(async (cdkArgs: string[], opts: FollowFlags & { cdk: string }) => {
    await interruptible((interrupt) => deployCommand(cdkArgs, { ...opts, interrupt }));
  });

  return cli;
}

/** Run a long command with Ctrl-C as its interrupt signal (see src/cli/interrupt.ts). */
async function interruptible<T>(run: (interrupt: AbortSignal) => Promise<T>): Promise<T> {
  const stop = onInterrupt();
  try {
    return await run(stop.signal);
  } finally {
    stop.dispose();
  }
}

function parseInterval(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0.1 || n > 300) throw new InvalidArgumentError(`expected seconds from 0.1 to 300, got ${v}`);
  return n;
}

function parseWait(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 600) throw new InvalidArgumentError(`expected minutes from 0 to 600, got ${v}`);
  return n;
}

function parseTimeout(v: string): number {
  const n = Number(v);
  // A Lambda deployment runs at most 50 hours (https://docs.aws.amazon.com/codedeploy/latest/userguide/limits.html).
  if (!Number.isFinite(n) || n <= 0 || n > 3000) throw new InvalidArgumentError(`expected minutes from 0 to 3000, got ${v}`);
  return n;
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port from 0 to 65535, got ${v}`);
  return n;
}

function parseSpeed(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 1 || n > 3600) throw new InvalidArgumentError(`expected a number from 1 to 3600 (lab seconds per wall-clock second), got ${v}`);
  return n;
}

function parsePositive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new InvalidArgumentError(`expected an integer from 1 to 16, got ${v}`);
  return n;
}

function parseRps(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 10_000) throw new InvalidArgumentError(`expected requests a second above 0 and at most 10000, got ${v}`);
  return n;
}

function parseRate(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n >= 1) throw new InvalidArgumentError(`expected a rate from 0 up to 1 (0.005 is 0.5 %), got ${v}`);
  return n;
}

function parseCount(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 10) throw new InvalidArgumentError(`expected an integer from 0 to 10, got ${v}`);
  return n;
}

function parseSeed(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`expected an integer, got ${v}`);
  return n;
}

/** The CLI's version: its package's. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(CLI_PACKAGE_JSON, 'utf8')) as { version: string }).version;
}

/** Run the CLI on `argv` (node's, with the script at [1]); resolves to the exit status (EXIT_CODE_HELP). */
export async function main(argv: string[]): Promise<number> {
  // A child the CLI started to run rehearsal strategies in (rehearsal/processes.ts).
  if (process.env[STRATEGY_RUNNER_ENV] === '1') {
    delete process.env[STRATEGY_RUNNER_ENV];
    if (!process.send) {
      process.stderr.write(`error: ${STRATEGY_RUNNER_ENV} is set, but this process was not started by the CLI (no IPC channel)\n`);
      return EXIT.badInput;
    }
    await serveStrategyRuns();
    process.exit(EXIT.ok);
  }
  try {
    await program().parseAsync(argv);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version end at once with 0; commander has printed any other complaint itself:
      // a bad flag, argument or value is bad input.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return EXIT.ok;
      return EXIT.badInput;
    }
    const code = exitCodeOf(err);
    // "failed" is a verdict and "interrupted" the user's choice, not errors of the CLI's.
    // An error's message may quote AWS (an SDK error, a reason): printed terminal-safe.
    const message = terminalLines((err as Error).message);
    process.stderr.write(code === EXIT.failed || code === EXIT.interrupted ? `${message}\n` : `error: ${message}\n`);
    return code;
  }
}

// Run directly (`tsx bin/canary-watchdog.ts`); bin/canary-watchdog.js calls main itself, so the
// CLI runs however it is reached (npx, a global install, a symlink in node_modules/.bin).
if (require.main === module) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
