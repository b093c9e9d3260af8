#!/usr/bin/env node
/**
 * The sample service released by a CDK pipeline in waves: beta, then one production region, then
 * the other. It synthesizes offline: every environment is explicit and the source is a CodeStar
 * connection, which needs no lookup. Synthesize it with
 * `npx cdk synth -a "npx tsx --tsconfig ../../tsconfig.json bin/pipeline.ts"` from packages/lab.
 */
import { App } from 'aws-cdk-lib';
import { ordersPipelineFromContext } from '../sample/orders-pipeline';
import cdkJson from '../cdk.json';

const app = new App({ context: cdkJson.context });
ordersPipelineFromContext(app);
