#!/usr/bin/env node
// Builds the legacy Temporal CLI, tctl, into .tools/tctl/tctl from the Go module proxy, for
// the CI recipes of docs/ci.md that still use it (and their test, test/integration/
// ci-recipes.test.ts). tctl is on neither PyPI nor npm, and the proxy serves only v1.18.0
// while refusing the version list, so `go install …@v1.18.0` fails; a throwaway wrapper
// module that requires it and builds its main package works (about 2 minutes once on 2
// cores). Also builds actionlint, the GitHub Actions workflow linter the same test runs over
// docs/ci/github-actions.yml, the same way.
//
// Idempotent: a binary that exists and reports its pinned version is kept (a fraction of a
// second). Not part of `npm install`: 3 minutes and ~2 GB of downloads for a legacy tool most
// users never run. The test runs it in its before hook; CI can run it as a step of its own.
// Exit 1, saying why, when Go is missing or a build fails.
// Go's module and build caches go to .tools/go/ (writable, so `rm -rf .tools` works) and are
// removed after a successful build (~2 GB; MRCD_KEEP_GO_CACHE=1 keeps them). Plain JS: it
// runs before dependencies are usable.
//
//   node scripts/install-tctl.js [--check] [tctl|actionlint ...]
//   GO=/path/to/go             the Go toolchain (default: go on PATH, then /usr/local/go/bin/go)
//   MRCD_TOOLS_DIR=dir         instead of .tools/ (as for the Temporal binaries)
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { runQuietly } = require('./run-quietly');
const { log, findGo } = require('./go-tools');

const TOOLS_DIR = process.env.MRCD_TOOLS_DIR || path.resolve(__dirname, '..', '.tools');
const GO_DIR = path.join(TOOLS_DIR, 'go');

/** Exact pins, like the Temporal binaries: a tool upgrade is a deliberate change. */
const GO_TOOLS = [
  {
    key: 'tctl',
    module: 'github.com/temporalio/tctl',
    pkg: 'github.com/temporalio/tctl/cmd/tctl',
    version: 'v1.18.0',
    out: path.join(TOOLS_DIR, 'tctl', 'tctl'),
    versionArgs: ['--version'],
    takes: 'about 3 minutes on 2 cores',
    // "tctl version 1.18.0"
    reports: /^tctl version 1\.18\.0$/m,
  },
  {
    key: 'actionlint',
    module: 'github.com/rhysd/actionlint',
    pkg: 'github.com/rhysd/actionlint/cmd/actionlint',
    version: 'v1.7.12',
    out: path.join(TOOLS_DIR, 'actionlint', 'actionlint'),
    versionArgs: ['-version'],
    takes: 'under a minute',
    // "v1.7.12\ninstalled by building from source…"
    reports: /^v1\.7\.12$/m,
  },
];

/** The binary exists and reports its pinned version. */
function current(tool) {
  if (!fs.existsSync(tool.out)) return false;
  const r = spawnSync(tool.out, tool.versionArgs, { encoding: 'utf8', timeout: 10_000, env: toolEnv() });
  return r.status === 0 && tool.reports.test(`${r.stdout}${r.stderr}`);
}

/** tctl writes ~/.config/temporalio/tctl.yaml on every run; a version check should not. */
function toolEnv() {
  const home = path.join(os.tmpdir(), 'mrcd-tctl-version-home');
  fs.mkdirSync(home, { recursive: true });
  return { ...process.env, HOME: home };
}

async function build(go, tool) {
  const work = fs.mkdtempSync(path.join(GO_DIR, `build-${tool.key}-`));
  const env = {
    ...process.env,
    GOPATH: path.join(GO_DIR, 'path'),
    GOMODCACHE: path.join(GO_DIR, 'mod'),
    GOCACHE: path.join(GO_DIR, 'cache'),
    GOFLAGS: '-modcacherw -buildvcs=false',
    GOTOOLCHAIN: 'local',
    CGO_ENABLED: '0',
    GO111MODULE: 'on',
  };
  const started = Date.now();
  try {
    const steps = [
      ['mod', 'init', `mrcd-build-${tool.key}`],
      ['get', `${tool.pkg}@${tool.version}`],
      ['build', '-trimpath', '-o', tool.out, tool.pkg],
    ];
    fs.mkdirSync(path.dirname(tool.out), { recursive: true });
    for (const args of steps) {
      const r = await runQuietly(go, args, { cwd: work, env });
      if (r.status !== 0) {
        process.stderr.write(r.output.split('\n').slice(-40).join('\n'));
        return `\`go ${args.join(' ')}\` failed (${r.error ? r.error.message : `exit ${r.status}`})`;
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  if (!current(tool)) return `${tool.out} was built but does not report version ${tool.version}`;
  log(`built ${tool.key} ${tool.version} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return undefined;
}

async function main(argv) {
  const check = argv.includes('--check');
  const names = argv.filter((a) => !a.startsWith('--'));
  const tools = names.length ? GO_TOOLS.filter((t) => names.includes(t.key)) : GO_TOOLS;
  if (names.length && tools.length !== names.length) {
    log(`unknown tool in ${names.join(' ')}; known: ${GO_TOOLS.map((t) => t.key).join(', ')}`);
    return 2;
  }
  const missing = tools.filter((t) => !current(t));
  if (missing.length === 0) {
    log(`${tools.map((t) => `${t.key} ${t.version}`).join(', ')} present in ${path.relative(process.cwd(), TOOLS_DIR) || TOOLS_DIR}`);
    return 0;
  }
  if (check) {
    log(`missing: ${missing.map((t) => `${t.key} ${t.version} (${t.out})`).join(', ')}; run \`node scripts/install-tctl.js\``);
    return 1;
  }
  const failed = (why) => {
    log(`${why}. tctl and actionlint are needed only by the legacy CI recipes and their test (docs/ci.md).`);
    return 1;
  };
  const go = findGo();
  if (!go) return failed('cannot build tctl/actionlint: no Go toolchain found (go on PATH, /usr/local/go/bin/go, or GO=/path/to/go); install Go 1.21+');
  fs.mkdirSync(GO_DIR, { recursive: true });
  for (const tool of missing) {
    log(`building ${tool.key} ${tool.version} from the Go module proxy into ${path.relative(process.cwd(), tool.out)} (once; ${tool.takes})`);
    const why = await build(go, tool);
    if (why) return failed(`building ${tool.key} ${tool.version} failed: ${why}`);
  }
  // tctl's module graph (the Temporal server's dependencies) fills ~1.5 GB of module cache and
  // ~0.6 GB of build cache; the binaries are what is needed. MRCD_KEEP_GO_CACHE=1 keeps them.
  if (process.env.MRCD_KEEP_GO_CACHE !== '1') fs.rmSync(GO_DIR, { recursive: true, force: true });
  return 0;
}

module.exports = { GO_TOOLS, current };

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e) => {
      log(`install-tctl failed: ${e.stack || e}`);
      process.exitCode = 1;
    },
  );
}
