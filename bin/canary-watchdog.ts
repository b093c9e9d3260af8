/**
 * The canary-watchdog CLI. Commands stay thin: read input, call lib/, print.
 */
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { checkConfigReport, explainRecords } from '../lib/cli/commands';

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

  return cli;
}

function main(argv: string[]): number {
  try {
    program().parse(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return 0;
      if (err.code === 'canary-watchdog.input') process.stderr.write(`error: ${err.message}\n`);
      return err.exitCode || 2;
    }
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module || process.argv[1]?.endsWith('canary-watchdog.js')) {
  process.exitCode = main(process.argv);
}
