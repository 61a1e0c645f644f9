#!/usr/bin/env node
// Starts mrcd fast: the compiled bundle (dist/mrcd.js, built by `npm install` or
// `npm run build`) through a V8 code cache, unless a project source changed since the
// build; then, and when there is no bundle, the TypeScript sources through tsx (slower to
// start, never stale). MRCD_SHOW_LOADER=1 says on stderr which one runs and why.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const DIST = path.join(__dirname, '..', 'dist');
const ROOT = path.join(__dirname, '..');

/** Why the bundle cannot be trusted, or undefined when every source it was built from is unchanged. */
function staleBecause() {
  if (process.env.MRCD_FROM_SOURCE === '1') return 'MRCD_FROM_SOURCE=1';
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(DIST, 'mrcd.inputs.json'), 'utf8'));
  } catch {
    return 'no dist/mrcd.js build (npm run build)';
  }
  const crypto = require('node:crypto');
  for (const { file, sha1 } of manifest.inputs) {
    let text;
    try {
      text = fs.readFileSync(path.join(ROOT, file));
    } catch {
      return `${file} is gone since the build`;
    }
    if (crypto.createHash('sha1').update(text).digest('hex') !== sha1) return `${file} changed since the build (npm run build)`;
  }
  return undefined;
}

/** Loads a CommonJS file through a V8 code cache next to it (rewritten when V8 rejects it). */
function loadCached(file) {
  const vm = require('node:vm');
  const Module = require('node:module');
  const cacheFile = `${file}.cache`;
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    // no cache yet: compile from the source
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    // After the run, when V8 has compiled the functions the CLI used; a read-only install just skips it.
    process.once('exit', () => {
      try {
        fs.writeFileSync(cacheFile, script.createCachedData());
      } catch {
        // read-only install: no cache
      }
    });
  }
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, require, mod, file, path.dirname(file));
  return mod.exports;
}

const stale = staleBecause();
if (process.env.MRCD_SHOW_LOADER === '1') process.stderr.write(stale ? `mrcd: from the TypeScript sources: ${stale}\n` : 'mrcd: from dist/mrcd.js\n');
let cli;
if (!stale) {
  cli = loadCached(path.join(DIST, 'mrcd.js'));
} else {
  require('tsx/cjs');
  cli = require('../cli/main.ts');
}
cli.runCli(process.argv.slice(2)).then(cli.exitWhenFlushed);
