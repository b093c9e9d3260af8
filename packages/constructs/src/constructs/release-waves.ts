import { Aws, Duration, Stack, Stage, Token } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { Construct } from 'constructs';
import { GuardValidationError, throwFirst, type PropProblem } from './errors';
import { GuardedFunction } from './guarded-function';

/** The longest bake between waves, as AppConfig's FinalBakeTimeInMinutes (0-1440).
 * https://docs.aws.amazon.com/appconfig/latest/userguide/appconfig-creating-deployment-strategy.html */
export const MAX_WAVE_BAKE_MINUTES = 1440;
/** CodeBuild stops a build after at most 2160 minutes; a bake step adds this margin to its bake.
 * https://docs.aws.amazon.com/codebuild/latest/APIReference/API_CreateProject.html */
const BAKE_STEP_MARGIN_MINUTES = 20;
/** The CDK bootstrap stack's default qualifier. */
const DEFAULT_QUALIFIER = 'hnb659fds';

/** One wave of a release: stages deployed together, then baked together. */
export interface ReleaseWave {
  /** The wave's name in the pipeline (for example `beta`, `prod-1`, `prod-rest`). */
  readonly name: string;
  /** The stages the wave deploys, in parallel; each stage's stacks must hold guarded functions. */
  readonly stages: Stage[];
  /**
   * Minutes each stage of the wave is watched after its release succeeded, before the next wave
   * starts (0-1440); 0 still checks the verdict and the alarms once.
   * @default the `bakeMinutes` prop of ReleaseWaves
   */
  readonly bakeMinutes?: number;
}

export interface ReleaseWavesProps {
  /** The CDK pipeline the waves are added to, in order. */
  readonly pipeline: pipelines.PipelineBase;
  /** The waves, in release order: for example beta, then one production region, then the rest. */
  readonly waves: ReleaseWave[];
  /**
   * Default bake of every wave, minutes (0-1440).
   * @default 30
   */
  readonly bakeMinutes?: number;
  /**
   * Seconds between two alarm checks during a bake (10-600).
   * @default 60: alarms with periods of a minute or more are evaluated every minute
   * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
   */
  readonly pollSeconds?: number;
  /**
   * Allow a stage stack that holds no GuardedFunction (a database or network stack). Every stage
   * must still hold at least one.
   * @default false: every stack of every stage must hold a GuardedFunction
   */
  readonly allowUnguardedStacks?: boolean;
  /**
   * Qualifier of the CDK bootstrap stacks of the stages' accounts. A bake step of a stage in
   * another account than the pipeline's reads that account through its bootstrap lookup role
   * (`cdk-<qualifier>-lookup-role-<account>-<region>`), which `cdk bootstrap --trust` lets the
   * pipeline's account assume.
   * @default 'hnb659fds', the CDK's default
   * @see https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html
   */
  readonly bootstrapQualifier?: string;
}

/** One guarded deployment group of a stage: what a bake step reads. */
interface GuardedGroup {
  readonly application: string;
  readonly deploymentGroup: string;
}

/** What the bake step of one stage needs to know. */
interface StageGuards {
  readonly stage: Stage;
  readonly stackNames: string[];
  readonly groups: GuardedGroup[];
}

/**
 * Guarded releases in waves for CDK Pipelines. Each wave's stages are deployed by the pipeline's
 * CloudFormation actions: a guarded alias is updated under CodeDeploy's
 * `CodeDeployLambdaAliasUpdate` policy, so the stack update lasts until the release's verdict and
 * fails when the release is rolled back, and a failed action stops the pipeline. After each stage,
 * a bake step (a CodeBuild step) checks the verdict of every deployment the stage's stack update
 * started and then watches the alarms CodeDeploy watches for the stage's deployment groups for
 * the wave's bake: one in ALARM, or one rolled-back deployment, fails the step, and the pipeline
 * stops before the next wave. The next wave starts only when every stage of this one has baked.
 *
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-updatepolicy.html
 */
export class ReleaseWaves extends Construct {
  /** The pipeline's waves, in order. */
  readonly waves: pipelines.Wave[];

  constructor(scope: Construct, id: string, props: ReleaseWavesProps) {
    super(scope, id);
    throwFirst(this, wavesProblems(props));
    const qualifier = props.bootstrapQualifier ?? DEFAULT_QUALIFIER;
    const pollSeconds = props.pollSeconds ?? 60;
    const pipelineAccount = Stack.of(this).account;

    this.waves = props.waves.map((spec, w) => {
      const bakeMinutes = spec.bakeMinutes ?? props.bakeMinutes ?? 30;
      const wave = props.pipeline.addWave(spec.name);
      spec.stages.forEach((stage, s) => {
        const guards = stageGuards(this, stage, `waves[${w}].stages[${s}]`, props.allowUnguardedStacks ?? false);
        const crossAccount = !Token.isUnresolved(pipelineAccount) && stage.account !== pipelineAccount;
        const roleArn = crossAccount ? `arn:${Aws.PARTITION}:iam::${stage.account}:role/cdk-${qualifier}-lookup-role-${stage.account}-${stage.region}` : undefined;
        wave.addStage(stage, { post: [bakeStep(guards, { bakeMinutes, pollSeconds, roleArn })] });
      });
      return wave;
    });
  }
}

/** The props' problems, as `{prop, message}`; empty when valid. Pure. */
export function wavesProblems(props: ReleaseWavesProps): PropProblem[] {
  const problems: PropProblem[] = [];
  const bake = (prop: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= MAX_WAVE_BAKE_MINUTES)) {
      problems.push({ prop, message: `must be a whole number of minutes from 0 to ${MAX_WAVE_BAKE_MINUTES}, got ${v}` });
    }
  };
  bake('bakeMinutes', props.bakeMinutes);
  if (props.pollSeconds !== undefined && !(Number.isInteger(props.pollSeconds) && props.pollSeconds >= 10 && props.pollSeconds <= 600)) {
    problems.push({ prop: 'pollSeconds', message: `must be a whole number of seconds from 10 to 600, got ${props.pollSeconds}` });
  }
  if (props.bootstrapQualifier !== undefined && !/^[A-Za-z0-9_-]{1,10}$/.test(props.bootstrapQualifier)) {
    problems.push({ prop: 'bootstrapQualifier', message: `must be 1 to 10 letters, digits, - or _, got ${JSON.stringify(props.bootstrapQualifier)}` });
  }
  if (props.waves.length === 0) problems.push({ prop: 'waves', message: 'must name at least one wave, for example beta, then production' });
  const waveNames = new Map<string, number>();
  const stageNames = new Map<string, string>();
  props.waves.forEach((wave, w) => {
    const at = `waves[${w}]`;
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(wave.name)) problems.push({ prop: `${at}.name`, message: `must be letters, digits, - and _, starting with a letter or digit, got ${JSON.stringify(wave.name)}` });
    if (waveNames.has(wave.name)) problems.push({ prop: `${at}.name`, message: `duplicate wave name ${JSON.stringify(wave.name)} (also waves[${waveNames.get(wave.name)}]); each must be unique` });
    waveNames.set(wave.name, w);
    bake(`${at}.bakeMinutes`, wave.bakeMinutes);
    if (wave.stages.length === 0) problems.push({ prop: `${at}.stages`, message: `wave ${JSON.stringify(wave.name)} has no stages; give it at least one or remove it` });
    wave.stages.forEach((stage, s) => {
      const where = `${at}.stages[${s}]`;
      const first = stageNames.get(stage.stageName);
      if (first !== undefined) problems.push({ prop: where, message: `duplicate stage name ${JSON.stringify(stage.stageName)} (also ${first}); each stage is deployed once` });
      else stageNames.set(stage.stageName, where);
      if (Token.isUnresolved(stage.account) || Token.isUnresolved(stage.region) || stage.account === undefined || stage.region === undefined) {
        problems.push({ prop: where, message: `stage ${JSON.stringify(stage.stageName)} needs an explicit env { account, region }: its bake step reads that account and region` });
      }
    });
  });
  return problems;
}

/** The guarded deployment groups and stack names of a stage; throws when a stack is unguarded. */
function stageGuards(scope: Construct, stage: Stage, prop: string, allowUnguarded: boolean): StageGuards {
  const stacks = stage.node.findAll().filter((c): c is Stack => Stack.isStack(c) && Stage.of(c) === stage);
  const groups: GuardedGroup[] = [];
  for (const stack of stacks) {
    const guarded = stack.node.findAll().filter((c): c is GuardedFunction => c instanceof GuardedFunction && Stack.of(c) === stack);
    if (guarded.length === 0 && !allowUnguarded) {
      throw new GuardValidationError(scope, prop, `stack ${stack.node.path} of stage ${JSON.stringify(stage.stageName)} holds no GuardedFunction: its releases would not be guarded; guard its functions, or set allowUnguardedStacks for a stack without functions`);
    }
    for (const g of guarded) groups.push(groupNames(g));
  }
  if (groups.length === 0) throw new GuardValidationError(scope, prop, `stage ${JSON.stringify(stage.stageName)} holds no GuardedFunction: nothing in it is released under guard`);
  return { stage, stackNames: stacks.map((s) => s.stackName), groups };
}

/** A guarded function's CodeDeploy names, as the plain strings GuardedFunction gives its L1s. */
function groupNames(g: GuardedFunction): GuardedGroup {
  const application = (g.application.node.defaultChild as codedeploy.CfnApplication).applicationName;
  const deploymentGroup = (g.deploymentGroup.node.defaultChild as codedeploy.CfnDeploymentGroup).deploymentGroupName;
  if (!application || !deploymentGroup || Token.isUnresolved(application) || Token.isUnresolved(deploymentGroup)) {
    throw new GuardValidationError(g, 'deploymentGroup', 'the CodeDeploy application and deployment group need plain names for a pipeline bake step');
  }
  return { application, deploymentGroup };
}

/** The bake step of one stage. */
function bakeStep(guards: StageGuards, o: { readonly bakeMinutes: number; readonly pollSeconds: number; readonly roleArn?: string }): pipelines.CodeBuildStep {
  const { stage } = guards;
  const read = o.roleArn
    ? [new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [o.roleArn] })]
    : [
        // DescribeAlarms and ListDeployments take no resource-level permissions.
        new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms', 'codedeploy:ListDeployments'], resources: ['*'] }),
        new iam.PolicyStatement({
          actions: ['codedeploy:GetDeploymentGroup'],
          resources: guards.groups.map((g) => `arn:${Aws.PARTITION}:codedeploy:${stage.region}:${stage.account}:deploymentgroup:${g.application}/${g.deploymentGroup}`),
        }),
        new iam.PolicyStatement({
          actions: ['cloudformation:DescribeStacks'],
          resources: guards.stackNames.map((n) => `arn:${Aws.PARTITION}:cloudformation:${stage.region}:${stage.account}:stack/${n}/*`),
        }),
      ];
  return new pipelines.CodeBuildStep(`Bake-${stage.stageName}`, {
    commands: [BAKE_SCRIPT],
    env: {
      STAGE_NAME: stage.stageName,
      STAGE_REGION: stage.region!,
      STACK_NAMES: guards.stackNames.join(' '),
      DEPLOYMENT_GROUPS: guards.groups.map((g) => `${g.application}/${g.deploymentGroup}`).join(' '),
      BAKE_SECONDS: String(o.bakeMinutes * 60),
      POLL_SECONDS: String(o.pollSeconds),
      ...(o.roleArn ? { ASSUME_ROLE_ARN: o.roleArn } : {}),
    },
    rolePolicyStatements: read,
    timeout: Duration.minutes(o.bakeMinutes + BAKE_STEP_MARGIN_MINUTES),
  });
}

/**
 * The bake step's script (bash, AWS CLI v2 as in CodeBuild's standard images). Exit 1 when a
 * deployment the stage's stack update started was stopped or failed (the release was rolled
 * back), or when an alarm CodeDeploy watches for the stage is in ALARM during the bake.
 * Only the ALARM state counts, as for CodeDeploy itself.
 * https://docs.aws.amazon.com/codedeploy/latest/userguide/monitoring-create-alarms.html
 */
export const BAKE_SCRIPT = `bash -euo pipefail <<'BAKE'
if [ -n "\${ASSUME_ROLE_ARN:-}" ]; then
  read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN <<< "$(aws sts assume-role --role-arn "$ASSUME_ROLE_ARN" --role-session-name canary-watchdog-bake --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)"
  export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
fi
export AWS_REGION="$STAGE_REGION" AWS_DEFAULT_REGION="$STAGE_REGION"
since=""
for stack in $STACK_NAMES; do
  t=$(aws cloudformation describe-stacks --stack-name "$stack" --query 'Stacks[0].[LastUpdatedTime,CreationTime]' --output text | awk '{ print ($1 != "None" ? $1 : $2) }')
  if [ -z "$since" ] || [[ "$t" < "$since" ]]; then since="$t"; fi
done
alarms=""
for pair in $DEPLOYMENT_GROUPS; do
  app="\${pair%%/*}"; group="\${pair#*/}"
  bad=$(aws deploy list-deployments --application-name "$app" --deployment-group-name "$group" --create-time-range "start=$since" --include-only-statuses Failed Stopped --query 'deployments' --output text)
  if [ -n "$(echo $bad)" ]; then
    echo "$STAGE_NAME: verdict: $app/$group rolled back (deployment $bad since $since); stopping before the next wave"
    exit 1
  fi
  alarms="$alarms $(aws deploy get-deployment-group --application-name "$app" --deployment-group-name "$group" --query 'deploymentGroupInfo.alarmConfiguration.alarms[].name' --output text)"
done
alarms=$(echo $alarms)
echo "$STAGE_NAME: every release since $since completed; baking $BAKE_SECONDS s on: \${alarms:-no alarms}"
end=$(( $(date +%s) + BAKE_SECONDS ))
while :; do
  firing=""
  if [ -n "$alarms" ]; then
    firing=$(echo $alarms | xargs -n 100 aws cloudwatch describe-alarms --state-value ALARM --alarm-types MetricAlarm CompositeAlarm --query '[MetricAlarms[].AlarmName, CompositeAlarms[].AlarmName][]' --output text --alarm-names)
  fi
  if [ -n "$(echo $firing)" ]; then
    echo "$STAGE_NAME: bake failed: in ALARM: $(echo $firing); stopping before the next wave"
    exit 1
  fi
  left=$(( end - $(date +%s) ))
  if [ "$left" -le 0 ]; then break; fi
  sleep $(( left < POLL_SECONDS ? left : POLL_SECONDS ))
done
echo "$STAGE_NAME: baked $BAKE_SECONDS s with no alarm in ALARM"
BAKE`;
