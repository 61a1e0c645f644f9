#!/usr/bin/env node
// Starts mrcd fast: the compiled bundle (dist/mrcd.js, built by `npm install` or
// `npm run build`) through a V8 code cache, unless a project source changed since the
// build; then, and when there is no bundle, the TypeScript sources through tsx (slower to
// start, never stale). MRCD_SHOW_LOADER=1 says on stderr which one runs and why;
// MRCD_STARTUP_TIMES=1 prints where the time of the run went (M7 in docs/benchmarks.md).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const DIST = path.join(__dirname, '..', 'dist');
const ROOT = path.join(__dirname, '..');

const times = process.env.MRCD_STARTUP_TIMES === '1' ? [['node', performance.now()]] : undefined;
const mark = (phase) => times?.push([phase, performance.now()]);

/** dist/mrcd.inputs.json: what the bundle was built from, and when; undefined without a build. */
function readManifest() {
  try {
    return JSON.parse(fs.readFileSync(path.join(DIST, 'mrcd.inputs.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Why the bundle cannot be trusted, or undefined when every source it was built from is unchanged. */
function staleBecause(manifest) {
  if (process.env.MRCD_FROM_SOURCE === '1') return 'MRCD_FROM_SOURCE=1';
  if (manifest === undefined) return 'no dist/mrcd.js build (npm run build)';
  let crypto;
  for (const input of manifest.inputs) {
    const file = path.join(ROOT, input.file);
    let stat;
    try {
      stat = fs.statSync(file);
    } catch {
      return `${input.file} is gone since the build`;
    }
    // Size, mtime and ctime as the build saw them: unchanged, and not read (hashing every
    // input took ~4 ms of each start). ctime cannot be set back, so a copy that keeps mtimes
    // is hashed; a `racy` file, written just before the build, is always hashed (a second
    // write within its timestamp's granularity would keep both times).
    if (!input.racy && stat.size === input.size && stat.mtimeMs === input.mtimeMs && stat.ctimeMs === input.ctimeMs) continue;
    let text;
    try {
      text = fs.readFileSync(file);
    } catch {
      return `${input.file} is gone since the build`;
    }
    crypto ??= require('node:crypto');
    if (crypto.createHash('sha1').update(text).digest('hex') !== input.sha1) return `${input.file} changed since the build (npm run build)`;
  }
  return undefined;
}

/**
 * Loads the bundle through a V8 code cache next to it: dist/mrcd.js.cache, one JSON line
 * (the bundle it was made from, the commands whose functions it holds) and V8's data. V8
 * checks a cache against its own version and flags but the source only by its length, hence
 * the bundle's size and mtime. The cache is written at exit, when V8 has compiled what the
 * run used, and again after the first run of each command not yet in it: a cache from
 * `validate` alone would leave `status` compiling the Temporal client on every run.
 */
function loadCached(file) {
  const vm = require('node:vm');
  const Module = require('node:module');
  const cacheFile = `${file}.cache`;
  const source = fs.statSync(file);
  const build = `${source.size} ${source.mtimeMs}`;
  let cached;
  try {
    const bytes = fs.readFileSync(cacheFile);
    const eol = bytes.indexOf(10);
    const header = JSON.parse(bytes.subarray(0, eol).toString());
    if (header.build === build && Array.isArray(header.commands)) cached = { commands: header.commands, data: bytes.subarray(eol + 1) };
  } catch {
    // no cache yet, or not one of ours: compile from the source
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file, cachedData: cached?.data });
  const accepted = cached !== undefined && !script.cachedDataRejected;
  mark(`compile (code cache ${cached === undefined ? 'absent' : accepted ? 'accepted' : 'rejected'})`);
  const mod = { exports: {} };
  process.once('exit', (code) => {
    const commands = accepted ? cached.commands : [];
    // A failed run may have stopped before most of its command's code: it adds nothing.
    const ran = code === 0 ? (mod.exports.commandRan?.() ?? '') : undefined;
    const adds = ran !== undefined && !commands.includes(ran);
    if (accepted && !adds) return;
    // A long run (watch, a server) may have had GC flush the bytecode it never used, which
    // other commands put in the cache: it writes a cache only where none was usable.
    if (accepted && process.uptime() > 5) return;
    const tmp = `${cacheFile}.${process.pid}`;
    try {
      // The header first: a read-only install fails here, before V8 serializes anything.
      fs.writeFileSync(tmp, `${JSON.stringify({ build, commands: adds ? [...commands, ran] : commands })}\n`);
      fs.appendFileSync(tmp, script.createCachedData());
      // Whole or not at all: another run may be reading it.
      fs.renameSync(tmp, cacheFile);
    } catch {
      // read-only install: no cache
      try {
        fs.rmSync(tmp, { force: true });
      } catch {
        // nothing was written
      }
    }
  });
  script.runInThisContext()(mod.exports, require, mod, file, path.dirname(file));
  return mod.exports;
}

const stale = staleBecause(readManifest());
mark('stale check');
if (process.env.MRCD_SHOW_LOADER === '1') process.stderr.write(stale ? `mrcd: from the TypeScript sources: ${stale}\n` : 'mrcd: from dist/mrcd.js\n');
let cli;
if (!stale) {
  cli = loadCached(path.join(DIST, 'mrcd.js'));
} else {
  require('tsx/cjs');
  cli = require('../cli/main.ts');
}
mark('load');
if (times) {
  // After the code cache is written (a listener added by loadCached): it is part of the exit.
  process.once('exit', () => {
    mark('exit');
    const ms = {};
    for (let i = 0; i < times.length; i++) ms[times[i][0]] = Number((times[i][1] - (i ? times[i - 1][1] : 0)).toFixed(1));
    process.stderr.write(`mrcd: start-up times (ms) ${JSON.stringify(ms)}\n`);
  });
}
cli.runCli(process.argv.slice(2)).then((code) => {
  mark('command');
  cli.exitWhenFlushed(code);
});
