#!/usr/bin/env node
/** The sample service's CDK app. Its configuration lives in cdk.json's context. */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { OrdersServiceStack, type OrdersServiceProps } from '../sample/orders-service-stack';

const app = new App();
const ctx = (key: string) => app.node.tryGetContext(`orders-service:${key}`);
new OrdersServiceStack(app, ctx('stackName') ?? 'OrdersService', {
  prices: ctx('prices'),
  currency: ctx('currency'),
  taxRate: Number(ctx('taxRate')),
  maxItemsPerOrder: Number(ctx('maxItemsPerOrder')),
  paymentMode: ctx('paymentMode'),
  ...(ctx('probes') === false || ctx('probes') === 'false' ? { probes: false } : {}),
} satisfies OrdersServiceProps);
// cdk-nag's AwsSolutions pack checks the whole app at synth; findings fail `cdk synth`.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
