#!/usr/bin/env node
// Builds the production Temporal server (go.temporal.io/server/cmd/server) and its schema
// tool, temporal-sql-tool (cmd/tools/sql), from the Go module proxy into
// .tools/temporal-server-<version>/, with the PostgreSQL schema directories of the same
// module version copied beside them (schema/postgresql/v12/{temporal,visibility}) and its
// sample config (config/development-postgres12.yaml). For `npm run test:cluster`
// (test/cluster/run.ts): a real cluster on PostgreSQL, not the dev server. No PyPI or npm
// package ships the production server, so it is compiled from the Go module proxy: about 10
// CPU-minutes once, ~5 minutes on 2 idle cores (12–16 minutes measured while other test runs
// shared the cores). The newest server needs a newer Go than 1.26.8, so the pin is 1.32.1,
// whose go.mod asks exactly Go 1.26.8.
//
// Idempotent: when both binaries exist and report the pinned version (and the schema is
// there) it prints one line and exits in a fraction of a second. The build runs in a staging
// directory of its own (its own Go module and build caches, ~2 GB, removed afterwards unless
// MRCD_KEEP_GO_CACHE=1) and is renamed into place, so two runs at once cannot leave half a
// tool. Exit 1, saying why, when Go is missing, too old, or the build fails. Plain JS, like
// the other installers.
//
//   node scripts/build-temporal-server.js [--check]
//   GO=/path/to/go             the Go toolchain (default: go on PATH, then /usr/local/go/bin/go)
//   MRCD_TOOLS_DIR=dir         instead of .tools/
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { runQuietly } = require('./run-quietly');
const { log, relative, findGo, removeAbandonedStaging } = require('./go-tools');

const TOOLS_DIR = process.env.MRCD_TOOLS_DIR || path.resolve(__dirname, '..', '.tools');

/** Exact pin: a server upgrade is a deliberate change (its schema versions come with it). */
const VERSION = '1.32.1';
const MODULE = 'go.temporal.io/server';
/** The Go its go.mod asks for; GOTOOLCHAIN=local, so an older Go fails with this message rather than downloading one. */
const GO_NEEDED = '1.26.8';

function serverDir(toolsDir = TOOLS_DIR) {
  return path.join(toolsDir, `temporal-server-${VERSION}`);
}
/** Where everything is once provisioned. */
function paths(toolsDir = TOOLS_DIR) {
  const dir = serverDir(toolsDir);
  return {
    dir,
    server: path.join(dir, 'temporal-server'),
    sqlTool: path.join(dir, 'temporal-sql-tool'),
    schema: path.join(dir, 'schema', 'postgresql', 'v12'),
    sampleConfig: path.join(dir, 'config', 'development-postgres12.yaml'),
  };
}

/** "temporal version 1.32.1" / "temporal-sql-tool version 1.32.1"; undefined when it does not run. */
function reportedVersion(bin) {
  if (!fs.existsSync(bin)) return undefined;
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) return undefined;
  return /version\s+v?(\d+\.\d+\.\d+\S*)/.exec(`${r.stdout}${r.stderr}`)?.[1];
}

/** Both binaries report the pinned version and the schema directories are there. */
function current(toolsDir = TOOLS_DIR) {
  const p = paths(toolsDir);
  return (
    reportedVersion(p.server) === VERSION &&
    reportedVersion(p.sqlTool) === VERSION &&
    fs.existsSync(path.join(p.schema, 'temporal', 'versioned')) &&
    fs.existsSync(path.join(p.schema, 'visibility', 'versioned'))
  );
}

/** Builds into a staging directory and renames it into place; returns why it failed, or undefined. */
async function build(go, toolsDir) {
  const staging = fs.mkdtempSync(path.join(toolsDir, `.temporal-server-staging-${process.pid}-`));
  const out = path.join(staging, 'out');
  const gobin = path.join(staging, 'bin');
  const work = path.join(staging, 'work');
  fs.mkdirSync(out);
  fs.mkdirSync(work);
  const env = {
    ...process.env,
    GOPATH: path.join(staging, 'gopath'),
    GOMODCACHE: path.join(staging, 'mod'),
    GOCACHE: path.join(staging, 'cache'),
    GOBIN: gobin,
    GOFLAGS: '-modcacherw -buildvcs=false -trimpath',
    GOTOOLCHAIN: 'local',
    CGO_ENABLED: '0',
    GO111MODULE: 'on',
  };
  const keepCache = process.env.MRCD_KEEP_GO_CACHE === '1';
  try {
    // Both main packages of one module version in one `go install` (its go.mod has no
    // replace directives, so @version is accepted); the wrapper-module route of
    // install-tctl.js is the fallback when the proxy refuses that.
    const pkgs = ['cmd/server', 'cmd/tools/sql'].map((p) => `${MODULE}/${p}@v${VERSION}`);
    let r = await runQuietly(go, ['install', ...pkgs], { cwd: work, env });
    if (r.status !== 0) {
      const first = r.output;
      r = await runQuietly(go, ['mod', 'init', 'mrcd-build-temporal-server'], { cwd: work, env });
      if (r.status === 0) r = await runQuietly(go, ['get', `${MODULE}@v${VERSION}`], { cwd: work, env });
      if (r.status === 0) r = await runQuietly(go, ['install', `${MODULE}/cmd/server`, `${MODULE}/cmd/tools/sql`], { cwd: work, env });
      if (r.status !== 0) {
        process.stderr.write(`${first.split('\n').slice(-15).join('\n')}\n${r.output.split('\n').slice(-25).join('\n')}\n`);
        if (/requires go >= |toolchain not available/.test(first + r.output)) {
          return `server ${VERSION} needs Go ${GO_NEEDED} or newer (\`${go} version\` is older)`;
        }
        return `\`go install ${pkgs.join(' ')}\` failed (${r.error ? r.error.message : `exit ${r.status}`})`;
      }
    }
    fs.renameSync(path.join(gobin, 'server'), path.join(out, 'temporal-server'));
    fs.renameSync(path.join(gobin, 'sql'), path.join(out, 'temporal-sql-tool'));
    const moduleDir = path.join(env.GOMODCACHE, `${MODULE}@v${VERSION}`);
    fs.cpSync(path.join(moduleDir, 'schema', 'postgresql', 'v12'), path.join(out, 'schema', 'postgresql', 'v12'), { recursive: true });
    fs.mkdirSync(path.join(out, 'config'));
    fs.cpSync(path.join(moduleDir, 'config', 'development-postgres12.yaml'), path.join(out, 'config', 'development-postgres12.yaml'));
    fs.chmodSync(out, 0o755);
    const final = serverDir(toolsDir);
    try {
      fs.renameSync(out, final);
    } catch (e) {
      // Another build renamed its copy into place first: keep that one.
      if (!((e.code === 'ENOTEMPTY' || e.code === 'EEXIST') && current(toolsDir))) throw e;
    }
    return current(toolsDir) ? undefined : `${relative(final)} was built but its binaries do not report version ${VERSION}`;
  } finally {
    if (keepCache) {
      fs.rmSync(out, { recursive: true, force: true });
      fs.rmSync(work, { recursive: true, force: true });
      log(`kept the Go caches in ${relative(staging)} (MRCD_KEEP_GO_CACHE=1)`);
    } else {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }
}

/**
 * The pinned server in .tools, built first if it is not. Resolves with its paths and whether
 * it was built now; rejects with one message saying why when it cannot be.
 */
async function ensureTemporalServer({ toolsDir = TOOLS_DIR, say = log } = {}) {
  const p = paths(toolsDir);
  if (current(toolsDir)) {
    say(`temporal-server ${VERSION} and temporal-sql-tool present in ${relative(p.dir)} (version ${reportedVersion(p.server)})`);
    return { ...p, built: false };
  }
  const go = findGo();
  if (!go)
    throw new Error(
      `cannot build temporal-server ${VERSION}: no Go toolchain found (go on PATH, /usr/local/go/bin/go, or GO=/path/to/go); install Go ${GO_NEEDED}+`,
    );
  fs.mkdirSync(toolsDir, { recursive: true });
  removeAbandonedStaging(toolsDir, 'temporal-server');
  // A directory left by an older layout or a killed rename: rebuilt from scratch.
  if (fs.existsSync(p.dir)) fs.rmSync(p.dir, { recursive: true, force: true });
  say(
    `building temporal-server ${VERSION} + temporal-sql-tool from the Go module proxy into ${relative(p.dir)} (once; ~10 CPU-minutes: about 5 minutes on 2 idle cores)`,
  );
  const started = Date.now();
  const why = await build(go, toolsDir);
  if (why) throw new Error(`building temporal-server ${VERSION} failed: ${why}. It is needed only by \`npm run test:cluster\`.`);
  say(`built temporal-server ${VERSION} + temporal-sql-tool in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return { ...p, built: true };
}

module.exports = { VERSION, TOOLS_DIR, paths, current, reportedVersion, ensureTemporalServer };

if (require.main === module) {
  const check = process.argv.includes('--check');
  if (check) {
    const ok = current();
    log(
      ok
        ? `temporal-server ${VERSION} present in ${relative(serverDir())}`
        : `temporal-server ${VERSION} missing in ${relative(serverDir())}; run \`node scripts/build-temporal-server.js\``,
    );
    process.exitCode = ok ? 0 : 1;
  } else {
    ensureTemporalServer().then(
      () => (process.exitCode = 0),
      (e) => {
        log(e.message);
        process.exitCode = 1;
      },
    );
  }
}
