/**
 * The command line of every command in bin/: node's parseArgs, strict, with what each command
 * would otherwise repeat. `-h`/`--help` prints the usage on stdout and exits 0; `--version`/`-V`
 * (where a command has a version) prints it and exits 0; anything the command cannot take is one
 * line on stderr, `<command>: <what is wrong> (see <how to ask for help>)`, and exit 2, never a
 * stack trace.
 */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

/** The options a command declares, as parseArgs returns them. */
export type Values<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ options: O; strict: true }>>['values'];

export interface CommandLine<O extends ParseArgsOptionsConfig> {
  /** What each error line begins with: `report`, `tiebreak-agent run`. */
  name: string;
  /** The whole help text, its first line `usage: …`. */
  usage: string;
  /** How a user asks for the usage, named in error lines (default: `<name> --help`). */
  help?: string;
  /** The options, without help (and version), which every command has. */
  options: O;
  /** With a version, `--version` and `-V` print `<name> <version>`. */
  version?: string;
  /** Default: this process's arguments. */
  args?: readonly string[];
}

export interface Command<O extends ParseArgsOptionsConfig> {
  values: Values<O>;
  /** Input the command cannot take: one line on stderr, exit 2. */
  refuse: (message: string) => never;
  /** The command could not do its work: one line on stderr, exit 1. */
  fail: (message: string) => never;
}

const helpOption = { help: { type: 'boolean', short: 'h' } } as const;
const versionOption = { version: { type: 'boolean', short: 'V' } } as const;

function exit(code: number, line: string): never {
  (code === 0 ? process.stdout : process.stderr).write(`${line}\n`);
  process.exit(code);
}

/** The message of an error, or the cause it hides (fetch's "fetch failed" hides why). */
export function errorMessage(error: unknown): string {
  let inner = error;
  while (inner instanceof Error && inner.cause !== undefined) inner = inner.cause;
  if (inner instanceof AggregateError && inner.errors[0] !== undefined) inner = inner.errors[0];
  if (inner instanceof Error) return inner.message || ((inner as NodeJS.ErrnoException).code ?? inner.name);
  return String(inner);
}

/**
 * The first argument the options cannot take, in words. Read from parseArgs' own tokens, not from
 * its messages (which span lines and say more than a user needs).
 */
function whatIsWrong(args: readonly string[], options: ParseArgsOptionsConfig): string | undefined {
  const { tokens } = parseArgs({ args: [...args], options, strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') return `unexpected argument '${token.value}'`;
    const option = options[token.name];
    if (!option) return `unknown option ${token.rawName}`;
    if (option.type === 'boolean' && token.inlineValue) return `${token.rawName} takes no value`;
    if (option.type === 'string' && token.value === undefined) return `${token.rawName} needs a value`;
    if (option.type === 'string' && !token.inlineValue && token.value?.startsWith('-')) {
      return `${token.rawName} needs a value; one that starts with a dash is written ${token.rawName}=${token.value}`;
    }
  }
  return undefined;
}

/** Whether `--help` or `-h` comes anywhere before a `--`, whatever else is wrong. */
function asksFor(name: string, args: readonly string[], options: ParseArgsOptionsConfig): boolean {
  const { tokens } = parseArgs({ args: [...args], options, strict: false, allowPositionals: true, tokens: true });
  return tokens.some((token) => token.kind === 'option' && token.name === name && token.value === undefined);
}

/** Parses a command's arguments, or answers --help or --version, or refuses them (exit 2). */
export function parseCommand<const O extends ParseArgsOptionsConfig>(line: CommandLine<O>): Command<O> {
  const args = line.args ?? process.argv.slice(2);
  const help = line.help ?? `${line.name} --help`;
  const refuse = (message: string): never => exit(2, `${line.name}: ${message} (see ${help})`);
  const fail = (message: string): never => exit(1, `${line.name}: ${message}`);
  const options: ParseArgsOptionsConfig = { ...line.options, ...helpOption, ...(line.version ? versionOption : {}) };

  if (asksFor('help', args, options)) exit(0, line.usage);
  if (line.version && asksFor('version', args, options)) exit(0, `${line.name} ${line.version}`);
  try {
    const { values } = parseArgs({ args: [...args], options, strict: true, allowPositionals: false });
    return { values: values as Values<O>, refuse, fail };
  } catch (error) {
    if (!(error instanceof Error) || !String((error as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')) throw error;
    return refuse(whatIsWrong(args, options) ?? error.message.split('\n')[0] ?? error.message);
  }
}

export interface SubcommandLine<O extends ParseArgsOptionsConfig, S extends string> {
  /** The program: `tiebreak-agent`. */
  name: string;
  /** The program's help text: every subcommand in a line or two. */
  usage: string;
  version?: string;
  /** Every option of every subcommand; none with a default (a subcommand without it would still see it). */
  options: O;
  /** Each subcommand's help text and the options it takes. */
  subcommands: Record<S, { usage: string; options: readonly (keyof O & string)[] }>;
  args?: readonly string[];
}

/**
 * `<program> <subcommand> [options]`: the subcommand first, then its own options, parsed as
 * parseCommand does. `<program>`, `--help`, `help` and `help <subcommand>` print usages;
 * `--version` the version.
 */
export function parseSubcommand<const O extends ParseArgsOptionsConfig, S extends string>(
  line: SubcommandLine<O, S>,
): Command<O> & { subcommand: S } {
  const [first, ...rest] = line.args ?? process.argv.slice(2);
  const names = Object.keys(line.subcommands) as S[];
  const isSubcommand = (word: string | undefined): word is S => word !== undefined && (names as string[]).includes(word);
  const help = `${line.name} --help`;
  // Called bare: the usage, where a person typing the name expects it, but as an error.
  if (first === undefined) exit(2, line.usage);
  if (first === 'help' || first === '--help' || first === '-h') {
    const [topic] = rest;
    if (first === 'help' && isSubcommand(topic)) exit(0, line.subcommands[topic].usage);
    if (first === 'help' && topic !== undefined) exit(2, `${line.name}: no command ${topic} (see ${help})`);
    exit(0, line.usage);
  }
  if (line.version && (first === '--version' || first === '-V')) exit(0, `${line.name} ${line.version}`);
  if (!isSubcommand(first)) {
    const what = first.startsWith('-') ? `the command comes before ${first}` : `no command ${first}`;
    exit(2, `${line.name}: ${what}: ${names.join(', ')} (see ${help})`);
  }
  const sub = line.subcommands[first];
  const options: ParseArgsOptionsConfig = {};
  for (const name of sub.options) {
    const option = line.options[name];
    if (option) options[name] = option;
  }
  const command = parseCommand({ name: `${line.name} ${first}`, usage: sub.usage, options, args: rest });
  return { ...command, values: command.values as Values<O>, subcommand: first };
}
