/**
 * The shell blocks of the README and of the docs it links, in reading order, each with where it
 * stands (doc, heading, line) and the reason it is skipped, if a marker right before it gives one.
 * Pure: text in, blocks out.
 */
import { dirname, join, normalize } from 'node:path';

/** One ```sh block of a document. */
export interface ShellBlock {
  /** The document's path from the project root, e.g. `docs/resellers.md`. */
  doc: string;
  /** The nearest heading above the block (`Try it with curl`), or the document's path when none. */
  heading: string;
  /** 1-based line of the block's first code line in its document. */
  line: number;
  /** The block's lines, as written. */
  code: string[];
  /** Why the block is not run, from `<!-- readme-check: skip (why) -->` right before it; null when it runs. */
  skip: string | null;
}

const fenceOpen = /^```(sh|bash|shell)\s*$/;
const heading = /^#{1,6}\s+(.+?)\s*#*\s*$/;
const marker = /^<!--\s*readme-check:\s*(.*?)\s*-->$/;
const skipMarker = /^skip\s*\((.+)\)$/;

/** The shell blocks of one document, in order. Throws on a marker it does not understand, so a typo never silently runs or skips a block. */
export function shellBlocks(doc: string, text: string): ShellBlock[] {
  const lines = text.split('\n');
  const blocks: ShellBlock[] = [];
  let current = doc;
  let previous = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.startsWith('```')) {
      const isShell = fenceOpen.test(line);
      const start = i + 1;
      let end = start;
      while (end < lines.length && !/^```\s*$/.test(lines[end] ?? '')) end++;
      if (isShell)
        blocks.push({ doc, heading: current, line: start + 1, code: lines.slice(start, end), skip: skipReason(doc, i + 1, previous) });
      i = end;
      previous = '';
      continue;
    }
    const title = heading.exec(line);
    if (title?.[1] !== undefined) current = title[1].replace(/`/g, '');
    const mark = marker.exec(line.trim());
    if (mark !== null && !skipMarker.test(mark[1] ?? '')) {
      throw new Error(`${doc}:${String(i + 1)}: a readme-check marker must read <!-- readme-check: skip (why) -->, not ${line.trim()}`);
    }
    if (line.trim() !== '') previous = line.trim();
  }
  return blocks;
}

/** The reason of a skip marker on the last non-blank line before a fence, or null. */
function skipReason(doc: string, fenceLine: number, previous: string): string | null {
  const mark = marker.exec(previous);
  if (mark === null) return null;
  const reason = skipMarker.exec(mark[1] ?? '')?.[1]?.trim();
  if (reason === undefined || reason === '') throw new Error(`${doc}:${String(fenceLine)}: a skip marker must say why`);
  return reason;
}

/**
 * The documents the README's "Documentation" section links, in the order it names them: paths from
 * the project root, local Markdown files only, each once.
 */
export function linkedDocs(readmePath: string, readme: string): string[] {
  const lines = readme.split('\n');
  const start = lines.findIndex((line) => /^##\s+Documentation\s*$/.test(line));
  if (start === -1) throw new Error(`${readmePath} has no "## Documentation" section`);
  const after = lines.slice(start + 1);
  const end = after.findIndex((line) => /^##\s/.test(line));
  const section = (end === -1 ? after : after.slice(0, end)).join('\n');
  const docs: string[] = [];
  for (const match of section.matchAll(/\]\(([^)#\s]+\.md)(?:#[^)]*)?\)/g)) {
    const target = match[1] ?? '';
    if (/^[a-z]+:/i.test(target)) continue;
    const path = normalize(join(dirname(readmePath), target));
    if (!docs.includes(path)) docs.push(path);
  }
  return docs;
}
