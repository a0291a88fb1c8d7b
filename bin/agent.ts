#!/usr/bin/env node
/**
 * tiebreak-agent: the on-site agent.
 *   tiebreak-agent run --config /etc/tiebreak/agent.yaml
 *   tiebreak-agent enroll --config /etc/tiebreak/agent.yaml
 *   tiebreak-agent status --config /etc/tiebreak/agent.yaml
 *   tiebreak-agent watchdog --config /etc/tiebreak/agent.yaml --device /dev/watchdog --timeout-ms 5000 [--max-age-ms 5000]
 *   tiebreak-agent maintenance --config /etc/tiebreak/agent.yaml --minutes 60 --reason "replacing disks"
 */
import { chown, readFile, stat } from 'node:fs/promises';
import { type AgentFileConfig, loadAgentConfig } from '../agent/config.ts';
import { monotonicClock } from '../agent/io/clock.ts';
import { tokenFile, withNodeToken } from '../agent/io/enrollment.ts';
import { WitnessClient } from '../agent/io/witness-client.ts';
import { AgentRuntime, judgeStatus, peerInWords, statusInWords } from '../agent/io/runtime.ts';
import { statusFile } from '../agent/io/state-file.ts';
import { runWatchdog } from '../agent/io/watchdog.ts';
import { agentVersion } from '../agent/version.ts';
import { parseSubcommand } from './cli/command.ts';

const configLine = '  -c, --config FILE   the agent config (YAML: docs/agent.md)';
const helpLine = '  -h, --help          this text';
const usage = `usage: tiebreak-agent <command> --config FILE [options]

The Tiebreak agent of one node of a two-node pair (docs/agent.md).

  run           run the agent: heartbeats, peer leases, claims, hooks
  enroll        trade witness.enrollmentCode for this node's token now (run does it at its first start)
  status        print the running agent's status (JSON on stdout, words on stderr)
  watchdog      feed the Linux watchdog device while the agent's status is fresh
  maintenance   declare a maintenance window for this node's site

  tiebreak-agent <command> --help   a command's options
  tiebreak-agent --version          the version and the commit it was built from`;
const subcommands = {
  run: {
    usage: `usage: tiebreak-agent run --config FILE

Runs the agent in the foreground (a systemd service runs it so), one JSON line per event on stdout;
SIGTERM or SIGINT stops it. At its first start it exchanges witness.enrollmentCode for its token.

${configLine}
${helpLine}`,
    options: ['config'],
  },
  enroll: {
    usage: `usage: tiebreak-agent enroll --config FILE

Trades witness.enrollmentCode for this node's token at the witness and keeps the token in the state
folder (readable by the owner of that folder only), as run does at its first start: then exits 0.
Already enrolled with that code, or given witness.token, it says so and exits 0. Gives up after a
minute if the witness does not answer; a refused code is exit 1, with the witness's reason.

${configLine}
${helpLine}`,
    options: ['config'],
  },
  status: {
    usage: `usage: tiebreak-agent status --config FILE

Prints the running agent's last status as JSON on stdout (with its age, ageMs), and in words on stderr.
Exits 0 when the agent runs and its status is fresh; 3 when it is not running (no status, stopped,
or a stale status); 4 when the status file is not one the agent wrote.

${configLine}
${helpLine}`,
    options: ['config'],
  },
  watchdog: {
    usage: `usage: tiebreak-agent watchdog --config FILE --device /dev/watchdog --timeout-ms MS [--max-age-ms MS]

Feeds the watchdog device only while the agent's status (fresher than --max-age-ms) says this
server runs no workloads, or holds its lease longer than the device's timeout: when the agent hangs
or dies, the device resets the machine before the other server may take over.

${configLine}
  --device PATH       the watchdog device (required)
  --timeout-ms MS     the device's own timeout, at least 1000 (required)
  --max-age-ms MS     how old the status may be, at least 1000 (default 5000)
${helpLine}`,
    options: ['config', 'device', 'timeout-ms', 'max-age-ms'],
  },
  maintenance: {
    usage: `usage: tiebreak-agent maintenance --config FILE --minutes N --reason TEXT

Declares a maintenance window for this node's site, from now: nobody is paged for the site until
it ends. Gives up after a minute if the witness does not answer.

${configLine}
  --minutes N         how long, 1 to 1440 (required)
  --reason TEXT       why, shown to the reseller (required)
${helpLine}`,
    options: ['config', 'minutes', 'reason'],
  },
} as const;
const {
  subcommand: command,
  values,
  refuse,
} = parseSubcommand({
  name: 'tiebreak-agent',
  usage,
  version: agentVersion,
  options: {
    config: { type: 'string', short: 'c' },
    device: { type: 'string' },
    'timeout-ms': { type: 'string' },
    'max-age-ms': { type: 'string' },
    minutes: { type: 'string' },
    reason: { type: 'string' },
  },
  subcommands,
});
const configFile = values.config ?? refuse('--config FILE is required');

// The error's own words: they name the file or the witness, which its cause does not.
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** One JSON line per event on stdout, as `run` logs. */
const logLineOf =
  (config: AgentFileConfig) =>
  (line: Record<string, unknown>): void => {
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), node: config.nodeId, ...line })}\n`);
  };

async function status(config: AgentFileConfig): Promise<never> {
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

async function watchdog(config: AgentFileConfig): Promise<never> {
  const timeoutMs = Number(values['timeout-ms']);
  const maxAgeMs = Number(values['max-age-ms'] ?? 5_000);
  const device = values.device ?? refuse('--device is required');
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1_000) refuse("--timeout-ms is the device's timeout in ms, at least 1000");
  if (!Number.isInteger(maxAgeMs) || maxAgeMs < 1_000) refuse('--max-age-ms is at least 1000');
  const stopping = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      stopping.abort();
    });
  }
  await runWatchdog({ stateDir: config.stateDir, device, timeoutMs, maxAgeMs, signal: stopping.signal, log: logLineOf(config) });
  process.exit(0);
}

async function maintenance(config: AgentFileConfig): Promise<never> {
  const minutes = Number(values.minutes);
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) refuse('--minutes is a whole number, 1 to 1440');
  const reason = values.reason?.trim() ? values.reason : refuse('--reason says why (required)');
  // A person waits at the terminal: a minute for a witness that cannot answer yet, not forever.
  const ready = await withNodeToken(config, logLineOf(config), 60_000);
  const witness = new WitnessClient(ready.witness.url, ready.witness.token, ready.witness.requestTimeoutMs);
  const result = await witness.maintenance({ minutes, reason });
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

async function enroll(config: AgentFileConfig): Promise<never> {
  if (config.witness.token !== undefined) {
    console.log(`${config.nodeId} has its token in the config (witness.token): nothing to enroll.`);
    process.exit(0);
  }
  const events: unknown[] = [];
  const log = logLineOf(config);
  // A person waits at the terminal: a minute for a witness that cannot answer yet, not forever.
  await withNodeToken(
    config,
    (line) => {
      events.push(line.event);
      if (line.event !== 'enrolled') log(line);
    },
    60_000,
  );
  const file = tokenFile(config.stateDir);
  if (!events.includes('enrolled')) {
    console.log(`${config.nodeId} is already enrolled with this enrollment code: its token is in ${file}.`);
    process.exit(0);
  }
  // Run by root (sudo) for an agent that runs as its own user: the token goes to the state folder's owner.
  const folder = await stat(config.stateDir);
  if (process.getuid?.() === 0 && folder.uid !== 0) await chown(file, folder.uid, folder.gid);
  console.log(`${config.nodeId} is enrolled at ${config.witness.url}: its token is kept in ${file}; the agent can start.`);
  process.exit(0);
}

async function run(config: AgentFileConfig): Promise<void> {
  // For the chaos harness only: run this agent's clock fast or slow, within the drift margin.
  const clockRate = Number(process.env.TIEBREAK_AGENT_CLOCK_RATE ?? 1);
  const ready = await withNodeToken(config, logLineOf(config));
  const agent = new AgentRuntime(ready, { clock: monotonicClock(clockRate) });
  await agent.start();
  const stop = () => {
    void agent.shutdown().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

// No top-level await: the single executable (npm run package:agent) runs this bundled as CommonJS.
void loadAgentConfig(configFile).then(
  (config) =>
    ({ run, enroll, status, watchdog, maintenance })[command](config).catch((error: unknown) => {
      console.error(`tiebreak-agent: ${messageOf(error)}`);
      process.exit(1);
    }),
  (error: unknown) => {
    console.error(`tiebreak-agent: ${messageOf(error)}`);
    process.exit(2);
  },
);
