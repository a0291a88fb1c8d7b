import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, test } from 'vitest';
import { linkedDocs, shellBlocks } from '../../bin/readme-check/blocks.ts';

const root = resolve(import.meta.dirname, '..', '..');
const fence = '```';

const doc = [
  '# Title',
  '',
  '## First',
  `${fence}sh`,
  'A=1',
  'echo "$A"',
  fence,
  '',
  `${fence}ts`,
  'const notShell = 1;',
  fence,
  '### Second `part`',
  '<!-- readme-check: skip (deploys to AWS) -->',
  '',
  `${fence}sh`,
  'npx cdk deploy',
  fence,
  `${fence}sh`,
  'echo after a skipped block, runs',
  fence,
].join('\n');

test('the sh blocks of a document, each with its heading, first code line and skip reason; other languages are not run', () => {
  expect(shellBlocks('docs/x.md', doc)).toEqual([
    { doc: 'docs/x.md', heading: 'First', line: 5, code: ['A=1', 'echo "$A"'], skip: null },
    { doc: 'docs/x.md', heading: 'Second part', line: 16, code: ['npx cdk deploy'], skip: 'deploys to AWS' },
    { doc: 'docs/x.md', heading: 'Second part', line: 19, code: ['echo after a skipped block, runs'], skip: null },
  ]);
});

test('a skip marker without a reason, or a marker the check does not understand, is an error naming its line', () => {
  expect(() => shellBlocks('a.md', ['<!-- readme-check: skip () -->', `${fence}sh`, 'true', fence].join('\n'))).toThrow(/a\.md:1/);
  expect(() => shellBlocks('a.md', ['<!-- readme-check: skipp (typo) -->', `${fence}sh`, 'true', fence].join('\n'))).toThrow(
    /a\.md:1: a readme-check marker must read/,
  );
});

test("the documents of the README's Documentation section, in the order it names them, each once, local Markdown only", () => {
  const readme = [
    '# T',
    'See [the start](docs/early.md) (not in the section).',
    '## Documentation',
    'First [resellers](docs/resellers.md), then [webhooks](docs/webhooks.md#outbound).',
    'Again [resellers](docs/resellers.md); [the spec](https://example.com/spec.md); [tests](test/README.md).',
    '## Licence',
    '[later](docs/later.md)',
  ].join('\n');
  expect(linkedDocs('README.md', readme)).toEqual(['docs/resellers.md', 'docs/webhooks.md', 'test/README.md']);
});

test("the project's README reads resellers, survivor mode and webhooks before the agent's local trial", () => {
  const docs = linkedDocs('README.md', readFileSync(resolve(root, 'README.md'), 'utf8'));
  const order = ['docs/resellers.md', 'docs/survivor-mode.md', 'docs/webhooks.md', 'docs/agent.md'].map((d) => docs.indexOf(d));
  expect(order.every((index) => index >= 0)).toBe(true);
  expect([...order].sort((a, b) => a - b)).toEqual(order);
});

test('docs/webhooks.md shows the receiver its block starts, docs/examples/webhook-receiver.ts, as it is', () => {
  const webhooks = readFileSync(resolve(root, 'docs/webhooks.md'), 'utf8');
  const receiver = readFileSync(resolve(root, 'docs/examples/webhook-receiver.ts'), 'utf8');
  expect(webhooks).toContain(`${fence}ts\n${receiver}${fence}\n`);
});
