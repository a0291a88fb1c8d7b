#!/usr/bin/env node
/**
 * tiebreak-agent: the on-site agent.
 *   tiebreak-agent run --config /etc/tiebreak/agent.yaml
 *   tiebreak-agent status --config /etc/tiebreak/agent.yaml
 *   tiebreak-agent watchdog --config /etc/tiebreak/agent.yaml --device /dev/watchdog --timeout-ms 5000 [--max-age-ms 5000]
 *   tiebreak-agent maintenance --config /etc/tiebreak/agent.yaml --minutes 60 --reason "replacing disks"
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadAgentConfig } from '../agent/config.ts';
import { monotonicClock } from '../agent/io/clock.ts';
import { withNodeToken } from '../agent/io/enrollment.ts';
import { WitnessClient } from '../agent/io/witness-client.ts';
import { AgentRuntime, judgeStatus, peerInWords, statusInWords } from '../agent/io/runtime.ts';
import { statusFile } from '../agent/io/state-file.ts';
import { runWatchdog } from '../agent/io/watchdog.ts';

const usage = [
  'usage: tiebreak-agent run|status --config FILE',
  '       tiebreak-agent watchdog --config FILE --device /dev/watchdog --timeout-ms MS [--max-age-ms MS]',
  '       tiebreak-agent maintenance --config FILE --minutes N --reason TEXT',
].join('\n');
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    config: { type: 'string', short: 'c' },
    device: { type: 'string' },
    'timeout-ms': { type: 'string' },
    'max-age-ms': { type: 'string', default: '5000' },
    minutes: { type: 'string' },
    reason: { type: 'string' },
  },
});
const [command] = positionals;
if (!values.config || (command !== 'run' && command !== 'status' && command !== 'watchdog' && command !== 'maintenance')) {
  console.error(usage);
  process.exit(2);
}

const config = await loadAgentConfig(values.config).catch((error: unknown) => {
  console.error(`tiebreak-agent: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
});

if (command === 'status') {
  // Exit codes as LSB's `status`: 0 running, 3 not running (no status, or a stale one), 4 unknown.
  const file = statusFile(config.stateDir);
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (!text) {
    console.error(`tiebreak-agent: no status at ${file}: the agent is not running here; see systemctl status tiebreak-agent`);
    process.exit(3);
  }
  let status: Record<string, unknown>;
  try {
    status = JSON.parse(text) as Record<string, unknown>;
  } catch {
    console.error(`tiebreak-agent: ${file} is not a status the agent wrote (not JSON); see systemctl status tiebreak-agent`);
    process.exit(4);
  }
  const { ageMs, stale, why } = judgeStatus(status, Date.now());
  // stdout stays the JSON that tools read; the words are for the technician, on stderr.
  console.log(JSON.stringify({ ...status, ageMs, stale }, null, 2));
  for (const words of [statusInWords(status), peerInWords(status)]) if (words) console.error(words);
  if (stale) {
    const tail = 'what the status says no longer holds (see systemctl status tiebreak-agent)';
    console.error(`tiebreak-agent: the agent is not running: ${why ?? 'the status is stale'}; ${tail}`);
    process.exit(3);
  }
  process.exit(0);
}

if (command === 'watchdog') {
  const timeoutMs = Number(values['timeout-ms']);
  const maxAgeMs = Number(values['max-age-ms']);
  if (!values.device || !Number.isInteger(timeoutMs) || timeoutMs < 1_000 || !Number.isInteger(maxAgeMs) || maxAgeMs < 1_000) {
    console.error(`${usage}\n(--timeout-ms is the device's timeout, and it and --max-age-ms are at least 1000)`);
    process.exit(2);
  }
  const stopping = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      stopping.abort();
    });
  }
  await runWatchdog({
    stateDir: config.stateDir,
    device: values.device,
    timeoutMs,
    maxAgeMs,
    signal: stopping.signal,
    log: (line) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), node: config.nodeId, ...line })}\n`),
  });
  process.exit(0);
}

const logLine = (line: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), node: config.nodeId, ...line })}\n`);

if (command === 'maintenance') {
  const minutes = Number(values.minutes);
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440 || !values.reason) {
    console.error(`${usage}\n(--minutes is 1 to 1440, and --reason says why)`);
    process.exit(2);
  }
  // A person waits at the terminal: a minute for a witness that cannot answer yet, not forever.
  const ready = await withNodeToken(config, logLine, 60_000);
  const witness = new WitnessClient(ready.witness.url, ready.witness.token, ready.witness.requestTimeoutMs);
  const result = await witness.maintenance({ minutes, reason: values.reason });
  if (!result.ok) {
    const { unreachable: no } = result;
    console.error(
      no
        ? `tiebreak-agent: cannot reach the witness at ${no.url}: ${no.cause}`
        : `tiebreak-agent: the witness refused the maintenance window (${String(result.status)} ${result.code ?? ''})`,
    );
    process.exit(1);
  }
  console.log(
    `maintenance window ${result.body.windowId}: ${result.body.start} to ${result.body.end}. Nobody is paged for this site until then.`,
  );
  process.exit(0);
}

// For the chaos harness only: run this agent's clock fast or slow, within the drift margin.
const clockRate = Number(process.env.TIEBREAK_AGENT_CLOCK_RATE ?? 1);
const ready = await withNodeToken(config, logLine).catch((error: unknown) => {
  console.error(`tiebreak-agent: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
const agent = new AgentRuntime(ready, { clock: monotonicClock(clockRate) });
await agent.start();
const stop = () => {
  void agent.shutdown().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
