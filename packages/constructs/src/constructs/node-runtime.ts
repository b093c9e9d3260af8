import * as lambda from 'aws-cdk-lib/aws-lambda';

/** The oldest Node.js line the defaults may pick: the runtime bundles are built for it (scripts/bundle-runtime.js). */
export const MIN_DEFAULT_NODE_MAJOR = 22;

/**
 * The newest Node.js runtime of the installed aws-cdk-lib (`Runtime.NODEJS_<major>_X`), at least
 * nodejs22.x. Lambda offers only Node.js LTS lines, and CDK adds each when Lambda launches it, so
 * the newest one CDK knows is the newest LTS; a CDK upgrade that adds one moves the default
 * there, and for a guarded function that change is released like any other, through its canary.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
 */
export function newestNodeRuntime(runtimes: object = lambda.Runtime): lambda.Runtime {
  const majors = Object.getOwnPropertyNames(runtimes)
    .map((name) => /^NODEJS_(\d+)_X$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));
  const newest = Math.max(...majors);
  if (!(newest >= MIN_DEFAULT_NODE_MAJOR)) {
    throw new Error(
      `canary-watchdog: the installed aws-cdk-lib knows no Node.js runtime of ${MIN_DEFAULT_NODE_MAJOR} or newer (newest: ${majors.length ? `nodejs${newest}.x` : 'none'}); upgrade aws-cdk-lib or set runtime`,
    );
  }
  return (runtimes as Record<string, lambda.Runtime>)[`NODEJS_${newest}_X`];
}
