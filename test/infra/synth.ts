import { readFileSync } from 'node:fs';
import { App, CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { witnessApp } from '../../lib/witness-app.ts';
import type { WitnessStack } from '../../lib/witness-stack.ts';

/** cdk.json's context (the feature flags): what `cdk synth` gives the app too. */
export const cdkJsonContext = (
  JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> }
).context;

export interface Synthesized {
  app: App;
  stack: WitnessStack;
  template: Template;
}

/**
 * The app exactly as bin/cdk.ts builds it, offline: no account or region, no lookups. With
 * `bundle: false` the functions' code is not built (CDK's own switch for stacks not being deployed).
 */
export function synthWitness(context: Record<string, unknown> = {}, options: { bundle?: boolean } = {}): Synthesized {
  const { app, stack } = buildWitness(context, options);
  return { app, stack, template: Template.fromStack(stack) };
}

/** The app before synthesis (constructs may still be added). */
export function buildWitness(context: Record<string, unknown> = {}, options: { bundle?: boolean } = {}): { app: App; stack: WitnessStack } {
  const app = new App({
    context: { ...cdkJsonContext, ...context, ...(options.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {}) },
  });
  return { app, stack: witnessApp(app) };
}

/** The logical id a construct's CloudFormation resource has in its stack. */
export function logicalId(stack: WitnessStack, construct: IConstruct): string {
  const resource = construct.node.defaultChild ?? construct;
  if (!CfnElement.isCfnElement(resource)) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return stack.getLogicalId(resource);
}
