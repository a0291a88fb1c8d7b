/**
 * `npm run bench -- bundles [--runs N] [--node-options S]`: what each Lambda function's bundle weighs and how long a
 * cold process takes to start it, against a floor. Every function of lib/bundling.ts is built with
 * esbuild with exactly the options there (the ones the CDK stack deploys), into a temporary folder;
 * so is the floor (`floor-handler.ts`: one DynamoDB UpdateItem through the same SDK client
 * packages). For each bundle:
 *
 * - size in bytes of the `.mjs` (what Node loads), gzip of it for reference, and its source map;
 * - init: a fresh Node process (this Node, `process.execPath`, the pinned 24) that imports the
 *   bundle and hands its handler one event (API Gateway v2, or a DynamoDB stream batch for the
 *   publisher, which also publishes on a fauxqs topic) against DynamoDB Local (one engine for
 *   the bench, in memory; TIEBREAK_* set as a deployed function has them, but the token key and the
 *   admin key given directly: there is no Secrets Manager here), timed from spawn to the answer; and the same with
 *   the import only. NODE_OPTIONS is `--enable-source-maps`, as lib/witness-function.ts sets it
 *   (`--node-options ''` measures without).
 *   Median of `--runs` (default 15, at least 7) of each, after an uncounted first round; bundles
 *   take turns within each round (function, floor, function, floor...) so that a noisy moment of
 *   this shared machine weighs on all alike.
 *
 * Events: the heartbeat function gets a secondary's heartbeat (one UpdateItem); the claim function
 * the primary's claim (a renewal: in a fresh process one GetItem and one UpdateItem); the api
 * function a reseller's `GET /v1/reseller` with a read-only API key (two GetItems: the key's hash,
 * then the reseller); the channels function its `GET /v1/escalation-policies` and the webhooks
 * function its `GET /v1/webhooks` (the key's GetItem, then a Query that finds none); the report function the customer's PDF of a month (the key, the reseller,
 * its customers and sites: it has none listed, so the PDF holds the letterhead and how figures are
 * measured, and the PDF library is loaded and run); the openapi function `GET /openapi.json` (no AWS call: its cold start is the
 * import, building the document once, and the answer); the publisher a stream batch of one record,
 * the bench site's state item changing from new to granted to node-a (one conditional PutItem of
 * the `failover.granted` event; the same event every run, so from the second run on its condition
 * fails, which the publisher takes as done: still one call); the detector an EventBridge scheduled
 * event (its cursor's GetItem: the uncounted first round also reads the due index's last 12 buckets
 * and sets the cursor, so later runs in the same minute find nothing due); the webhook router an
 * outbox message, a `node.recovered` event of the bench reseller, which has no endpoint (one
 * Query); the webhook deliverer a delivery job for a message that is not there (one GetItem:
 * skipped); the floor its UpdateItem. Every function
 * of lib/bundling.ts needs an event here (the type says so). Each answer must be a 200 (for the
 * publisher: no batch item failure; for the detector: its run's figures), or the run fails.
 *
 * Prints `name: value` lines; `bundle_ratio_max` (largest function bundle ÷ floor bundle) and
 * `init_ratio_max` (slowest function's median spawn-to-answer ÷ the floor's), each with the function
 * it is (`…_max_function`) and every function over the goal (`…_over_goal`), with two steadier
 * readings beside it for a busy machine (fastest run ÷ fastest run, and the child's CPU time to
 * the answer, median ÷ median); and for each
 * function the five inputs and the five packages that weigh most in its bundle, and the packages
 * it adds to the floor (esbuild's metafile).
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs, promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { build, type Metafile } from 'esbuild';
import { bundling, functionEntries, type FunctionName, packagedFiles } from '../lib/bundling.ts';
import { documentClient, localDynamoClientConfig } from '../functions/adapters/config.ts';
import { newApiKey } from '../functions/adapters/credentials.ts';
import { DynamoSiteStore } from '../functions/adapters/dynamodb-site-store.ts';
import { signNodeToken } from '../functions/adapters/node-token.ts';
import { type ApiKeyRecord, ResellerStore } from '../functions/adapters/reseller-store.ts';
import { itemFromSiteState, localDueShards, siteKey } from '../functions/adapters/site-item.ts';
import { ensureTable } from '../functions/adapters/table.ts';
import { newSite, type SiteState } from '../functions/domain/site-state.ts';
import { nodeRouteKeys } from '../protocol/node-routes.ts';
import { defaultTargets } from '../protocol/reseller.ts';
import { startDynamoDbLocal } from '../local/dynamodb-local.ts';
import { ensureEventTopic, startSnsSqs } from '../local/sns-sqs.ts';

const root = resolve(import.meta.dirname, '..');
const floorEntry = 'bench/floor-handler.ts';
const tableName = 'tiebreak-bundles';
const resellerId = 'bundles';
const siteId = 'cold-start';
const defaultRuns = 15;
/** What a deployed witness function runs with (lib/witness-function.ts). */
const deployedNodeOptions = '--enable-source-maps';
const runTimeoutMs = 30_000;
/** Issue 17's goal for both ratios, bundle and init, of every function. */
const ratioGoal = 1.3;

type Target = FunctionName | 'floor';

interface Built {
  name: Target;
  file: string;
  bytes: number;
  gzipBytes: number;
  mapBytes: number;
  metafile: Metafile;
}

type Mode = 'invoke' | 'import';

/** The child: imports the bundle, optionally hands it one event, says when (its own clock too), exits. */
const runnerSource = `
const [bundle, mode] = process.argv.slice(2);
const cpuMs = () => { const u = process.resourceUsage(); return (u.userCPUTime + u.systemCPUTime) / 1000; };
const mod = await import(bundle);
const imported = performance.now();
const importedCpu = cpuMs();
let answered = null;
let answeredCpu = null;
let status = null;
if (mode === 'invoke') {
  const event = JSON.parse(process.env.BENCH_EVENT);
  const name = process.env.AWS_LAMBDA_FUNCTION_NAME;
  const context = {
    callbackWaitsForEmptyEventLoop: false, functionName: name, functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:' + name, memoryLimitInMB: '256',
    awsRequestId: event.requestContext?.requestId ?? 'bench', logGroupName: '/aws/lambda/' + name, logStreamName: 'bench',
    getRemainingTimeInMillis: () => 3000,
  };
  const result = await mod.handler(event, context);
  answered = performance.now();
  answeredCpu = cpuMs();
  // A stream handler answers with its failed records instead of a status: none is a 200. The
  // detector answers with its run's figures.
  status = result.statusCode ?? (Array.isArray(result.batchItemFailures) ? (result.batchItemFailures.length === 0 ? 200 : 500) : typeof result.buckets === 'number' ? 200 : 500);
}
process.stdout.write('BENCH ' + JSON.stringify({ imported, answered, importedCpu, answeredCpu, status }) + '\\n');
process.exit(0);
`;

export async function bundlesBench(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { runs: { type: 'string' }, 'node-options': { type: 'string' } }, strict: true });
  const nodeOptions = values['node-options'] ?? deployedNodeOptions;
  const runs = values.runs === undefined ? defaultRuns : Number(values.runs);
  if (!Number.isInteger(runs) || runs < 7 || runs > 99)
    throw new Error(`--runs must be an integer from 7 to 99, not ${String(values.runs)}`);
  const progress = (line: string) => {
    console.error(`bench bundles: ${line}`);
  };
  const figures: [string, string | number][] = [];
  const loadBefore = loadavg()[0]!;
  const dir = await mkdtemp(join(tmpdir(), 'tiebreak-bundles-'));
  progress(`building ${Object.keys(functionEntries).length} functions and the floor into ${dir}`);
  const targets: Record<Target, string> = { ...functionEntries, floor: floorEntry };
  const built: Built[] = [];
  for (const [name, entry] of Object.entries(targets) as [Target, string][]) built.push(await bundle(name, entry, dir));
  const runner = join(dir, 'runner.mjs');
  await writeFile(runner, runnerSource);

  progress('starting DynamoDB Local (in memory)');
  const engine = await startDynamoDbLocal({});
  const client = new DynamoDBClient(localDynamoClientConfig(engine.endpoint));
  // The publisher also publishes what it records: on a topic of fauxqs (SNS), as on SNS in AWS.
  const snsSqs = await startSnsSqs();
  const topicArn = await ensureEventTopic(snsSqs.endpoint);
  const timings = new Map<
    string,
    { invoke: number[]; import: number[]; childImport: number[]; childAnswer: number[]; cpuImport: number[]; cpuAnswer: number[] }
  >(built.map((b) => [b.name, { invoke: [], import: [], childImport: [], childAnswer: [], cpuImport: [], cpuAnswer: [] }]));
  try {
    await ensureTable(client, tableName);
    const tokenKey = randomBytes(32);
    const store = new DynamoSiteStore(documentClient(client), tableName);
    if (!(await store.create(newSite({ resellerId, siteId, nodeIds: ['node-a', 'node-b'] }))))
      throw new Error('the bench site exists already');
    const token = (nodeId: string) => signNodeToken(tokenKey, { resellerId, siteId, nodeId, tokenVersion: 1 });
    // The reseller of the site, with a read-only API key (the api function's local mode takes the admin key itself).
    const adminKey = randomBytes(48).toString('base64url');
    const readKey = newApiKey(resellerId);
    const keyRecord: ApiKeyRecord = {
      resellerId,
      keyId: readKey.keyId,
      name: 'bench',
      scope: 'read-only',
      hash: readKey.hash.toString('base64url'),
      createdAt: Date.now(),
      revokedAt: null,
    };
    const resellers = new ResellerStore(documentClient(client), tableName);
    if (!(await resellers.createReseller({ resellerId, name: 'Bundles', targets: defaultTargets, createdAt: Date.now() }, keyRecord))) {
      throw new Error('the bench reseller exists already');
    }
    let seq = 0;
    const events: Record<Target, () => unknown> = {
      heartbeat: () =>
        apiEvent(nodeRouteKeys.heartbeat, token('node-b'), {
          incarnation: 1,
          seq: ++seq,
          epoch: 1,
          role: 'secondary',
          peer: { reachable: true, lastContactMs: 400 },
        }),
      claim: () => apiEvent(nodeRouteKeys.claim, token('node-a'), { incarnation: 1, seq: ++seq, epoch: 1, reason: 'peer-lost' }),
      api: () => apiEvent('GET /v1/reseller', readKey.key),
      // The reseller's escalation policies (none: one Query), and its webhook endpoints (none: one Query).
      channels: () => apiEvent('GET /v1/escalation-policies', readKey.key),
      webhooks: () => apiEvent('GET /v1/webhooks', readKey.key),
      // The customer's PDF of the bench site's month: the report function's heaviest answer.
      report: () => apiEvent('GET /v1/reports/sla', readKey.key, undefined, { from: '2026-11-01', to: '2026-12-01', format: 'pdf' }),
      openapi: () => apiEvent('GET /openapi.json'),
      publisher: () => grantStreamEvent(),
      detector: () => scheduledEvent(),
      incidents: () => incidentsQueueEvent(),
      webhookRouter: () => sqsEvent(recoveredEvent(), 'bench-outbox'),
      webhookDeliverer: () => sqsEvent(absentDeliveryJob(), 'bench-deliveries'),
      maintenance: () => apiEvent(nodeRouteKeys.maintenance, token('node-b'), { minutes: 30, reason: 'bench' }),
      // The console's page, read from the files beside the bundle.
      console: () => ({
        ...(apiEvent('GET /console/{proxy+}') as object),
        rawPath: '/console/index.html',
        pathParameters: { proxy: 'index.html' },
      }),
      floor: () => apiEvent(nodeRouteKeys.heartbeat, token('node-b'), { incarnation: 1, seq: ++seq, epoch: 1, role: 'secondary' }),
    };
    const env = (name: string, event: unknown): NodeJS.ProcessEnv => ({
      PATH: process.env.PATH,
      NODE_OPTIONS: nodeOptions,
      TZ: 'UTC',
      AWS_REGION: 'us-east-1',
      AWS_LAMBDA_FUNCTION_NAME: `tiebreak-${name}`,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      POWERTOOLS_SERVICE_NAME: 'tiebreak-witness',
      TIEBREAK_TABLE: tableName,
      TIEBREAK_TOKEN_KEY: tokenKey.toString('base64'),
      TIEBREAK_ADMIN_KEY: adminKey,
      TIEBREAK_DYNAMODB_ENDPOINT: engine.endpoint,
      TIEBREAK_EVENT_TOPIC_ARN: topicArn,
      TIEBREAK_SNS_ENDPOINT: snsSqs.endpoint,
      // The incidents function's queues (the bench's event sends to none of them).
      TIEBREAK_INCIDENTS_QUEUE_URL: `${snsSqs.endpoint}/000000000000/bench-incidents`,
      TIEBREAK_WEBHOOK_OUTBOX_URL: `${snsSqs.endpoint}/000000000000/bench-outbox`,
      TIEBREAK_CHANNEL_PREFIX: 'bench',
      // As npm start: a local engine's due index has few shards. With AWS's 1,024 the detector's
      // uncounted first round (12 buckets × every shard) outlasts its run here; its query cost is
      // the detector bench's to measure, not this one's.
      TIEBREAK_DUE_SHARDS: String(localDueShards),
      // The webhook queues (the bench's events send to none of them).
      TIEBREAK_WEBHOOK_DELIVERIES_URL: `${snsSqs.endpoint}/000000000000/bench-deliveries`,
      TIEBREAK_WEBHOOK_DEAD_LETTERS_URL: `${snsSqs.endpoint}/000000000000/bench-webhook-dead-letters`,
      BENCH_EVENT: JSON.stringify(event),
    });
    const run = async (b: Built, mode: Mode, event: unknown) => runChild(runner, b.file, mode, env(b.name, event));

    // The engine's JVM warms up on plain writes first, so that its JIT does not land on the first runs.
    progress('warming the engine up (500 writes)');
    for (let i = 0; i < 500; i++) {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { pk: { S: 'bench#warm' }, sk: { S: 'warm' } },
          UpdateExpression: 'ADD n :one',
          ExpressionAttributeValues: { ':one': { N: '1' } },
        }),
      );
    }
    // Uncounted first round, which also sets the site up: node-a reports and wins epoch 1.
    const byName = new Map(built.map((b) => [b.name, b]));
    const heartbeatBundle = byName.get('heartbeat');
    const claimBundle = byName.get('claim');
    if (!heartbeatBundle || !claimBundle) throw new Error('lib/bundling.ts names no heartbeat or claim function');
    await run(
      heartbeatBundle,
      'invoke',
      apiEvent(nodeRouteKeys.heartbeat, token('node-a'), {
        incarnation: 1,
        seq: ++seq,
        epoch: 0,
        role: 'secondary',
        peer: { reachable: true },
      }),
    );
    const first = await run(
      claimBundle,
      'invoke',
      apiEvent(nodeRouteKeys.claim, token('node-a'), { incarnation: 1, seq: ++seq, epoch: 0, reason: 'startup' }),
    );
    if (first.status !== 200) throw new Error(`the set-up claim answered ${String(first.status)}`);
    for (const b of built) {
      const event = events[b.name]();
      const warm = await run(b, 'invoke', event);
      if (warm.status !== 200) throw new Error(`${b.name} answered ${String(warm.status)} in the first round`);
      await run(b, 'import', event);
    }

    const functionsOnly = built.filter((b) => b.name !== 'floor');
    const floor = byName.get('floor')!;
    for (let round = 0; round < runs; round++) {
      progress(`round ${round + 1} of ${runs}`);
      // Function, floor, function, floor...: the order of the functions turns every round.
      const order = round % 2 === 0 ? functionsOnly : [...functionsOnly].reverse();
      const sequence = order.flatMap((b) => [b, floor]);
      for (const mode of ['invoke', 'import'] as const) {
        for (const b of sequence) {
          const result = await run(b, mode, events[b.name]());
          if (mode === 'invoke' && result.status !== 200) throw new Error(`${b.name} answered ${String(result.status)}`);
          const t = timings.get(b.name)!;
          t[mode].push(result.wallMs);
          if (mode === 'invoke') {
            t.childImport.push(result.imported);
            t.childAnswer.push(result.answered ?? Number.NaN);
            t.cpuAnswer.push(result.answeredCpu ?? Number.NaN);
          } else {
            t.cpuImport.push(result.importedCpu);
          }
        }
      }
    }
  } finally {
    client.destroy();
    await engine.stop();
    await snsSqs.stop();
    await rm(dir, { recursive: true, force: true });
  }

  const median = (xs: number[]) => percentile(xs, 50);
  const floorBuilt = built.find((b) => b.name === 'floor')!;
  const floorTimes = timings.get('floor')!;
  figures.push(
    ['node', process.version],
    ['load_avg_1m_before', fixed(loadBefore, 2)],
    [
      'esbuild_options',
      `lib/bundling.ts: format ${bundling.format}, target ${bundling.target}, minify ${String(bundling.minify)}, sourcemap ${String(bundling.sourcemap)}, mainFields ${bundling.mainFields.join(',')}, external [${bundling.external.join(',')}]`,
    ],
    [
      'node_options',
      nodeOptions === deployedNodeOptions
        ? `${nodeOptions} (as deployed)`
        : `${nodeOptions || '(none)'} (deployed: ${deployedNodeOptions})`,
    ],
    ['runs', built.map((b) => `${b.name} ${timings.get(b.name)!.invoke.length}`).join(', ')],
  );
  for (const b of built) {
    const t = timings.get(b.name)!;
    figures.push(
      [`bundle_${b.name}_bytes`, b.bytes],
      [`bundle_${b.name}_gzip_bytes`, b.gzipBytes],
      [`bundle_${b.name}_map_bytes`, b.mapBytes],
      [`init_${b.name}_ms`, fixed(median(t.invoke))],
      [`init_${b.name}_ms_min`, fixed(Math.min(...t.invoke))],
      [`init_${b.name}_ms_max`, fixed(Math.max(...t.invoke))],
      [`init_${b.name}_import_ms`, fixed(median(t.import))],
      [`init_${b.name}_import_ms_min`, fixed(Math.min(...t.import))],
      [`init_${b.name}_import_ms_max`, fixed(Math.max(...t.import))],
      // The child's own clock (from its start): import done, and the answer, within the invoke runs.
      [`init_${b.name}_child_import_ms`, fixed(median(t.childImport))],
      [`init_${b.name}_child_answer_ms`, fixed(median(t.childAnswer))],
      [`init_${b.name}_cpu_ms`, fixed(median(t.cpuAnswer))],
      [`init_${b.name}_import_cpu_ms`, fixed(median(t.cpuImport))],
    );
  }
  const bundleRatios = built.filter((b) => b.name !== 'floor').map((b) => ({ name: b.name, ratio: b.bytes / floorBuilt.bytes }));
  const initRatios = built
    .filter((b) => b.name !== 'floor')
    .map((b) => {
      const t = timings.get(b.name)!;
      return {
        name: b.name,
        ratio: median(t.invoke) / median(floorTimes.invoke),
        importRatio: median(t.import) / median(floorTimes.import),
        minRatio: Math.min(...t.invoke) / Math.min(...floorTimes.invoke),
        cpuRatio: median(t.cpuAnswer) / median(floorTimes.cpuAnswer),
      };
    });
  for (const r of bundleRatios) figures.push([`bundle_ratio_${r.name}`, fixed(r.ratio, 3)]);
  for (const r of initRatios) {
    figures.push(
      [`init_ratio_${r.name}`, fixed(r.ratio, 3)],
      [`init_import_ratio_${r.name}`, fixed(r.importRatio, 3)],
      [`init_min_ratio_${r.name}`, fixed(r.minRatio, 3)],
      [`init_cpu_ratio_${r.name}`, fixed(r.cpuRatio, 3)],
    );
  }
  const largest = <T extends { name: string }>(rs: T[], by: (r: T) => number): T => rs.reduce((a, b) => (by(b) > by(a) ? b : a));
  const bundleMax = largest(bundleRatios, (r) => r.ratio);
  const initMax = largest(initRatios, (r) => r.ratio);
  // Which functions meet the goal and which do not, by name: the max alone hides the rest.
  const over = (rs: { name: string; ratio: number }[]) =>
    rs
      .filter((r) => r.ratio > ratioGoal)
      .map((r) => `${r.name} ${fixed(r.ratio, 3)}`)
      .join(', ') || '(none)';
  figures.push(
    ['bundle_ratio_max', fixed(bundleMax.ratio, 3)],
    ['bundle_ratio_max_function', bundleMax.name],
    ['bundle_ratio_goal', String(ratioGoal)],
    ['bundle_ratio_over_goal', over(bundleRatios)],
    ['init_ratio_max', fixed(initMax.ratio, 3)],
    ['init_ratio_max_function', initMax.name],
    ['init_ratio_goal', String(ratioGoal)],
    ['init_ratio_over_goal', over(initRatios)],
    // Steadier readings of the same on a busy machine: fastest run against fastest run, and CPU time to the answer.
    ['init_min_ratio_max', fixed(Math.max(...initRatios.map((r) => r.minRatio)), 3)],
    ['init_cpu_ratio_max', fixed(Math.max(...initRatios.map((r) => r.cpuRatio)), 3)],
    ['load_avg_1m_after', fixed(loadavg()[0]!, 2)],
  );

  // What weighs: top inputs and packages of each bundle, and what a function adds to the floor.
  const floorPackages = packageBytes(floorBuilt);
  for (const b of built) {
    const inputs = inputBytes(b);
    const top = [...inputs].sort((x, y) => y[1] - x[1]).slice(0, 5);
    figures.push([`top_inputs_${b.name}`, top.map(([path, bytes]) => `${path} ${bytes}`).join('; ')]);
    const packages = [...packageBytes(b)].sort((x, y) => y[1] - x[1]);
    figures.push([
      `top_packages_${b.name}`,
      packages
        .slice(0, 5)
        .map(([p, bytes]) => `${p} ${bytes}`)
        .join('; '),
    ]);
    if (b.name !== 'floor') {
      const added = packages
        .map(([p, bytes]): [string, number] => [p, bytes - (floorPackages.get(p) ?? 0)])
        .filter(([, d]) => d > 0)
        .sort((x, y) => y[1] - x[1]);
      figures.push(
        [`added_to_floor_${b.name}_bytes`, added.reduce((s, [, d]) => s + d, 0)],
        [
          `added_to_floor_${b.name}`,
          added
            .slice(0, 8)
            .map(([p, d]) => `${p} +${d}`)
            .join('; '),
        ],
      );
    }
  }
  for (const [name, value] of figures) console.log(`${name}: ${String(value)}`);
  return 0;
}

async function bundle(name: Target, entry: string, dir: string): Promise<Built> {
  const file = join(dir, name, 'index.mjs');
  const result = await build({
    entryPoints: [join(root, entry)],
    outfile: file,
    bundle: true,
    format: bundling.format,
    target: bundling.target,
    platform: bundling.platform,
    minify: bundling.minify,
    sourcemap: bundling.sourcemap,
    mainFields: [...bundling.mainFields],
    banner: { js: bundling.banner },
    external: [...bundling.external],
    metafile: true,
    absWorkingDir: root,
    logLevel: 'warning',
  });
  // Files the function serves lie beside its bundle, built as the stack builds them (lib/witness-function.ts).
  const files = name === 'floor' ? undefined : packagedFiles[name];
  if (files) await promisify(execFile)(process.execPath, [join(root, files.script), '--out', join(dir, name, files.folder)]);
  const code = await readFile(file);
  const map = await readFile(`${file}.map`).catch(() => Buffer.alloc(0));
  return { name, file, bytes: code.length, gzipBytes: gzipSync(code).length, mapBytes: map.length, metafile: result.metafile };
}

/** Bytes each input contributes to the bundle's code (esbuild's `bytesInOutput`). */
function inputBytes(b: Built): Map<string, number> {
  const output = Object.entries(b.metafile.outputs).find(([path]) => path.endsWith('.mjs'));
  if (!output) throw new Error(`no .mjs output in the metafile of ${b.name}`);
  return new Map(Object.entries(output[1].inputs).map(([path, { bytesInOutput }]) => [path, bytesInOutput]));
}

/** The same, summed by npm package (or by project folder for the project's own files). */
function packageBytes(b: Built): Map<string, number> {
  const sums = new Map<string, number>();
  for (const [path, bytes] of inputBytes(b)) {
    const at = path.lastIndexOf('node_modules/');
    let key: string;
    if (at >= 0) {
      const parts = path.slice(at + 'node_modules/'.length).split('/');
      key = parts[0]!.startsWith('@') ? `${parts[0]!}/${parts[1]!}` : parts[0]!;
    } else {
      key = `(project) ${path.split('/')[0]!}/`;
    }
    sums.set(key, (sums.get(key) ?? 0) + bytes);
  }
  return sums;
}

/** What EventBridge hands the detector every minute. */
function scheduledEvent(): unknown {
  const time = new Date().toISOString();
  return {
    version: '0',
    id: randomBytes(8).toString('hex'),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time,
    region: 'us-east-1',
    resources: [],
    detail: {},
  };
}

/**
 * What the incidents queue hands the incidents function: a node heard again (an event from the
 * topic, delivered raw), each time a later one, so that every run reads and writes the site's tracker.
 */
let recoveredAt = Date.now();
function incidentsQueueEvent(): unknown {
  return sqsEvent(recoveredEvent(), 'bench-incidents');
}

/** A `node.recovered` event of the bench site, a new one each time. */
function recoveredEvent(): unknown {
  const at = new Date(++recoveredAt).toISOString();
  return {
    id: `${resellerId}/${siteId}/node.recovered/${at}`,
    type: 'node.recovered',
    timestamp: at,
    data: { resellerId, siteId, nodeId: 'node-a', severity: 'info' },
  };
}

/** A delivery job (functions/adapters/webhook-jobs.ts) for a message the table does not hold. */
function absentDeliveryJob(): unknown {
  return { resellerId, endpointId: 'bench', messageId: `msg_${randomBytes(8).toString('hex')}`, round: 0, attempt: 1, dueAt: Date.now() };
}

/** One SQS record of `body` (JSON), as Lambda's event source mapping hands it. */
function sqsEvent(body: unknown, queueName: string): unknown {
  return {
    Records: [
      {
        messageId: randomBytes(16).toString('hex'),
        receiptHandle: 'bench',
        body: JSON.stringify(body),
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(Date.now()),
          SenderId: 'bench',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${queueName}`,
        awsRegion: 'us-east-1',
      },
    ],
  };
}

/** The bench site's state item, new and then granted to node-a (epoch 1), as one MODIFY record of the table's stream. */
const grantedAt = Date.now();
function grantStreamEvent(): unknown {
  const before = newSite({ resellerId, siteId, nodeIds: ['node-a', 'node-b'] });
  const after: SiteState = {
    ...before,
    rev: 1,
    epoch: 1,
    primary: 'node-a',
    leaseExpiresAt: grantedAt + 20_000,
    nodes: {
      ...before.nodes,
      'node-a': { ...before.nodes['node-a']!, incarnation: 1, seq: 1, lastSeenAt: grantedAt, role: 'secondary', reportedEpoch: 0 },
    },
    decision: { kind: 'grant', nodeId: 'node-a', at: grantedAt, epoch: 1, reason: 'startup', inputs: {} },
  };
  const image = (state: SiteState) => marshall(itemFromSiteState(state), { removeUndefinedValues: true });
  return {
    Records: [
      {
        eventID: randomBytes(16).toString('hex'),
        eventName: 'MODIFY',
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: 'us-east-1',
        dynamodb: {
          ApproximateCreationDateTime: Math.floor(grantedAt / 1000),
          Keys: marshall(siteKey({ resellerId, siteId })),
          OldImage: image(before),
          NewImage: image(after),
          SequenceNumber: '100000000000000000000001',
          SizeBytes: 800,
          StreamViewType: 'NEW_AND_OLD_IMAGES',
        },
        eventSourceARN: `arn:aws:dynamodb:us-east-1:000000000000:table/${tableName}/stream/2026-01-01T00:00:00.000`,
      },
    ],
  };
}

/** An API Gateway v2 event; without a token, no Authorization header, and without a body, none (a GET). */
function apiEvent(routeKey: string, token?: string, body?: unknown, query?: Record<string, string>): unknown {
  const [method, path] = routeKey.split(' ');
  const now = Date.now();
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: query ? new URLSearchParams(query).toString() : '',
    ...(query ? { queryStringParameters: query } : {}),
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      host: 'bench.execute-api.us-east-1.amazonaws.com',
    },
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      domainName: 'bench.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'bench',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.120', userAgent: 'tiebreak-agent' },
      requestId: randomBytes(8).toString('base64'),
      routeKey,
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    isBase64Encoded: false,
  };
}

interface ChildResult {
  /** Spawn to the child's line, on this process's clock. */
  wallMs: number;
  /** The child's own clock (ms since it started): import done, answer. */
  imported: number;
  answered: number | null;
  /** CPU time (user + system) the child had used by then, ms: far less sensitive to a busy machine than wall time. */
  importedCpu: number;
  answeredCpu: number | null;
  status: number | null;
}

function runChild(runner: string, bundleFile: string, mode: Mode, env: NodeJS.ProcessEnv): Promise<ChildResult> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [runner, bundleFile, mode], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let result: ChildResult | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${bundleFile} (${mode}) did not answer within ${runTimeoutMs} ms: ${err.slice(-2000)}`));
    }, runTimeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      const at = performance.now();
      out += chunk.toString('utf8');
      const line = out.split('\n').find((l) => l.startsWith('BENCH '));
      if (line && !result) {
        const parsed = JSON.parse(line.slice('BENCH '.length)) as Omit<ChildResult, 'wallMs'>;
        result = { wallMs: at - started, ...parsed };
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (result) resolvePromise(result);
      else
        reject(new Error(`${bundleFile} (${mode}) exited with ${String(code)} before answering: ${err.slice(-2000)}${out.slice(-2000)}`));
    });
  });
}

function percentile(xs: number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((q / 100) * sorted.length) - 1))] ?? Number.NaN;
}

function fixed(x: number, digits = 1): string {
  return x.toFixed(digits);
}
