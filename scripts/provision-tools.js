#!/usr/bin/env node
// The system programs `npm test` needs besides the Temporal binaries, provisioned on first
// use so that `npm install && npm test` needs nothing installed by hand on a Debian machine:
//
// - Prometheus (the SLO integration tests): Debian's package at an exact version, fetched
//   with `apt-get download` and unpacked with `dpkg-deb -x` into .tools/prometheus-<version>/
//   (no system install, no root needed while the apt lists know the package). ~1 s of
//   download and ~1 s of unpacking once. Looked for in this order: $MRCD_PROMETHEUS_BIN,
//   the .tools copy, /usr/bin/prometheus; provisioned when none is there.
// - Chromium (the Web UI test): too many shared libraries to unpack, so it is the system
//   package: `apt-get install -y --no-install-recommends chromium` when running as root,
//   else one error saying that command. Looked for in this order: $MRCD_CHROMIUM_BIN,
//   /usr/bin/chromium.
//
// At first use rather than in postinstall: a Prometheus is needed only by two test files
// and Chromium by one, and an install of Chromium (~100 MB of packages, root) must not be
// a side effect of `npm install`. Provisioning prints one line; failing, one error that
// names the one command to run. Two test processes may provision Prometheus at once: each
// unpacks into a staging directory of its own and renames it into place (atomic; the
// loser removes its copy).
//
//   node scripts/provision-tools.js [prometheus] [chromium]    provision now (both by default)
//
// Plain JS, like the other installers: usable without tsx.
'use strict';
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const TOOLS_DIR = process.env.MRCD_TOOLS_DIR || path.resolve(__dirname, '..', '.tools');

/** Exact pin: a Prometheus upgrade is a deliberate change (Debian bookworm's package). */
const PROMETHEUS = {
  version: '2.42.0',
  debianVersion: '2.42.0+ds-5+deb12u1',
  // "prometheus, version 2.42.0+ds (branch: debian/sid, revision: 2.42.0+ds-5+deb12u1)"
  reports: /^prometheus, version 2\.42\.0\b/m,
};
const SYSTEM_PROMETHEUS = '/usr/bin/prometheus';
const SYSTEM_CHROMIUM = '/usr/bin/chromium';
const PROVISION_COMMAND = 'node scripts/provision-tools.js prometheus';
const CHROMIUM_COMMAND = 'apt-get install -y --no-install-recommends chromium';

function log(msg) {
  process.stderr.write(`[mrcd] ${msg}\n`);
}

function executable(p) {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Relative to the working directory when under it (".tools/…"), else absolute. */
function relative(p) {
  const r = path.relative(process.cwd(), p);
  return r && !r.startsWith('..') ? r : p;
}

/** Runs a command; resolves with its exit code and output (never rejects). */
function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024, ...opts }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      const missing = err && err.code === 'ENOENT';
      resolve({ code, missing, output: `${stdout}${stderr}${err && !stdout && !stderr ? err.message : ''}`.trim() });
    });
  });
}
const lastLine = (output) => output.split('\n').filter(Boolean).pop() || '(no output)';

/** Where the pinned Prometheus is unpacked, and its binary. */
function prometheusDir(toolsDir = TOOLS_DIR) {
  return path.join(toolsDir, `prometheus-${PROMETHEUS.debianVersion}`);
}
function prometheusBinary(toolsDir = TOOLS_DIR) {
  return path.join(prometheusDir(toolsDir), 'usr', 'bin', 'prometheus');
}

/**
 * Debian's binary looks for its web assets and console templates under /usr/share and /etc;
 * the unpacked copy is told where its own are (only its API is used by the tests, but the
 * UI then works for someone looking at a test's Prometheus).
 */
function prometheusArgs(toolsDir = TOOLS_DIR) {
  const dir = prometheusDir(toolsDir);
  return [
    `--web.local-assets=${path.join(dir, 'usr', 'share', 'prometheus', 'web')}`,
    `--web.console.templates=${path.join(dir, 'etc', 'prometheus', 'consoles')}`,
    `--web.console.libraries=${path.join(dir, 'etc', 'prometheus', 'console_libraries')}`,
  ];
}

/**
 * The Prometheus to run without provisioning: $MRCD_PROMETHEUS_BIN (which must then be
 * executable), the .tools copy, the system's; undefined when there is none.
 */
function findPrometheus({ env = process.env, toolsDir = TOOLS_DIR, systemPath = SYSTEM_PROMETHEUS } = {}) {
  const fromEnv = env.MRCD_PROMETHEUS_BIN;
  if (fromEnv) {
    if (!executable(fromEnv)) throw new Error(`MRCD_PROMETHEUS_BIN=${fromEnv} is not an executable file`);
    return { path: fromEnv, from: 'MRCD_PROMETHEUS_BIN', args: [] };
  }
  if (executable(prometheusBinary(toolsDir))) return { path: prometheusBinary(toolsDir), from: '.tools', args: prometheusArgs(toolsDir) };
  if (executable(systemPath)) return { path: systemPath, from: 'system', args: [] };
  return undefined;
}

const cannotProvision = (why, todo) => new Error(`cannot provision prometheus ${PROMETHEUS.version} (Debian ${PROMETHEUS.debianVersion}): ${why}. ${todo}`);

/** Fetches the pinned .deb into dir (apt-get download), updating the apt lists once when they lack it and we are root. */
async function download(aptGet, dir, uid) {
  const spec = `prometheus=${PROMETHEUS.debianVersion}`;
  let r = await run(aptGet, ['-q', 'download', spec], { cwd: dir });
  if (r.missing) {
    throw cannotProvision('no apt-get here (not Debian)', 'Set MRCD_PROMETHEUS_BIN to a prometheus 2.x binary (https://prometheus.io/download/).');
  }
  // A machine whose apt lists were never fetched (a fresh container) does not know the package yet.
  if (r.code !== 0 && /Unable to locate package|has no candidate/.test(r.output) && uid === 0) {
    const u = await run(aptGet, ['-qq', 'update']);
    if (u.code !== 0) throw cannotProvision(`apt-get update failed: ${lastLine(u.output)}`, `Run \`${PROVISION_COMMAND}\` once Debian's mirror is reachable.`);
    r = await run(aptGet, ['-q', 'download', spec], { cwd: dir });
  }
  if (r.code === 0) return;
  if (/Version '.*' for 'prometheus' was not found/.test(r.output)) {
    throw cannotProvision(
      `Debian's mirror no longer has ${spec} (\`apt-cache policy prometheus\` shows what it has)`,
      'Update the pin in scripts/provision-tools.js, or set MRCD_PROMETHEUS_BIN to a prometheus binary.',
    );
  }
  if (/Unable to locate package|has no candidate/.test(r.output)) {
    throw cannotProvision('the apt lists do not know the package prometheus', `Run \`apt-get update\` as root, then \`${PROVISION_COMMAND}\`.`);
  }
  throw cannotProvision(`apt-get download failed: ${lastLine(r.output)}`, `Run \`${PROVISION_COMMAND}\` once Debian's mirror is reachable.`);
}

/** Downloads and unpacks the pinned Prometheus into a staging directory; returns the unpacked root. */
async function unpackInto(staging, { aptGet, dpkgDeb, uid }) {
  const debs = path.join(staging, 'deb');
  fs.mkdirSync(debs);
  await download(aptGet, debs, uid);
  const deb = fs.readdirSync(debs).find((f) => f.startsWith('prometheus_') && f.endsWith('.deb'));
  if (!deb) throw cannotProvision(`apt-get download left no prometheus_*.deb in ${debs}`, `Run \`${PROVISION_COMMAND}\` to see apt's output.`);
  const file = path.join(debs, deb);
  const fields = await run(dpkgDeb, ['-f', file, 'Package', 'Version']);
  if (fields.missing) throw cannotProvision('no dpkg-deb here (not Debian)', 'Set MRCD_PROMETHEUS_BIN to a prometheus 2.x binary.');
  if (fields.output !== `Package: prometheus\nVersion: ${PROMETHEUS.debianVersion}`) {
    throw cannotProvision(`${deb} is not prometheus ${PROMETHEUS.debianVersion}:\n${fields.output}`, 'Check the apt sources, then run it again.');
  }
  const root = path.join(staging, 'root');
  const x = await run(dpkgDeb, ['-x', file, root]);
  if (x.code !== 0) throw cannotProvision(`dpkg-deb -x failed: ${lastLine(x.output)}`, 'Check free space in .tools/, then run it again.');
  fs.rmSync(debs, { recursive: true, force: true });
  const bin = path.join(root, 'usr', 'bin', 'prometheus');
  const v = await run(bin, ['--version']);
  if (v.code !== 0 || !PROMETHEUS.reports.test(v.output)) {
    throw cannotProvision(
      `the unpacked binary does not report version ${PROMETHEUS.version}: ${lastLine(v.output)}`,
      'Set MRCD_PROMETHEUS_BIN to a prometheus binary.',
    );
  }
  fs.chmodSync(root, 0o755);
  return root;
}

/** Staging directories of provisioning processes that died (killed mid-download) go. */
function removeAbandonedStaging(toolsDir) {
  for (const name of fs.readdirSync(toolsDir)) {
    const pid = Number(/^\.prometheus-staging-(\d+)-/.exec(name)?.[1]);
    if (!pid) continue;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if (e.code === 'ESRCH') fs.rmSync(path.join(toolsDir, name), { recursive: true, force: true });
    }
  }
}

const inFlight = new Map();

/**
 * The pinned Prometheus in .tools, unpacked there first if it is not (one line on stderr).
 * Safe to call from several processes at once: the first rename into place wins.
 */
function provisionPrometheus({ toolsDir = TOOLS_DIR, aptGet = 'apt-get', dpkgDeb = 'dpkg-deb', uid = process.getuid?.(), say = log } = {}) {
  const final = prometheusDir(toolsDir);
  const found = () => ({ path: prometheusBinary(toolsDir), from: '.tools', args: prometheusArgs(toolsDir) });
  if (executable(prometheusBinary(toolsDir))) return Promise.resolve(found());
  if (!inFlight.has(final)) {
    const p = (async () => {
      say(`provisioning prometheus ${PROMETHEUS.version} into ${relative(final)} (first use: apt-get download + dpkg-deb -x, ~20 MB)`);
      fs.mkdirSync(toolsDir, { recursive: true });
      removeAbandonedStaging(toolsDir);
      const staging = fs.mkdtempSync(path.join(toolsDir, `.prometheus-staging-${process.pid}-`));
      try {
        const root = await unpackInto(staging, { aptGet, dpkgDeb, uid });
        try {
          fs.renameSync(root, final);
        } catch (e) {
          // Another process renamed its copy into place first: use that one.
          if (!((e.code === 'ENOTEMPTY' || e.code === 'EEXIST') && executable(prometheusBinary(toolsDir)))) throw e;
        }
      } finally {
        fs.rmSync(staging, { recursive: true, force: true });
      }
      return found();
    })().finally(() => inFlight.delete(final));
    inFlight.set(final, p);
  }
  return inFlight.get(final);
}

/** The Prometheus tests run: the first of findPrometheus's, else the pinned one provisioned into .tools. */
async function ensurePrometheus(opts = {}) {
  return findPrometheus(opts) ?? (await provisionPrometheus(opts));
}

/** The Chromium to drive: $MRCD_CHROMIUM_BIN (which must then be executable), else the system's; undefined when neither. */
function findChromium({ env = process.env, systemPath = SYSTEM_CHROMIUM } = {}) {
  const fromEnv = env.MRCD_CHROMIUM_BIN;
  if (fromEnv) {
    if (!executable(fromEnv)) throw new Error(`MRCD_CHROMIUM_BIN=${fromEnv} is not an executable file`);
    return { path: fromEnv, from: 'MRCD_CHROMIUM_BIN' };
  }
  return executable(systemPath) ? { path: systemPath, from: 'system' } : undefined;
}

/** Installs Debian's chromium when running as root (one line on stderr); else one error naming the command. */
async function provisionChromium({ env = process.env, systemPath = SYSTEM_CHROMIUM, aptGet = 'apt-get', uid = process.getuid?.(), say = log } = {}) {
  const cannot = (why, todo) =>
    new Error(`no Chromium at ${systemPath} for the Web UI test, and ${why}. ${todo} (or set MRCD_CHROMIUM_BIN to a Chromium binary)`);
  if (uid !== 0) throw cannot('not running as root, so not installing it', `Run: sudo ${CHROMIUM_COMMAND}`);
  say(`provisioning chromium with \`${CHROMIUM_COMMAND}\` (first use; ~100 MB of Debian packages, a minute or two)`);
  const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Wait for another apt (a concurrent test, the machine's own) rather than fail on its lock.
  const install = () => run(aptGet, ['-qq', '-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '--no-install-recommends', 'chromium'], { env: aptEnv });
  let r = await install();
  if (r.missing) throw cannot('there is no apt-get here (not Debian)', "Install chromium with the system's package manager");
  if (r.code !== 0 && /Unable to locate package|has no installation candidate/.test(r.output)) {
    const u = await run(aptGet, ['-qq', 'update'], { env: aptEnv });
    if (u.code === 0) r = await install();
  }
  if (r.code !== 0 || !executable(systemPath)) throw cannot(`\`${CHROMIUM_COMMAND}\` failed: ${lastLine(r.output)}`, `Run: ${CHROMIUM_COMMAND}`);
  return findChromium({ env, systemPath });
}

/** The Chromium the Web UI test drives: findChromium's, else Debian's installed now. */
async function ensureChromium(opts = {}) {
  return findChromium(opts) ?? (await provisionChromium(opts));
}

module.exports = {
  TOOLS_DIR,
  PROMETHEUS,
  SYSTEM_PROMETHEUS,
  SYSTEM_CHROMIUM,
  PROVISION_COMMAND,
  CHROMIUM_COMMAND,
  prometheusDir,
  prometheusBinary,
  findPrometheus,
  provisionPrometheus,
  ensurePrometheus,
  findChromium,
  provisionChromium,
  ensureChromium,
};

if (require.main === module) {
  const names = process.argv.slice(2);
  const wanted = names.length ? names : ['prometheus', 'chromium'];
  const ensure = { prometheus: ensurePrometheus, chromium: ensureChromium };
  const unknown = wanted.filter((n) => !ensure[n]);
  if (unknown.length) {
    log(`unknown tool ${unknown.join(', ')}; known: prometheus, chromium`);
    process.exitCode = 2;
  } else {
    (async () => {
      for (const name of wanted) {
        const t = await ensure[name]();
        log(`${name}: ${t.path} (${t.from})`);
      }
    })().catch((e) => {
      log(e.message);
      process.exitCode = 1;
    });
  }
}
