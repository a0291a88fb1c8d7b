// A webhook receiver: verifies each delivery with the Standard Webhooks library and prints its event.
// Run: TIEBREAK_WEBHOOK_SECRET=whsec_… npx tsx docs/examples/webhook-receiver.ts (PORT, default 9000).
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

const secret = process.env.TIEBREAK_WEBHOOK_SECRET; // whsec_…, shown when the endpoint is created
if (secret === undefined) throw new Error('set TIEBREAK_WEBHOOK_SECRET to the endpoint secret (whsec_…)');
const webhook = new Webhook(secret);
const port = Number(process.env.PORT ?? 9000);
const seen = new Set<string>(); // use your database: deliveries are at least once

createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8'); // verify the bytes as received
    let event: { id: string; type: string; data: Record<string, unknown> };
    try {
      // Checks webhook-signature (any of its space-separated v1,… entries) and that
      // webhook-timestamp is within 5 minutes.
      event = webhook.verify(body, request.headers as Record<string, string>) as typeof event;
    } catch {
      response.writeHead(401).end();
      return;
    }
    const id = String(request.headers['webhook-id']);
    if (!seen.has(id)) {
      seen.add(id);
      console.log(event.type, JSON.stringify(event.data)); // node.lost, site.down, incident.opened, webhook.test, …
    }
    response.writeHead(204).end(); // any 2xx: delivered
  });
}).listen(port, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${String(port)}`);
});
