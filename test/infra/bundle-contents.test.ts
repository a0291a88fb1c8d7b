import { resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, test } from 'vitest';
import { bundling, functionEntries, type FunctionName } from '../../lib/bundling.ts';

// What a function's bundle holds, built as the stack builds it (lib/bundling.ts): a client it never
// calls costs cold-start time on every instance, and hides which AWS services it really uses.

const root = resolve(import.meta.dirname, '../..');

/** The packages of a function's bundle, from esbuild's metafile. */
async function bundledPackages(name: FunctionName): Promise<Set<string>> {
  const result = await build({
    entryPoints: [resolve(root, functionEntries[name])],
    bundle: true,
    write: false,
    outdir: 'out',
    format: bundling.format,
    target: bundling.target,
    platform: bundling.platform,
    minify: bundling.minify,
    mainFields: [...bundling.mainFields],
    banner: { js: bundling.banner },
    external: [...bundling.external],
    metafile: true,
    absWorkingDir: root,
    logLevel: 'error',
  });
  const packages = Object.keys(result.metafile.inputs).flatMap((input) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1] ?? []);
  return new Set(packages);
}

describe('function bundles', () => {
  // Its role may use DynamoDB and SQS only (lib/witness-stack.ts).
  test('the webhook deliverer bundles the DynamoDB and SQS clients and no SNS client', async () => {
    const packages = await bundledPackages('webhookDeliverer');
    expect(packages).toContain('@aws-sdk/client-dynamodb');
    expect(packages).toContain('@aws-sdk/client-sqs');
    expect(packages).not.toContain('@aws-sdk/client-sns');
  });

  // The reseller API is split where the AWS services its routes use split (protocol/api-routes.ts apiFunctionRoutes).
  test('of the API’s functions, only channels bundles the SNS client, and only channels and webhooks the SQS client', async () => {
    const [api, channels, webhooks] = await Promise.all((['api', 'channels', 'webhooks'] as const).map((name) => bundledPackages(name)));
    for (const packages of [api, channels, webhooks]) expect(packages).toContain('@aws-sdk/client-dynamodb');
    expect(api).not.toContain('@aws-sdk/client-sqs');
    expect(api).not.toContain('@aws-sdk/client-sns');
    expect(channels).toContain('@aws-sdk/client-sqs');
    expect(channels).toContain('@aws-sdk/client-sns');
    expect(webhooks).toContain('@aws-sdk/client-sqs');
    expect(webhooks).not.toContain('@aws-sdk/client-sns');
    // The address checks of webhook endpoints' URLs.
    expect(webhooks).toContain('ipaddr.js');
    expect(api).not.toContain('ipaddr.js');
  });

  // The SLA report is a function of its own so that the PDF library stays out of the api's bundle.
  test('the report function bundles jsPDF without its HTML and SVG helpers; the api function bundles no PDF library', async () => {
    const report = await bundledPackages('report');
    expect(report).toContain('jspdf');
    for (const helper of ['html2canvas', 'canvg', 'dompurify', 'core-js']) expect(report).not.toContain(helper);
    const api = await bundledPackages('api');
    expect(api).not.toContain('jspdf');
    expect(api).not.toContain('jspdf-autotable');
  });
});
