import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { deploySettingsFromContext } from './deploy-settings.ts';
import { WitnessStack } from './witness-stack.ts';

/**
 * The CDK app: the witness stack from the context's settings, checked by cdk-nag's AWS Solutions
 * rules. cdk-nag 3 is a CDK validation plugin: any finding, error or warning, that is not
 * acknowledged with a reason (`Validations.of(construct).acknowledge`) stops `cdk synth` and
 * `cdk deploy`. The acknowledgements are copied into the template's metadata (`cdk_nag`) for audit.
 * bin/cdk.ts runs this; the infrastructure tests build the very same app.
 */
export function witnessApp(app: App): WitnessStack {
  const settings = deploySettingsFromContext(app.node);
  const stack = new WitnessStack(app, settings.stackName, {
    settings,
    description: 'Tiebreak: cloud quorum witness for two-node HA pairs',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true, writeSuppressionsToCloudFormation: true }));
  return stack;
}
