/**
 * The canary-watchdog CLI. Commands stay thin: read input, call lib/, print.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkConfigReport, EXPLAIN_INPUT, explainRecords, runLab } from '../src/cli/commands';
import { badInput, CliError, EXIT, EXIT_CODE_HELP, exitCodeOf } from '../src/cli/exit-codes';
import { checkOutputFile } from '../src/cli/output-path';
import { rehearse } from '../src/rehearsal/rehearse';
import { loadScenarios } from '../src/rehearsal/scenario';

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
    .argument('<file>', 'file (a log export, an event archive, a saved record), or - for standard input')
    .option('--rollbacks-only', 'show only rollback decisions', false)
    .action((file: string, opts: { rollbacksOnly: boolean }) => {
      process.stdout.write(explainRecords(readInput(file), { ...opts, source: file === '-' ? 'standard input' : file }));
    });

  cli
    .command('lab')
    .description('start the embedded AWS lab (Lambda, CloudWatch, CodeDeploy, DynamoDB, EventBridge, and CloudFormation, S3, SSM, STS for cdk deploy) on 127.0.0.1 with an app loaded, or empty')
    .option('--port <n>', 'port to listen on (0: any free port)', parsePort, 4577)
    .addOption(new Option('--clock <mode>', 'virtual: time moves only through POST /_lab/clock/advance; real: time flows').choices(['virtual', 'real']).default('virtual'))
    .option('--speed <n>', 'with --clock real: lab seconds per wall-clock second (60: a 10-minute canary in 10 s)', parseSpeed)
    .option('--app <dir>', 'a synthesized cloud assembly (cdk.out) to load (default: synthesize the sample app)')
    .option('--empty', 'load no app: wait for cdk bootstrap and cdk deploy against the endpoint', false)
    .option('--seed <n>', 'seed of every random draw (traffic, injected errors, faults)', parseSeed, 1)
    .action(async (opts: { port: number; clock: 'virtual' | 'real'; speed?: number; app?: string; empty: boolean; seed: number }) => {
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
    .action(async (opts: { scenario?: string[]; json?: string; report?: string; app?: string; seed?: number; parallel: number }) => {
      // Every input and output path is checked before the app is synthesized or a lab starts.
      if (opts.json !== undefined) checkOutputFile('--json', opts.json);
      if (opts.report !== undefined) checkOutputFile('--report', opts.report);
      const scenarios = loadScenarios(opts.scenario ?? []);
      const results = await rehearse({ scenarios, ...opts });
      if (results.some((r) => !r.passed)) throw new CliError(EXIT.failed, 'some scenarios did not meet their expectations');
    });

  return cli;
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

function parseSeed(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`expected an integer, got ${v}`);
  return n;
}

/** The CLI's version: its package's. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** Run the CLI on `argv` (node's, with the script at [1]); resolves to the exit status (EXIT_CODE_HELP). */
export async function main(argv: string[]): Promise<number> {
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
    // "failed" is a verdict, not an error of the CLI's.
    process.stderr.write(code === EXIT.failed ? `${(err as Error).message}\n` : `error: ${(err as Error).message}\n`);
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
