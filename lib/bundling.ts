/**
 * What each Lambda function bundles and how: one description, read by the CDK stack
 * (NodejsFunction's bundling) and by the bundle benchmark (esbuild directly), so that the
 * bundles measured are the bundles deployed.
 */
export const functionEntries = {
  heartbeat: 'functions/handlers/heartbeat.ts',
  claim: 'functions/handlers/claim.ts',
  api: 'functions/handlers/api.ts',
  channels: 'functions/handlers/channels.ts',
  webhooks: 'functions/handlers/webhooks.ts',
  report: 'functions/handlers/report.ts',
  openapi: 'functions/handlers/openapi.ts',
  publisher: 'functions/handlers/publisher.ts',
  detector: 'functions/handlers/detector.ts',
  incidents: 'functions/handlers/incidents.ts',
  maintenance: 'functions/handlers/maintenance.ts',
  webhookRouter: 'functions/handlers/webhook-router.ts',
  webhookDeliverer: 'functions/handlers/webhook-deliverer.ts',
  console: 'functions/handlers/console.ts',
} as const;

export type FunctionName = keyof typeof functionEntries;

/**
 * Files a function serves besides its code, built into a folder of its package after its bundle
 * by a script of this project (run by the Node that runs the synthesis, which strips the types):
 * the console's page, script and stylesheet, which functions/handlers/console.ts reads from
 * `console/` beside its bundle.
 */
export const packagedFiles: Partial<Record<FunctionName, { script: string; folder: string }>> = {
  console: { script: 'console/build.ts', folder: 'console' },
};

/** ESM needs `require` for the CommonJS corners of some dependencies. */
export const esmRequireBanner = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

export const bundling = {
  format: 'esm',
  target: 'node24',
  platform: 'node',
  minify: true,
  sourcemap: true,
  // Prefer ES modules so esbuild can tree-shake the SDK and Powertools.
  mainFields: ['module', 'main'],
  banner: esmRequireBanner,
  // The SDK is bundled, not taken from the runtime: a pinned, tree-shaken client starts faster
  // and behaves the same in every region. Left out: jsPDF's optional helpers for drawing HTML and
  // SVG, which the report's PDF never uses (jsPDF requires them only when those are called).
  external: ['html2canvas', 'canvg', 'dompurify'] as string[],
} as const;
