#!/usr/bin/env node
// Compiles the mrcd CLI into one minified JavaScript file, dist/mrcd.js, so `mrcd status`
// starts in a fraction of the time tsx needs to compile the TypeScript sources on every run
// (M7 in docs/benchmarks.md). One file means one read and one V8 code cache instead of
// resolving and compiling hundreds of modules. Runs on `npm install` (postinstall) and as
// `npm run build`. It also writes dist/mrcd.inputs.json: the project sources the bundle was
// built from, with a hash of each (mtimes do not survive copies and checkouts), so
// bin/mrcd.js can tell a stale bundle and fall back to the sources instead of running
// yesterday's code.
'use strict';
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const OUT = path.join(ROOT, 'dist', 'mrcd.js');
const INPUTS = path.join(ROOT, 'dist', 'mrcd.inputs.json');

/** The project's own files among a bundle's inputs (dependencies change only through npm install). */
function projectInputs(metafile) {
  return Object.keys(metafile.inputs)
    .filter((f) => !f.includes('node_modules'))
    .map((f) => ({
      file: f,
      sha1: createHash('sha1')
        .update(fs.readFileSync(path.join(ROOT, f)))
        .digest('hex'),
    }));
}

/**
 * `mrcd review --format html` renders its charts with vega (ES modules). vega-canvas's node
 * build tries `await import('canvas')` at its top level, which a CommonJS bundle cannot
 * hold; its browser build finds no DOM in node and returns no canvas, which is all the
 * review needs (vega renders SVG without one, as bench/plots.ts does without `canvas`).
 */
const vegaWithoutCanvas = {
  name: 'vega-without-canvas',
  setup(build) {
    build.onResolve({ filter: /^vega-canvas$/ }, () => ({ path: path.join(ROOT, 'node_modules/vega-canvas/build/vega-canvas.browser.js') }));
  },
};

async function main() {
  let esbuild;
  try {
    esbuild = require('esbuild');
  } catch (e) {
    process.stdout.write(`[mrcd] not building dist/mrcd.js (${e.message}); bin/mrcd.js runs the TypeScript sources\n`);
    return;
  }
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ['cli/main.ts'],
    outfile: OUT,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    metafile: true,
    logLevel: 'warning',
    plugins: [vegaWithoutCanvas],
  });
  // Written last: a build that failed halfway leaves no inputs file, so no bundle is trusted.
  fs.writeFileSync(INPUTS, JSON.stringify({ builtAt: new Date().toISOString(), inputs: projectInputs(result.metafile) }, null, 1) + '\n');
  for (const stale of [OUT + '.cache']) fs.rmSync(stale, { force: true });
  process.stdout.write(`[mrcd] built ${path.relative(process.cwd(), OUT) || OUT}\n`);
}

main().catch((e) => {
  fs.rmSync(INPUTS, { force: true });
  process.stderr.write(`[mrcd] building dist/mrcd.js failed: ${e.message}\n`);
  process.exit(1);
});
