/**
 * One bash script from the blocks to run, as a reader pasting them into one terminal would run
 * them (a variable set in one block is there in the next), under `set -euo pipefail`. Markers on
 * stdout tell where each block starts and, on an error, which line of the script failed; `lineMap`
 * turns that line back into the document's.
 */
import type { ShellBlock } from './blocks.ts';

/** Starts each marker line: a byte no block prints. */
export const markerPrefix = '\u001eREADMECHECK';

/** Where a script line came from. */
export interface ScriptLine {
  block: number;
  docLine: number;
}

export interface SessionScript {
  text: string;
  /** Script line (1-based) → its block (index into the blocks given) and line in the document. */
  lineMap: Map<number, ScriptLine>;
}

// The ERR trap runs in functions and subshells too (set -E); its last report names the top-level
// line: inside a function, the line that called it (BASH_LINENO's outermost frame before main).
const prologue = [
  'set -euo pipefail',
  'shopt -s inherit_errexit',
  `__readme_check_err() { local status=$1 line=$2; shift 2; local frames=("$@"); if ((\${#frames[@]} > 1)); then line=\${frames[\${#frames[@]}-2]}; fi; printf '\\n${markerPrefix} error %s %s\\n' "$status" "$line"; }`,
  `trap '__readme_check_err $? $LINENO "\${BASH_LINENO[@]}"' ERR`,
  'set -E',
];

/** The script for `blocks` (those to run, in order). */
export function sessionScript(blocks: readonly ShellBlock[]): SessionScript {
  const lines = [...prologue];
  const lineMap = new Map<number, ScriptLine>();
  blocks.forEach((block, index) => {
    lines.push(`printf '\\n${markerPrefix} block %s\\n' ${String(index)}`);
    block.code.forEach((code, offset) => {
      lines.push(code);
      lineMap.set(lines.length, { block: index, docLine: block.line + offset });
    });
  });
  lines.push(`printf '\\n${markerPrefix} done\\n'`);
  return { text: `${lines.join('\n')}\n`, lineMap };
}

/** A marker line of the session's output, parsed. */
export type Marker = { kind: 'block'; block: number } | { kind: 'error'; status: number; line: number } | { kind: 'done' };

/** The marker a line of output holds, or null for a line the blocks printed. */
export function parseMarker(line: string): Marker | null {
  if (!line.startsWith(markerPrefix)) return null;
  const [kind, first, second] = line.slice(markerPrefix.length).trim().split(' ');
  if (kind === 'block') return { kind, block: Number(first) };
  if (kind === 'error') return { kind, status: Number(first), line: Number(second) };
  if (kind === 'done') return { kind };
  return null;
}
