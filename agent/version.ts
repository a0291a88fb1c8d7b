import packageJson from '../package.json' with { type: 'json' };

/**
 * The commit a built agent was made from: `npm run package:agent` defines it (esbuild's `define`,
 * from `git rev-parse --short HEAD`); run from the source, or bundled by `npm run build:agent`,
 * nothing does, and the agent says `source`.
 */
declare const TIEBREAK_AGENT_COMMIT: string | undefined;

/** The name esbuild's `define` replaces with the commit, in quotes. */
export const commitDefine = 'TIEBREAK_AGENT_COMMIT';

/** What `tiebreak-agent --version` prints after the name: `0.1.0 (abc1234)`, or `0.1.0 (source)`. */
export const agentVersion = `${packageJson.version} (${typeof TIEBREAK_AGENT_COMMIT === 'string' ? TIEBREAK_AGENT_COMMIT : 'source'})`;
