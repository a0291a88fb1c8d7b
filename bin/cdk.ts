#!/usr/bin/env node
/**
 * The CDK app (`npx cdk synth | deploy | destroy`, see cdk.json). Settings come from CDK context:
 * `-c leaseMs=15000 -c alarmEmail=ops@example.com` (lib/deploy-settings.ts lists them). The stack
 * names no account or region: `cdk deploy` takes them from the AWS profile in use.
 */
import { App } from 'aws-cdk-lib';
import { witnessApp } from '../lib/witness-app.ts';

witnessApp(new App());
