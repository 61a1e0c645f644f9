// What the Go-built tools share (build-temporal-server.js, build-kube-control-plane.js,
// install-tctl.js): finding Go, saying what happens, and cleaning up after a build that died.
// Plain JS: it runs before dependencies are usable.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

function log(msg) {
  process.stdout.write(`[mrcd] ${msg}\n`);
}

/** A path as short as it can be said from here. */
function relative(p) {
  const r = path.relative(process.cwd(), p);
  return r && !r.startsWith('..') ? r : p;
}

/** GO when set (and only it), else go on PATH, else Go's default install location. */
function findGo() {
  const candidates = process.env.GO ? [process.env.GO] : ['go', '/usr/local/go/bin/go'];
  return candidates.find((g) => spawnSync(g, ['version'], { stdio: 'ignore' }).status === 0);
}

/** Staging directories `.<prefix>-staging-<pid>-*` in `dir` whose process is gone (killed mid-build) go. */
function removeAbandonedStaging(dir, prefix) {
  if (!fs.existsSync(dir)) return;
  const pattern = new RegExp(`^\\.${prefix}-staging-(\\d+)-`);
  for (const name of fs.readdirSync(dir)) {
    const pid = Number(pattern.exec(name)?.[1]);
    if (!pid) continue;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if (e.code === 'ESRCH') fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    }
  }
}

module.exports = { log, relative, findGo, removeAbandonedStaging };
