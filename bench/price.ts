/**
 * A month's usage (`usage.ts`) in dollars: one line item per thing AWS bills, each with its
 * quantity, its price's source and what the line takes as given. Pure: no clock, no I/O, the
 * price table passed in (`prices.ts`), so a test can price a usage written by hand.
 */
import { freeTiers as datedFreeTiers, prices as datedPrices, pricesDate, pricesRegion } from './prices.ts';
import { daysPerMonth, gbSecondsOf, invocationsOf, type Usage } from './usage.ts';

export interface PriceTable {
  prices: typeof datedPrices;
  freeTiers: typeof datedFreeTiers;
}
export const listPrices: PriceTable = { prices: datedPrices, freeTiers: datedFreeTiers };

export type Service = 'api' | 'dynamodb' | 'lambda' | 'logs' | 'sns' | 'sqs' | 'fixed';
export const services: readonly Service[] = ['api', 'dynamodb', 'lambda', 'logs', 'sns', 'sqs', 'fixed'];

export interface LineItem {
  service: Service;
  item: string;
  quantity: number;
  unit: string;
  usd: number;
  /** The price's source, and what the line assumes. */
  note: string;
}

export interface Bill {
  lines: LineItem[];
  byService: Record<Service, number>;
  total: number;
}

export interface PriceOptions {
  /** The nodes' way in: the HTTP API (billed per request, with an access log) or Lambda function URLs (no charge beyond Lambda). */
  front: 'http-api' | 'function-urls';
  /** Sites, each using `usage` (default 1). */
  sites?: number;
  /**
   * false (the default): list prices, no free tier, no fixed cost: a per-site figure. true: as one
   * account pays: its free tiers taken off, the HTTP API's cheaper tier beyond 300 M, fixed costs added.
   */
  account?: boolean;
}

/** GB as CloudWatch, DynamoDB and Lambda bill it: 2^30 bytes. */
export const gib = 1024 ** 3;

export function price(usage: Usage, table: PriceTable, options: PriceOptions): Bill {
  const { prices, freeTiers } = table;
  const sites = options.sites ?? 1;
  const account = options.account ?? false;
  const n = (x: number) => x * sites;
  const free = (used: number, allowance: number) => (account ? Math.max(0, used - allowance) : used);
  const freeNote = (what: string, allowance: number) =>
    account ? `; ${allowance.toLocaleString('en-US')} ${what} free a month taken off` : '';
  const lines: LineItem[] = [];
  const line = (service: Service, item: string, quantity: number, unit: string, usd: number, note: string) => {
    lines.push({ service, item, quantity, unit, usd, note });
  };

  if (options.front === 'http-api') {
    const requests = n(usage.apiRequests);
    const tier = freeTiers.httpApiTierRequests.amount;
    const first = account ? Math.min(requests, tier) : requests;
    line('api', 'HTTP API requests', first, prices.httpApiRequest.unit, first * prices.httpApiRequest.usd, prices.httpApiRequest.source);
    if (account) {
      const over = Math.max(0, requests - tier);
      line(
        'api',
        'HTTP API requests beyond 300 M',
        over,
        prices.httpApiRequestOver300M.unit,
        over * prices.httpApiRequestOver300M.usd,
        prices.httpApiRequestOver300M.source,
      );
    }
  }

  const wru = n(usage.dynamo.writeUnits);
  const rru = n(usage.dynamo.readUnits);
  const storedGb = free(n(usage.dynamo.storedBytes) / gib, freeTiers.dynamoStorageGb.amount);
  line(
    'dynamodb',
    'DynamoDB writes',
    wru,
    prices.dynamoWriteUnit.unit,
    wru * prices.dynamoWriteUnit.usd,
    `${prices.dynamoWriteUnit.source}; failed conditional writes billed too`,
  );
  line('dynamodb', 'DynamoDB reads', rru, prices.dynamoReadUnit.unit, rru * prices.dynamoReadUnit.usd, prices.dynamoReadUnit.source);
  line(
    'dynamodb',
    'DynamoDB storage',
    storedGb,
    prices.dynamoStorage.unit,
    storedGb * prices.dynamoStorage.usd,
    `${prices.dynamoStorage.source}${freeNote('GB', freeTiers.dynamoStorageGb.amount)}`,
  );

  const invocations = free(n(invocationsOf(usage)), freeTiers.lambdaRequests.amount);
  const gbSeconds = free(n(gbSecondsOf(usage)), freeTiers.lambdaGbSeconds.amount);
  line(
    'lambda',
    'Lambda requests',
    invocations,
    prices.lambdaRequest.unit,
    invocations * prices.lambdaRequest.usd,
    `${prices.lambdaRequest.source}${freeNote('requests', freeTiers.lambdaRequests.amount)}`,
  );
  line(
    'lambda',
    'Lambda duration',
    gbSeconds,
    prices.lambdaArmGbSecond.unit,
    gbSeconds * prices.lambdaArmGbSecond.usd,
    `${prices.lambdaArmGbSecond.source}; billed ms × memory; init (cold start) not billed here${freeNote('GB-s', freeTiers.lambdaGbSeconds.amount)}`,
  );

  const functionLogBytes = Object.values(usage.functions).reduce((sum, f) => sum + f.logBytes, 0);
  const logGb = (n(functionLogBytes) + (options.front === 'http-api' ? n(usage.apiAccessLogBytes) : 0)) / gib;
  const storedLogGb = logGb * usage.logRetentionMonths;
  line(
    'logs',
    'CloudWatch Logs ingestion',
    logGb,
    prices.logsIngestion.unit,
    logGb * prices.logsIngestion.usd,
    `${prices.logsIngestion.source}; the functions' log groups${options.front === 'http-api' ? ' and the HTTP API access log' : ''}; no free tier`,
  );
  line(
    'logs',
    'CloudWatch Logs storage',
    storedLogGb,
    prices.logsStorage.unit,
    storedLogGb * prices.logsStorage.usd,
    `${prices.logsStorage.source}; a month's ingestion × the retention in months, uncompressed (an upper bound: CloudWatch bills storage compressed)`,
  );

  const publishes = n(usage.sns.publishes);
  const emails = n(usage.sns.emails);
  line(
    'sns',
    'SNS publishes',
    publishes,
    prices.snsPublish.unit,
    publishes * prices.snsPublish.usd,
    `${prices.snsPublish.source}; a PublishBatch of up to 10 events is one call (SNS batching docs)`,
  );
  line(
    'sns',
    'SNS e-mail',
    emails,
    prices.snsEmail.unit,
    emails * prices.snsEmail.usd,
    `${prices.snsEmail.source}; SMS counted elsewhere, not priced (no list price)`,
  );

  const sqs = free(n(usage.sqsRequests), freeTiers.sqsRequests.amount);
  line(
    'sqs',
    'SQS requests',
    sqs,
    prices.sqsRequest.unit,
    sqs * prices.sqsRequest.usd,
    `${prices.sqsRequest.source}${freeNote('requests', freeTiers.sqsRequests.amount)}; Lambda's polling of idle queues not in it`,
  );

  if (account)
    line(
      'fixed',
      'Secrets Manager secret',
      1,
      prices.secretMonth.unit,
      prices.secretMonth.usd,
      `${prices.secretMonth.source}; the token-signing key, per account`,
    );

  const byService = Object.fromEntries(services.map((s) => [s, 0])) as Record<Service, number>;
  for (const l of lines) byService[l.service] += l.usd;
  return { lines, byService, total: services.reduce((sum, s) => sum + byService[s], 0) };
}

/** The notes printed with the cost bench's dollar figures: what its prices cover and leave out. */
export const pricingNotes = {
  prices: `${pricesRegion} list prices as sourced on ${pricesDate} (bench/prices.ts); month = ${daysPerMonth} days; GB = 2^30 bytes`,
  sns_sqs_note:
    'SNS: a publish call per started 64 KB (a PublishBatch of up to 10 events is one: SNS batching docs), deliveries to SQS free, e-mail $2.00/100,000; ' +
    "SQS $0.40/M requests, the incidents function's sends, receives and deletes as measured, the reseller's receive + delete modelled",
  sqs_idle_polling_note:
    'not priced: Lambda\'s event source mappings keep long-polling the incidents queue and the webhook outbox and deliveries queues while they are empty (aws-prices.md: "an idle queue polled by a Lambda trigger still makes empty receives"), ' +
    "a cost per deployment, not per site, at a rate the dated table does not give; nor the reseller's own polling of its service queue (its tool, per reseller)",
  fleet_free_tiers:
    'Lambda 1 M requests + 400,000 GB-s, SQS 1 M requests, DynamoDB 25 GB storage, per account-month; HTTP API $0.90/M beyond 300 M',
  fleet_fixed_note:
    'Secrets Manager: one secret (the token-signing key), and the silence detector; CloudWatch alarms and dashboard left out (not in the dated price table)',
  logs_note:
    'logs_usd = ingestion + storage for the retention, stored size taken uncompressed (an upper bound: CloudWatch bills storage compressed)',
  left_out:
    "data transfer out (the webhook POSTs' bytes are counted: webhook_path_with_endpoint_http_bytes_out_per_site_day), the CloudWatch Logs free tier, Secrets Manager API calls, DynamoDB PITR and backups, Lambda init (cold start) billing, Lambda's polling of the idle incidents and webhook queues, SMS",
} as const;
