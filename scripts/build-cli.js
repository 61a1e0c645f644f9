#!/usr/bin/env node
// Compiles the mrcd CLI into one minified JavaScript file, dist/mrcd.js, so `mrcd status`
// starts in a fraction of the time tsx needs to compile the TypeScript sources on every run
// (M7 in docs/benchmarks.md). One file means one read and one V8 code cache instead of
// resolving and compiling hundreds of modules. Runs on `npm install` (postinstall) and as
// `npm run build`. It also writes dist/mrcd.inputs.json: the project sources the bundle was
// built from, with a hash, size and times of each, so bin/mrcd.js can tell a stale bundle
// and fall back to the sources instead of running yesterday's code.
'use strict';
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const OUT = path.join(ROOT, 'dist', 'mrcd.js');
const INPUTS = path.join(ROOT, 'dist', 'mrcd.inputs.json');

/**
 * The project's own files among a bundle's inputs (dependencies change only through npm
 * install), each with its hash (mtimes do not survive copies and checkouts) and its size,
 * mtime and ctime, which bin/mrcd.js compares first and hashes only a file whose differ. A
 * file written less than 2 s before the build began is `racy`: a write after the build within
 * its timestamp's granularity (coarse on some file systems) could keep all three, so it is
 * always hashed.
 */
function projectInputs(metafile, builtFrom) {
  return Object.keys(metafile.inputs)
    .filter((f) => !f.includes('node_modules'))
    .map((f) => {
      const file = path.join(ROOT, f);
      const stat = fs.statSync(file);
      return {
        file: f,
        sha1: createHash('sha1').update(fs.readFileSync(file)).digest('hex'),
        size: stat.size,
        mtimeMs: stat.mtimeMs,
        ctimeMs: stat.ctimeMs,
        ...(stat.mtimeMs >= builtFrom - 2000 ? { racy: true } : {}),
      };
    });
}

/**
 * Temporal's protobuf descriptors (@temporalio/proto's json-module.js) become protobufjs
 * objects when the Temporal client loads, the largest part of starting `mrcd status` (M7).
 * A quarter of them is the Temporal Cloud operations API (temporal.api.cloud), which mrcd never
 * calls and no other descriptor refers to: the bundle leaves it out, and the build fails if
 * anything in the bundle names it.
 */
const CLOUD_API = /\bapi\.cloud\b/;
const withoutCloudApi = {
  name: 'temporal-descriptors-without-cloud-api',
  setup(build) {
    build.onLoad({ filter: /[\\/]@temporalio[\\/]proto[\\/]protos[\\/]json-module\.js$/ }, (args) => {
      const text = fs.readFileSync(args.path, 'utf8');
      const start = text.indexOf('.addJSON(') + '.addJSON('.length;
      const end = text.lastIndexOf('})') + 1;
      const descriptors = JSON.parse(text.slice(start, end));
      delete descriptors.temporal.nested.api.nested.cloud;
      return { contents: text.slice(0, start) + JSON.stringify(descriptors) + text.slice(end), loader: 'js' };
    });
  },
};

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
  const builtFrom = Date.now();
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
    plugins: [vegaWithoutCanvas, withoutCloudApi],
  });
  if (CLOUD_API.test(fs.readFileSync(OUT, 'utf8')))
    throw new Error('the bundle names temporal.api.cloud, which scripts/build-cli.js leaves out of its descriptors');
  // Written last: a build that failed halfway leaves no inputs file, so no bundle is trusted.
  fs.writeFileSync(INPUTS, JSON.stringify({ builtAt: new Date().toISOString(), inputs: projectInputs(result.metafile, builtFrom) }, null, 1) + '\n');
  // The code cache of the previous bundle, and what a run killed while writing it left.
  for (const f of fs.readdirSync(path.dirname(OUT))) if (f.startsWith('mrcd.js.cache')) fs.rmSync(path.join(path.dirname(OUT), f), { force: true });
  process.stdout.write(`[mrcd] built ${path.relative(process.cwd(), OUT) || OUT}\n`);
}

main().catch((e) => {
  fs.rmSync(INPUTS, { force: true });
  process.stderr.write(`[mrcd] building dist/mrcd.js failed: ${e.message}\n`);
  process.exit(1);
});
