#!/usr/bin/env node
// Bundles the workflow code ahead of time into dist/workflow-bundle.js (or the path given as
// the first argument), for MRCD_WORKFLOW_BUNDLE: a worker given it starts without running
// webpack (~5–10 s and a few hundred MB less at every start; docs/operations.md). The
// Dockerfile runs it at image build. The bundle is what worker/create.ts builds when it has
// none: the same entry (workflows/index.ts) and no other option (no interceptors, converters
// or ignored modules), so a worker with it runs, and replays, the same workflow code.
// Plain JS like the other build scripts: it runs with plain node, without tsx.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const ENTRY = path.join(ROOT, 'workflows', 'index.ts');
const DEFAULT_OUT = path.join(ROOT, 'dist', 'workflow-bundle.js');

const noop = () => {};
// webpack's chatter stays out of the build log; its warnings and errors do not.
const logger = {
  trace: noop,
  debug: noop,
  info: noop,
  log: noop,
  warn: (message, meta) => process.stderr.write(`[mrcd] ${message}${meta ? ` ${JSON.stringify(meta)}` : ''}\n`),
  error: (message, meta) => process.stderr.write(`[mrcd] ${message}${meta ? ` ${JSON.stringify(meta)}` : ''}\n`),
};

async function main() {
  const out = path.resolve(process.argv[2] ?? DEFAULT_OUT);
  const { bundleWorkflowCode } = require('@temporalio/worker');
  const started = Date.now();
  const { code } = await bundleWorkflowCode({ workflowsPath: ENTRY, logger });
  fs.mkdirSync(path.dirname(out), { recursive: true });
  // Written whole under a temporary name, then renamed: a failed build never leaves half a bundle.
  const tmp = `${out}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, code);
  fs.renameSync(tmp, out);
  const kb = Math.round(Buffer.byteLength(code) / 1024);
  process.stdout.write(`[mrcd] built ${path.relative(process.cwd(), out) || out} (${kb} KiB, ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
}

main().catch((e) => {
  process.stderr.write(`[mrcd] bundling the workflows failed: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
