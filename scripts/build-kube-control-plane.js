#!/usr/bin/env node
// Builds a real Kubernetes control plane for tests, without containers, from the Go module
// proxy into .tools/kube-<version>/: kube-apiserver, kube-controller-manager and
// kube-scheduler (k8s.io/kubernetes; kwok fakes kubelets, not the scheduler), etcd (go.etcd.io/etcd/server/v3) and kwok (sigs.k8s.io/kwok, fake
// nodes and pod status), with kwok's own Stage files (node/fast, node/heartbeat, pod/fast of
// its module's kustomize/stage) copied beside them into stages/. Used by
// dev/kube-control-plane.ts (tests and `MRCD_DEMO=kubernetes npm start`). No PyPI, npm or Debian package ships kube-apiserver.
//
// How: k8s.io/kubernetes cannot be `go install`ed (its go.mod replaces its ~33 staging
// modules k8s.io/api, k8s.io/apiserver, … with directories), so a throwaway wrapper module
// requires it and replaces each staging module with the published k8s.io/<name> v0.<minor>.
// <patch> (the list is read from the module's own go.mod). The same wrapper has a main
// package calling etcdmain.Main, at the etcd version kubernetes itself requires, so the
// four binaries resolve to exactly kubernetes' own dependency versions and build in one
// `go build` (one build cache; the links of one overlap the compiles of the next). kwok's
// go.mod has no replace directives but wants older k8s.io modules, so it is `go install`ed
// on its own graph afterwards with the same caches. Measured on 2 idle cores (Go 1.26.8):
// 6 min 41 s in all (7.7 CPU-minutes): go mod tidy 11 s; the one go build 311 s
// (kube-apiserver linked at 228 s, controller-manager 301 s, scheduler 302 s, etcd 309 s);
// kwok 66 s. ~0.7 GB of module downloads and ~2 GB of build cache, gone afterwards; the
// result is 377 MB (-s -w). Each build prints its own timing line.
//
// Idempotent: when all five binaries report their pinned versions and the stage files are
// there, it prints one line and exits in about a second. Otherwise, if the by-version cache
// outside the clone (${XDG_CACHE_HOME:-~/.cache}/mrcd/kube-<version>/, or
// $MRCD_CACHE_DIR/kube-<version>/) holds a current copy, that is copied in (seconds);
// else it builds, in a staging directory of its own (its own Go module and build caches,
// removed afterwards unless MRCD_KEEP_GO_CACHE=1) renamed into place, so two runs at once
// cannot leave half a tool, and then copies the result to that outer cache, so a fresh
// clone on the same machine does not build again. Exit 1, saying why, when Go is missing,
// too old, or a build fails. Plain JS, like the other installers.
//
//   node scripts/build-kube-control-plane.js [--check]      (npm run kube:provision)
//   GO=/path/to/go             the Go toolchain (default: go on PATH, then /usr/local/go/bin/go)
//   MRCD_TOOLS_DIR=dir         instead of .tools/
//   MRCD_CACHE_DIR=dir         the outer cache, instead of ${XDG_CACHE_HOME:-~/.cache}/mrcd
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { runQuietly } = require('./run-quietly');
const { log, relative, findGo, removeAbandonedStaging } = require('./go-tools');

const TOOLS_DIR = process.env.MRCD_TOOLS_DIR || path.resolve(__dirname, '..', '.tools');

/** Exact pins: an upgrade is a deliberate change. */
const KUBE_VERSION = '1.37.2';
/** The etcd kubernetes v1.37.2 itself requires (its go.mod: go.etcd.io/etcd/server/v3 v3.7.0), so the wrapper's graph is kubernetes' own. */
const ETCD_VERSION = '3.7.0';
const KWOK_VERSION = '0.8.0';
const KUBE_MODULE = 'k8s.io/kubernetes';
const ETCD_MODULE = 'go.etcd.io/etcd/server/v3';
const KWOK_MODULE = 'sigs.k8s.io/kwok';
/** kubernetes' and kwok's go.mod say `go 1.26.0`; GOTOOLCHAIN=local, so an older Go fails with this message rather than downloading one. */
const GO_NEEDED = '1.26.0';
/** kwok's Stage files, from its module's kustomize/stage/: node set-up and heartbeat, pods made Ready (and deleted). */
const STAGE_SETS = ['node/fast', 'node/heartbeat', 'pod/fast'];

const BINARIES = {
  'kube-apiserver': { version: KUBE_VERSION, reports: /Kubernetes v(\S+)/ },
  'kube-controller-manager': { version: KUBE_VERSION, reports: /Kubernetes v(\S+)/ },
  'kube-scheduler': { version: KUBE_VERSION, reports: /Kubernetes v(\S+)/ },
  etcd: { version: ETCD_VERSION, reports: /etcd Version: v?(\S+)/ },
  kwok: { version: KWOK_VERSION, reports: /v(\d+\.\d+\.\d+\S*)/ },
};

const dirName = () => `kube-${KUBE_VERSION}`;
function kubeDir(toolsDir = TOOLS_DIR) {
  return path.join(toolsDir, dirName());
}
/** The by-version cache outside the clone: $MRCD_CACHE_DIR, else ${XDG_CACHE_HOME:-~/.cache}/mrcd. */
function outerCacheRoot(env = process.env) {
  if (env.MRCD_CACHE_DIR) return path.resolve(env.MRCD_CACHE_DIR);
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'mrcd');
}

/** Where everything is once provisioned. */
function paths(toolsDir = TOOLS_DIR) {
  const dir = kubeDir(toolsDir);
  return {
    dir,
    kubeApiserver: path.join(dir, 'kube-apiserver'),
    kubeControllerManager: path.join(dir, 'kube-controller-manager'),
    kubeScheduler: path.join(dir, 'kube-scheduler'),
    etcd: path.join(dir, 'etcd'),
    kwok: path.join(dir, 'kwok'),
    /** kwok's Stage YAML files, one Stage each, to pass as `kwok --config`. */
    stagesDir: path.join(dir, 'stages'),
    versions: { kube: KUBE_VERSION, etcd: ETCD_VERSION, kwok: KWOK_VERSION },
  };
}

/** The stage files in a provisioned directory, sorted. */
function stageFiles(dir) {
  const stages = path.join(dir, 'stages');
  if (!fs.existsSync(stages)) return [];
  return fs
    .readdirSync(stages)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => path.join(stages, f));
}

function seconds(ms) {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** The version a binary reports (`--version`); undefined when it is missing or does not run. */
function reportedVersion(bin, name = path.basename(bin)) {
  if (!fs.existsSync(bin)) return undefined;
  // kwok reads its config from KWOK_WORKDIR (default ~/.kwok): an empty one here.
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, KWOK_WORKDIR: os.tmpdir() } });
  if (r.status !== 0) return undefined;
  return BINARIES[name].reports.exec(`${r.stdout}${r.stderr}`)?.[1];
}

/** Every binary reports its pinned version and every stage set is there. */
function currentIn(dir) {
  return (
    Object.entries(BINARIES).every(([name, b]) => reportedVersion(path.join(dir, name), name) === b.version) && stageFiles(dir).length >= STAGE_SETS.length
  );
}
function current(toolsDir = TOOLS_DIR) {
  return currentIn(kubeDir(toolsDir));
}

/**
 * Copies a provisioned directory to `final` (in another place) through a staging copy beside
 * it, renamed into place; an out-of-date copy there is replaced. Returns false when a
 * current copy did not result.
 */
function copyInto(from, final) {
  const parent = path.dirname(final);
  fs.mkdirSync(parent, { recursive: true });
  removeAbandonedStaging(parent, 'kube');
  const staging = fs.mkdtempSync(path.join(parent, `.kube-staging-${process.pid}-`));
  try {
    const copy = path.join(staging, 'copy');
    fs.cpSync(from, copy, { recursive: true, preserveTimestamps: true });
    if (fs.existsSync(final)) fs.rmSync(final, { recursive: true, force: true });
    try {
      fs.renameSync(copy, final);
    } catch (e) {
      // Another run put its copy there first: keep that one.
      if (!(e.code === 'ENOTEMPTY' || e.code === 'EEXIST')) throw e;
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return currentIn(final);
}

/** The wrapper module: kubernetes with its staging modules replaced by the published ones, and etcd's main. */
function writeWrapperModule(work, kubeGoMod) {
  const stagingModules = [...kubeGoMod.matchAll(/^\s*(k8s\.io\/\S+)\s+=>\s+\.\/staging\//gm)].map((m) => m[1]);
  if (stagingModules.length === 0) throw new Error(`no staging modules found in ${KUBE_MODULE} v${KUBE_VERSION}'s go.mod`);
  const published = `v0.${KUBE_VERSION.split('.').slice(1).join('.')}`;
  fs.writeFileSync(
    path.join(work, 'go.mod'),
    [
      'module mrcd-kube-control-plane',
      '',
      `go ${GO_NEEDED}`,
      '',
      'require (',
      `\t${KUBE_MODULE} v${KUBE_VERSION}`,
      `\t${ETCD_MODULE} v${ETCD_VERSION}`,
      ')',
      '',
      'tool (',
      `\t${KUBE_MODULE}/cmd/kube-apiserver`,
      `\t${KUBE_MODULE}/cmd/kube-controller-manager`,
      `\t${KUBE_MODULE}/cmd/kube-scheduler`,
      ')',
      '',
      'replace (',
      ...stagingModules.map((m) => `\t${m} => ${m} ${published}`),
      ')',
      '',
    ].join('\n'),
  );
  fs.mkdirSync(path.join(work, 'etcd'));
  fs.writeFileSync(
    path.join(work, 'etcd', 'main.go'),
    [
      '// etcd, as the etcd binary of its release: etcdmain.Main.',
      'package main',
      '',
      'import (',
      '\t"os"',
      '',
      `\t"${ETCD_MODULE}/etcdmain"`,
      ')',
      '',
      'func main() { etcdmain.Main(os.Args) }',
      '',
    ].join('\n'),
  );
  return stagingModules.length;
}

/** Builds into a staging directory and renames it into place; returns why it failed, or undefined. */
async function build(go, toolsDir, say) {
  const staging = fs.mkdtempSync(path.join(toolsDir, `.kube-staging-${process.pid}-`));
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
  const times = [];
  const step = async (what, args, opts = {}) => {
    const started = Date.now();
    const r = await runQuietly(go, args, { cwd: work, env, ...opts });
    times.push(`${what} ${seconds(Date.now() - started)}`);
    if (r.status === 0) return undefined;
    process.stderr.write(`${r.output.split('\n').slice(-30).join('\n')}\n`);
    if (/requires go >= |toolchain not available|go\.mod requires go/.test(r.output)) {
      return `${what}: needs Go ${GO_NEEDED} or newer (\`${go} version\` is older)`;
    }
    return `\`go ${args.join(' ')}\` failed (${r.error ? r.error.message : `exit ${r.status}`})`;
  };
  try {
    let why = await step('download', ['mod', 'download', '-json', `${KUBE_MODULE}@v${KUBE_VERSION}`], { cwd: staging });
    if (why) return why;
    const kubeGoMod = fs.readFileSync(path.join(env.GOMODCACHE, 'cache', 'download', KUBE_MODULE, '@v', `v${KUBE_VERSION}.mod`), 'utf8');
    const staged = writeWrapperModule(work, kubeGoMod);
    why = await step(`go mod tidy (${staged} staging modules replaced)`, ['mod', 'tidy']);
    if (why) return why;

    // kube-apiserver, kube-controller-manager, kube-scheduler and etcd in one build: one action graph, the
    // shared packages (client-go, apimachinery, grpc, …) compiled once, links overlapping
    // compiles. -s -w as kubernetes' own release builds: no symbol table or DWARF (a third
    // smaller, faster links). gitVersion (and major/minor) as kubernetes' build sets them:
    // without it the version reads v0.0.0-master and clients cannot parse it.
    const [major, minor] = KUBE_VERSION.split('.');
    const v = 'k8s.io/component-base/version';
    const ldflags = `-s -w -X ${v}.gitVersion=v${KUBE_VERSION} -X ${v}.gitMajor=${major} -X ${v}.gitMinor=${minor} -X ${v}.gitTreeState=clean`;
    const buildStarted = Date.now();
    why = await step('go build kube-apiserver + kube-controller-manager + kube-scheduler + etcd', [
      'build',
      '-ldflags',
      ldflags,
      '-o',
      `${out}${path.sep}`,
      `${KUBE_MODULE}/cmd/kube-apiserver`,
      `${KUBE_MODULE}/cmd/kube-controller-manager`,
      `${KUBE_MODULE}/cmd/kube-scheduler`,
      './etcd',
    ]);
    if (why) return why;
    // Each binary's output time, from the start of that build: when it was linked.
    const done = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']
      .map((b) => ({ b, at: fs.statSync(path.join(out, b)).mtimeMs - buildStarted }))
      .sort((x, y) => x.at - y.at)
      .map(({ b, at }) => `${b} at ${seconds(at)}`);
    times.push(`(${done.join(', ')})`);

    // kwok on its own module graph (`go install …@version`: no replace directives), same caches.
    why = await step('go install kwok', ['install', '-ldflags', '-s -w', `${KWOK_MODULE}/cmd/kwok@v${KWOK_VERSION}`], { cwd: staging });
    if (why) return why;
    fs.renameSync(path.join(gobin, 'kwok'), path.join(out, 'kwok'));
    const kwokDir = path.join(env.GOMODCACHE, `${KWOK_MODULE}@v${KWOK_VERSION}`);
    fs.mkdirSync(path.join(out, 'stages'));
    for (const set of STAGE_SETS) {
      const from = path.join(kwokDir, 'kustomize', 'stage', set);
      const files = fs.readdirSync(from).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
      if (files.length === 0) return `kwok v${KWOK_VERSION} has no Stage files in kustomize/stage/${set}`;
      for (const f of files) {
        fs.copyFileSync(path.join(from, f), path.join(out, 'stages', f));
        fs.chmodSync(path.join(out, 'stages', f), 0o644); // read-only in the module cache
      }
    }
    fs.writeFileSync(
      path.join(out, 'VERSIONS'),
      `kubernetes v${KUBE_VERSION} (${KUBE_MODULE}, staging modules at published v0 versions)\n` +
        `etcd v${ETCD_VERSION} (${ETCD_MODULE}/etcdmain)\n` +
        `kwok v${KWOK_VERSION} (${KWOK_MODULE}/cmd/kwok; stages from kustomize/stage/{${STAGE_SETS.join(',')}})\n` +
        `built with ${spawnSync(go, ['version'], { encoding: 'utf8' }).stdout.trim()} by scripts/build-kube-control-plane.js\n`,
    );
    fs.chmodSync(out, 0o755);
    const final = kubeDir(toolsDir);
    try {
      fs.renameSync(out, final);
    } catch (e) {
      // Another build renamed its copy into place first: keep that one.
      if (!((e.code === 'ENOTEMPTY' || e.code === 'EEXIST') && current(toolsDir))) throw e;
    }
    say(`build steps: ${times.join('; ')}`);
    return current(toolsDir) ? undefined : `${relative(final)} was built but its binaries do not report the pinned versions`;
  } catch (e) {
    return e.message;
  } finally {
    if (keepCache) {
      fs.rmSync(out, { recursive: true, force: true });
      log(`kept the Go caches in ${relative(staging)} (MRCD_KEEP_GO_CACHE=1)`);
    } else {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }
}

/**
 * The pinned control plane in .tools: copied in from the outer cache when that has it, else
 * built (and then copied to the outer cache). Resolves with its paths and how it got there;
 * rejects with one message saying why when it cannot be had.
 */
async function ensureKubeControlPlane({ toolsDir = TOOLS_DIR, cacheRoot = outerCacheRoot(), say = log } = {}) {
  const p = paths(toolsDir);
  const what = `kube-apiserver + kube-controller-manager + kube-scheduler ${KUBE_VERSION}, etcd ${ETCD_VERSION}, kwok ${KWOK_VERSION}`;
  const started = Date.now();
  if (current(toolsDir)) {
    say(`${what} present in ${relative(p.dir)} (checked in ${seconds(Date.now() - started)})`);
    return { ...p, stageFiles: stageFiles(p.dir), from: 'present' };
  }
  fs.mkdirSync(toolsDir, { recursive: true });
  removeAbandonedStaging(toolsDir, 'kube');
  const cached = path.join(cacheRoot, dirName());
  if (currentIn(cached)) {
    if (copyInto(cached, p.dir)) {
      say(`${what}: copied from the cache ${cached} into ${relative(p.dir)} in ${seconds(Date.now() - started)} (no build)`);
      return { ...p, stageFiles: stageFiles(p.dir), from: 'cache' };
    }
    say(`the copy from ${cached} is not current; building instead`);
  }
  const go = findGo();
  if (!go) throw new Error(`cannot build ${what}: no Go toolchain found (go on PATH, /usr/local/go/bin/go, or GO=/path/to/go); install Go ${GO_NEEDED}+`);
  // A directory left by an older pin or a killed rename: rebuilt from scratch.
  if (fs.existsSync(p.dir)) fs.rmSync(p.dir, { recursive: true, force: true });
  say(`building ${what} from the Go module proxy into ${relative(p.dir)} (once per machine; about 7 minutes on 2 idle cores)`);
  const why = await build(go, toolsDir, say);
  if (why) throw new Error(`building the Kubernetes control plane failed: ${why}`);
  const built = Date.now() - started;
  let cachedNote;
  try {
    const t = Date.now();
    cachedNote = copyInto(p.dir, cached) ? `, copied to the cache ${cached} in ${seconds(Date.now() - t)}` : `; the copy to ${cached} is not current`;
  } catch (e) {
    cachedNote = `; not copied to the cache ${cached}: ${e.message}`;
  }
  say(`${what}: built into ${relative(p.dir)} in ${seconds(built)}${cachedNote}`);
  return { ...p, stageFiles: stageFiles(p.dir), from: 'built' };
}

module.exports = {
  KUBE_VERSION,
  ETCD_VERSION,
  KWOK_VERSION,
  TOOLS_DIR,
  outerCacheRoot,
  paths,
  stageFiles,
  current,
  reportedVersion,
  ensureKubeControlPlane,
};

if (require.main === module) {
  const check = process.argv.includes('--check');
  if (check) {
    const ok = current();
    log(
      ok
        ? `kube ${KUBE_VERSION} control plane present in ${relative(kubeDir())}`
        : `kube ${KUBE_VERSION} control plane missing in ${relative(kubeDir())}; run \`node scripts/build-kube-control-plane.js\``,
    );
    process.exitCode = ok ? 0 : 1;
  } else {
    ensureKubeControlPlane().then(
      () => (process.exitCode = 0),
      (e) => {
        log(e.message);
        process.exitCode = 1;
      },
    );
  }
}
