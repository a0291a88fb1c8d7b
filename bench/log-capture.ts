/**
 * The witness's log lines, caught on their way out of this process and counted instead of
 * printed: Powertools' logger writes each line as one JSON string to process.stdout (or stderr
 * for warnings and errors), which is what Lambda ships to CloudWatch Logs, one event per line.
 * Anything else written meanwhile passes through untouched.
 */
export class LogCapture {
  lines = 0;
  /** UTF-8 bytes of the lines, without their newline (CloudWatch stores the message). */
  bytes = 0;
  #sinceTake = 0;
  readonly #restore: (() => void)[] = [];

  constructor(private readonly service: string) {}

  start(): void {
    for (const stream of [process.stdout, process.stderr]) {
      // eslint-disable-next-line @typescript-eslint/unbound-method -- restored as it was
      const original = stream.write;
      const passThrough = original.bind(stream) as (...args: unknown[]) => boolean;
      stream.write = (chunk: unknown, ...rest: unknown[]): boolean => {
        const text = typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : undefined;
        if (text !== undefined && this.#isWitnessLine(text)) {
          for (const line of text.split('\n')) {
            if (line.length === 0) continue;
            const bytes = Buffer.byteLength(line, 'utf8');
            this.lines++;
            this.bytes += bytes;
            this.#sinceTake += bytes;
          }
          return true;
        }
        return passThrough(chunk, ...rest);
      };
      this.#restore.push(() => {
        stream.write = original;
      });
    }
  }

  stop(): void {
    for (const restore of this.#restore.splice(0)) restore();
  }

  reset(): void {
    this.lines = 0;
    this.bytes = 0;
    this.#sinceTake = 0;
  }

  /** Bytes logged since the last call. */
  take(): number {
    const bytes = this.#sinceTake;
    this.#sinceTake = 0;
    return bytes;
  }

  #isWitnessLine(text: string): boolean {
    if (!text.startsWith('{')) return false;
    try {
      return (JSON.parse(text) as { service?: unknown }).service === this.service;
    } catch {
      return false;
    }
  }
}
