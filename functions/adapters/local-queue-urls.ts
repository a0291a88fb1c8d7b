import type { SQSClient } from '@aws-sdk/client-sqs';

/**
 * fauxqs writes each queue's URL, with the port of the request that created it, into its data
 * folder, and answers that URL ever after: after a restart of `npm start` (fauxqs on a new port) it
 * names a port nobody listens on. fauxqs has no setting for a URL without the port (its `host`
 * option changes the host only), so a local client answers every queue URL at its own endpoint's
 * port: the URL fauxqs gives a queue created now. fauxqs finds a queue by the region and name in
 * its URL, whatever the port.
 */
export function answerQueueUrlsAtEndpoint(client: SQSClient, endpoint: string): void {
  const port = new URL(endpoint).port;
  const current = (queueUrl: string) => {
    const url = new URL(queueUrl);
    url.port = port;
    return url.toString();
  };
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      // CreateQueue and GetQueueUrl answer QueueUrl; ListQueues and ListDeadLetterSourceQueues answer QueueUrls.
      const output = result.output as { QueueUrl?: unknown; QueueUrls?: unknown[] };
      if (typeof output.QueueUrl === 'string') output.QueueUrl = current(output.QueueUrl);
      if (Array.isArray(output.QueueUrls)) output.QueueUrls = output.QueueUrls.map((u) => (typeof u === 'string' ? current(u) : u));
      return result;
    },
    { step: 'initialize', name: 'tiebreakQueueUrlsAtEndpoint' },
  );
}
