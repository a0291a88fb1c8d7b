import { createServer } from 'node:http';
import { listen, type LocalServer } from '../../local/http-server.ts';

/**
 * Secrets Manager's GetSecretValue as the AWS SDK speaks it (JSON 1.1 over HTTP), for pointing a
 * real SDK client at it with AWS_ENDPOINT_URL_SECRETS_MANAGER. Counts the reads; `failNext` makes
 * the next read fail as a missing secret would.
 */
export interface FakeSecretsManager {
  url: string;
  /** Secret values by ARN or name. */
  secrets: Map<string, string>;
  /** SecretIds asked for, in order (failed reads included). */
  reads: string[];
  failNext: number;
  close(): Promise<void>;
}

export async function startFakeSecretsManager(): Promise<FakeSecretsManager> {
  const fake: Omit<FakeSecretsManager, 'url' | 'close'> = { secrets: new Map(), reads: [], failNext: 0 };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const target = request.headers['x-amz-target'];
      const { SecretId } = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { SecretId?: string };
      const reply = (status: number, body: unknown) =>
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));
      if (target !== 'secretsmanager.GetSecretValue' || !SecretId) {
        reply(400, { __type: 'InvalidRequestException', message: `unsupported: ${String(target)}` });
        return;
      }
      fake.reads.push(SecretId);
      const value = fake.secrets.get(SecretId);
      if (fake.failNext > 0 || value === undefined) {
        fake.failNext = Math.max(0, fake.failNext - 1);
        reply(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
        return;
      }
      reply(200, {
        ARN: SecretId,
        Name: 'token-key',
        SecretString: value,
        VersionId: 'v1',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_700_000_000,
      });
    });
  });
  const local: LocalServer = await listen(server, 0);
  return Object.assign(fake, { url: local.url, close: () => local.close() });
}
