/**
 * AWS list prices for the cost model (us-east-1), copied from /work/shared/reference/aws-prices.md
 * as sourced on `pricesDate`. Check them before relying on a figure, and move the date with them.
 * Only what that table lists is here: anything else the cost bench leaves out, and says so (SMS:
 * "about $0.0065 plus carrier fees" in the US is no list price; the cost bench counts SMS, prices none).
 */
export const pricesDate = '2026-11-25';
export const pricesRegion = 'us-east-1';

export interface Price {
  /** US dollars per `unit`. */
  usd: number;
  unit: string;
  /** Where the figure comes from and what it covers. */
  source: string;
}

const table = 'aws-prices.md (2026-11-25)';

export const prices = {
  dynamoWriteUnit: {
    usd: 0.625 / 1e6,
    unit: 'WRU',
    source: `${table}: DynamoDB on-demand writes $0.625 per million WRU (halved on 2024-11-01); 1 WRU per started 1 KB of item`,
  },
  dynamoReadUnit: {
    usd: 0.125 / 1e6,
    unit: 'RRU',
    source: `${table}: DynamoDB on-demand reads $0.125 per million RRU; a strongly consistent read of up to 4 KB = 1 RRU`,
  },
  dynamoStorage: { usd: 0.25, unit: 'GB-month', source: `${table}: DynamoDB storage $0.25 per GB-month, first 25 GB free` },
  httpApiRequest: {
    usd: 1.0 / 1e6,
    unit: 'request (512 KB unit)',
    source: `${table}: API Gateway HTTP API $1.00 per million for the first 300 M a month, metered per 512 KB`,
  },
  httpApiRequestOver300M: {
    usd: 0.9 / 1e6,
    unit: 'request (512 KB unit) beyond 300 M a month',
    source: `${table}: API Gateway HTTP API $0.90 per million beyond 300 M`,
  },
  lambdaRequest: { usd: 0.2 / 1e6, unit: 'invocation', source: `${table}: Lambda requests $0.20 per million` },
  lambdaArmGbSecond: { usd: 0.0000133334, unit: 'GB-s (arm64)', source: `${table}: Lambda duration arm64 $0.0000133334 per GB-s` },
  logsIngestion: { usd: 0.5, unit: 'GB ingested', source: `${table}: CloudWatch Logs ingestion $0.50 per GB` },
  logsStorage: { usd: 0.03, unit: 'GB-month stored', source: `${table}: CloudWatch Logs storage $0.03 per GB-month` },
  snsPublish: {
    usd: 0.5 / 1e6,
    unit: 'publish (64 KB chunk)',
    source: `${table}: SNS publish $0.50 per million; delivery to SQS and Lambda free`,
  },
  snsDeliverySqs: { usd: 0, unit: 'delivery to an SQS queue', source: `${table}: SNS delivery to SQS and Lambda: no charge` },
  snsEmail: { usd: 2.0 / 1e5, unit: 'e-mail notification', source: `${table}: SNS e-mail $2.00 per 100,000` },
  sqsRequest: { usd: 0.4 / 1e6, unit: 'request (64 KB chunk)', source: `${table}: SQS standard $0.40 per million requests` },
  secretMonth: { usd: 0.4, unit: 'secret-month', source: `${table}: Secrets Manager $0.40 per secret-month (plus $0.05 per 10,000 calls)` },
} as const satisfies Record<string, Price>;

/** Free tiers per account and month, from the same table. */
export const freeTiers = {
  lambdaRequests: { amount: 1_000_000, source: `${table}: Lambda free tier 1 M requests a month, per account` },
  lambdaGbSeconds: { amount: 400_000, source: `${table}: Lambda free tier 400,000 GB-s a month, per account` },
  sqsRequests: { amount: 1_000_000, source: `${table}: SQS 1 M requests free a month` },
  dynamoStorageGb: { amount: 25, source: `${table}: DynamoDB storage, first 25 GB free` },
  httpApiTierRequests: { amount: 300_000_000, source: `${table}: HTTP API price tier boundary, 300 M requests a month` },
} as const;

/** HTTP API metering unit: a request counts once per started 512 KB. */
export const httpApiMeterBytes = 512 * 1024;
/** DynamoDB write unit: 1 KB of item, per started KB; read unit: 4 KB (strongly consistent). */
export const dynamoWriteUnitBytes = 1024;
export const dynamoReadUnitBytes = 4096;
/** DynamoDB bills storage on the item's size plus 100 bytes of index overhead per item. */
export const dynamoItemOverheadBytes = 100;
