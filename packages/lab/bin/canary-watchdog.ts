/**
 * The canary-watchdog CLI. Commands stay thin: read input, call lib/, print.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { InputError } from 'canary-watchdog/lib/core/validate';
import { checkConfigReport, explainRecords, runLab } from '../src/cli/commands';
import { rehearse } from '../src/rehearsal/rehearse';
import { loadScenarios } from '../src/rehearsal/scenario';

function readInput(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new CommanderError(2, 'canary-watchdog.input', `cannot read ${file === '-' ? 'standard input' : file}: ${(err as Error).message}`);
  }
}

export function program(): Command {
  const cli = new Command('canary-watchdog')
    .description('Safe-by-default AWS Lambda releases: layered verification and a watchdog that rolls back.')
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
    .description('print decision records (JSON lines from the watchdog log, or EventBridge events) as readable explanations')
    .argument('<file>', 'file of JSON lines, or - for standard input')
    .option('--rollbacks-only', 'show only rollback decisions', false)
    .action((file: string, opts: { rollbacksOnly: boolean }) => {
      process.stdout.write(explainRecords(readInput(file), opts));
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
      try {
        await runLab(opts);
      } catch (err) {
        if (err instanceof InputError) throw new CommanderError(2, 'canary-watchdog.input', err.message);
        throw err;
      }
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
      let scenarios;
      try {
        scenarios = loadScenarios(opts.scenario ?? []);
      } catch (err) {
        throw new CommanderError(2, 'canary-watchdog.input', (err as Error).message);
      }
      const results = await rehearse({ scenarios, ...opts });
      if (results.some((r) => !r.passed)) throw new CommanderError(1, 'canary-watchdog.expectations', 'some scenarios did not meet their expectations');
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

/** Run the CLI on `argv` (node's, with the script at [1]); resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return 0;
      if (err.code === 'canary-watchdog.input') process.stderr.write(`error: ${err.message}\n`);
      if (err.code === 'canary-watchdog.expectations') process.stderr.write(`${err.message}\n`);
      // Bad flags, arguments or input files: 2, as for any bad input.
      if (err.code.startsWith('commander.')) return 2;
      return err.exitCode || 2;
    }
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return 1;
  }
}

// Run directly (`tsx bin/canary-watchdog.ts`); bin/canary-watchdog.js calls main itself, so the
// CLI runs however it is reached (npx, a global install, a symlink in node_modules/.bin).
if (require.main === module) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
