import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, test } from 'vitest';
import { defaultSettings } from '../../functions/domain/settings.ts';
import { deployDefaults, deploySettingsFromContext } from '../../lib/deploy-settings.ts';
import { Topics } from '../../lib/topics.ts';
import { cdkJsonContext } from './synth.ts';

/** Settings as `cdk synth -c key=value` gives them (strings), on top of cdk.json's feature flags. */
const settings = (context: Record<string, unknown>) =>
  deploySettingsFromContext(new App({ context: { ...cdkJsonContext, ...context } }).node);

describe('deployment settings from CDK context', () => {
  test('with no context, the witness defaults and the deployment defaults', () => {
    expect(settings({})).toEqual({
      stackName: 'Tiebreak',
      witness: defaultSettings,
      retention: { auditTrailDays: 400, deliveryLogDays: 30 },
      logRetention: deployDefaults.logRetentionDays,
      alarmEmail: undefined,
      apiRateLimitPerSecond: deployDefaults.apiRateLimitPerSecond,
      apiBurstLimit: deployDefaults.apiBurstLimit,
    });
  });

  test('values from the command line (strings) and from cdk.json (numbers) alike', () => {
    expect(
      settings({
        leaseMs: '10000',
        fastHeartbeatMs: 3000,
        logRetentionDays: '7',
        alarmEmail: 'ops@example.com',
        apiRateLimitPerSecond: '50',
        stackName: 'TiebreakStaging',
      }),
    ).toMatchObject({
      stackName: 'TiebreakStaging',
      witness: { ...defaultSettings, leaseMs: 10_000, fastHeartbeatMs: 3_000 },
      logRetention: 7,
      alarmEmail: 'ops@example.com',
      apiRateLimitPerSecond: 50,
    });
  });

  test('timings the functions would refuse are refused at synth, by their context names, all at once', () => {
    expect(() => settings({ leaseMs: '4000', skewMarginMs: 'soon' })).toThrow(
      /leaseMs: at least 5000 ms is supported[\s\S]*skewMarginMs: /,
    );
    expect(() => settings({ fastHeartbeatMs: 15_000 })).toThrow(
      'fastHeartbeatMs: the fast heartbeat must come more often than a lease lasts',
    );
  });

  test('survivor mode: the exclusion time follows the freshness window unless set; a standalone lease is bounded only when asked', () => {
    expect(settings({ freshnessMs: 20_000 }).witness).toMatchObject({ exclusionMs: 40_000, standaloneLeaseMs: null });
    expect(settings({ exclusionMs: 45_000, standaloneLeaseMs: 3_600_000 }).witness).toMatchObject({
      exclusionMs: 45_000,
      standaloneLeaseMs: 3_600_000,
    });
    expect(() => settings({ exclusionMs: 1_000 })).toThrow(
      'exclusionMs: a node must be unheard for at least one lease before it is excluded',
    );
    expect(() => settings({ standaloneLeaseMs: 20_000 })).toThrow(
      'standaloneLeaseMs: a bounded standalone lease must last at least two ordinary leases',
    );
  });

  test('commandAckMs: how long a promote or demote may go unacknowledged, from context, refused under two fast heartbeats', () => {
    expect(settings({ commandAckMs: '60000' }).witness.commandAckMs).toBe(60_000);
    expect(() => settings({ commandAckMs: 9_000 })).toThrow(
      'commandAckMs: a node must have at least two fast heartbeats to acknowledge a command',
    );
  });

  test('the audit trail’s and the delivery log’s retention: 400 and 30 days unless set, whole days from 1 to 3653, refused by their context names', () => {
    expect(settings({ auditRetentionDays: '800', deliveryLogRetentionDays: 14 }).retention).toEqual({
      auditTrailDays: 800,
      deliveryLogDays: 14,
    });
    expect(() => settings({ auditRetentionDays: '0', deliveryLogRetentionDays: 'a month' })).toThrow(
      /auditRetentionDays: at least 1 day[\s\S]*deliveryLogRetentionDays: a whole number of days/,
    );
  });

  test('a log retention CloudWatch does not offer, a bad address or throttle, and an unknown key are refused', () => {
    expect(() => settings({ logRetentionDays: 10 })).toThrow(/logRetentionDays: CloudWatch keeps logs for one of 1, 3, 5, 7, 14/);
    expect(() => settings({ alarmEmail: 'ops' })).toThrow('alarmEmail: not an e-mail address: ops');
    expect(() => settings({ apiBurstLimit: 0 })).toThrow('apiBurstLimit: must be a whole number from 1 to 5000, not 0');
    expect(() => settings({ leaseMS: 20_000 })).toThrow('leaseMS: not a setting of this app (known: leaseMs, ');
  });
});

describe('the alarm topic', () => {
  test('has no subscription unless alarmEmail is given', () => {
    const stack = new Stack(new App(), 'T');
    new Topics(stack, 'Topics', { alarmEmail: undefined });
    Template.fromStack(stack).resourceCountIs('AWS::SNS::Subscription', 0);
  });
});
