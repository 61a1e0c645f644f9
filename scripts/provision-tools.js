#!/usr/bin/env node
// The system programs `npm test` needs besides the Temporal binaries, provisioned on first
// use so that `npm install && npm test` needs nothing installed by hand on a Debian machine:
//
// - Prometheus (the SLO integration tests) and Alertmanager (the alert-blocker test):
//   Debian's packages at exact versions, fetched with `apt-get download` and unpacked with
//   `dpkg-deb -x` into .tools/prometheus-<version>/ and .tools/alertmanager-<version>/ (no
//   system install, no root needed while the apt lists know the packages). ~1 s of download
//   and ~1 s of unpacking once each. Looked for in this order: $MRCD_PROMETHEUS_BIN
//   ($MRCD_ALERTMANAGER_BIN), the .tools copy, /usr/bin/prometheus
//   (/usr/bin/prometheus-alertmanager); provisioned when none is there.
//   Debian's Alertmanager reads its notification templates from
//   /usr/share/prometheus/alertmanager/ (Debian's patch replacing upstream's embedded copies;
//   no flag moves them, and it exits without them), so the unpacked copy has that one path
//   constant rewritten to the relative path of the same length
//   `usr/share/prometheus/alertmanager/`, and runs with its unpacked root as working
//   directory (`cwd` of what findAlertmanager returns). The alternatives were worse: the
//   system package starts a daemon listening on every interface on a systemd host, and a
//   private mount namespace needs privileges many CI machines do not give.
// - Chromium (the Web UI test) and R (Rscript, the numeric oracle of the statistics tests):
//   too many shared libraries to unpack, so they are the system packages:
//   `apt-get install -y --no-install-recommends chromium` (r-base-core) when running as root,
//   else one error saying that command. Looked for in this order: $MRCD_CHROMIUM_BIN
//   ($MRCD_RSCRIPT_BIN), /usr/bin/chromium (/usr/bin/Rscript).
//
// At first use rather than in postinstall: a Prometheus is needed only by a few test files,
// an Alertmanager and Chromium by one each, R by the statistics tests, and an install of
// Chromium (~100 MB of packages, root) must not be a side effect of `npm install`.
// Provisioning prints one line; failing, one error that names the one command to run. Two
// test processes may provision the same tool at once: each unpacks into a staging directory
// of its own and renames it into place (atomic; the loser removes its copy).
//
//   node scripts/provision-tools.js [prometheus] [alertmanager] [chromium] [rscript]    provision now (all by default)
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
/** Exact pin: Debian bookworm's Alertmanager, the one `apt-cache madison prometheus-alertmanager` lists. */
const ALERTMANAGER = {
  version: '0.25.0',
  debianVersion: '0.25.0-1+b4',
  // "alertmanager, version 0.25.0 (branch: debian/sid, revision: 0.25.0-1+b4)"
  reports: /^alertmanager, version 0\.25\.0\b/m,
};
const SYSTEM_PROMETHEUS = '/usr/bin/prometheus';
const SYSTEM_ALERTMANAGER = '/usr/bin/prometheus-alertmanager';
const SYSTEM_CHROMIUM = '/usr/bin/chromium';
const SYSTEM_RSCRIPT = '/usr/bin/Rscript';
const PROVISION_COMMAND = 'node scripts/provision-tools.js prometheus';
const ALERTMANAGER_COMMAND = 'node scripts/provision-tools.js alertmanager';
const CHROMIUM_COMMAND = 'apt-get install -y --no-install-recommends chromium';
const RSCRIPT_COMMAND = 'apt-get install -y --no-install-recommends r-base-core';

/** Where Debian's Alertmanager looks for default.tmpl and email.tmpl, and what the unpacked copy looks for instead (same length: a string constant in the binary). */
const ALERTMANAGER_TEMPLATES = '/usr/share/prometheus/alertmanager';
const ALERTMANAGER_TEMPLATES_RELATIVE = 'usr/share/prometheus/alertmanager/';

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

/**
 * What differs between the tools unpacked from a Debian package: names, pins, where the
 * binary sits in the package, the fallback the errors offer, and what the unpacked copy
 * needs to run where it is.
 */
const DEBIAN_TOOLS = {
  prometheus: {
    name: 'prometheus',
    pin: PROMETHEUS,
    package: 'prometheus',
    binary: ['usr', 'bin', 'prometheus'],
    envVar: 'MRCD_PROMETHEUS_BIN',
    systemPath: SYSTEM_PROMETHEUS,
    command: PROVISION_COMMAND,
    size: '~20 MB',
    fallback: 'a prometheus 2.x binary',
    download: 'https://prometheus.io/download/',
    /**
     * Debian's binary looks for its web assets and console templates under /usr/share and /etc;
     * the unpacked copy is told where its own are (only its API is used by the tests, but the
     * UI then works for someone looking at a test's Prometheus).
     */
    runsWith: (dir) => ({
      args: [
        `--web.local-assets=${path.join(dir, 'usr', 'share', 'prometheus', 'web')}`,
        `--web.console.templates=${path.join(dir, 'etc', 'prometheus', 'consoles')}`,
        `--web.console.libraries=${path.join(dir, 'etc', 'prometheus', 'console_libraries')}`,
      ],
    }),
  },
  alertmanager: {
    name: 'alertmanager',
    pin: ALERTMANAGER,
    package: 'prometheus-alertmanager',
    binary: ['usr', 'bin', 'prometheus-alertmanager'],
    envVar: 'MRCD_ALERTMANAGER_BIN',
    systemPath: SYSTEM_ALERTMANAGER,
    command: ALERTMANAGER_COMMAND,
    size: '~11 MB',
    fallback: 'an alertmanager 0.2x binary',
    download: 'https://prometheus.io/download/#alertmanager',
    // The templates path is relative once relocated (see the header): the working directory
    // makes it the unpacked one, and the UI path is given outright.
    runsWith: (dir) => ({ args: [`--web.ui-path=${path.join(dir, 'usr', 'share', 'prometheus', 'alertmanager', 'ui')}/`], cwd: dir }),
    prepare: relocateAlertmanagerTemplates,
  },
};

/** Where a pinned tool is unpacked, and its binary. */
function debianToolDir(tool, toolsDir = TOOLS_DIR) {
  return path.join(toolsDir, `${tool.name}-${tool.pin.debianVersion}`);
}
function debianToolBinary(tool, toolsDir = TOOLS_DIR) {
  return path.join(debianToolDir(tool, toolsDir), ...tool.binary);
}
const prometheusDir = (toolsDir) => debianToolDir(DEBIAN_TOOLS.prometheus, toolsDir);
const prometheusBinary = (toolsDir) => debianToolBinary(DEBIAN_TOOLS.prometheus, toolsDir);
const alertmanagerDir = (toolsDir) => debianToolDir(DEBIAN_TOOLS.alertmanager, toolsDir);
const alertmanagerBinary = (toolsDir) => debianToolBinary(DEBIAN_TOOLS.alertmanager, toolsDir);

/**
 * The tool to run without provisioning: its $MRCD_*_BIN (which must then be executable), the
 * .tools copy, the system's; undefined when there is none.
 */
function findDebianTool(tool, { env = process.env, toolsDir = TOOLS_DIR, systemPath = tool.systemPath } = {}) {
  const fromEnv = env[tool.envVar];
  if (fromEnv) {
    if (!executable(fromEnv)) throw new Error(`${tool.envVar}=${fromEnv} is not an executable file`);
    return { path: fromEnv, from: tool.envVar, args: [] };
  }
  const local = debianToolBinary(tool, toolsDir);
  if (executable(local)) return { path: local, from: '.tools', ...tool.runsWith(debianToolDir(tool, toolsDir)) };
  if (executable(systemPath)) return { path: systemPath, from: 'system', args: [] };
  return undefined;
}

const cannotProvision = (tool, why, todo) => new Error(`cannot provision ${tool.name} ${tool.pin.version} (Debian ${tool.pin.debianVersion}): ${why}. ${todo}`);

/** Fetches the pinned .deb into dir (apt-get download), updating the apt lists once when they lack it and we are root. */
async function download(tool, aptGet, dir, uid) {
  const spec = `${tool.package}=${tool.pin.debianVersion}`;
  let r = await run(aptGet, ['-q', 'download', spec], { cwd: dir });
  if (r.missing) {
    throw cannotProvision(tool, 'no apt-get here (not Debian)', `Set ${tool.envVar} to ${tool.fallback} (${tool.download}).`);
  }
  // A machine whose apt lists were never fetched (a fresh container) does not know the package yet.
  if (r.code !== 0 && /Unable to locate package|has no candidate/.test(r.output) && uid === 0) {
    const u = await run(aptGet, ['-qq', 'update']);
    if (u.code !== 0) throw cannotProvision(tool, `apt-get update failed: ${lastLine(u.output)}`, `Run \`${tool.command}\` once Debian's mirror is reachable.`);
    r = await run(aptGet, ['-q', 'download', spec], { cwd: dir });
  }
  if (r.code === 0) return;
  if (r.output.includes(`' for '${tool.package}' was not found`)) {
    throw cannotProvision(
      tool,
      `Debian's mirror no longer has ${spec} (\`apt-cache policy ${tool.package}\` shows what it has)`,
      `Update the pin in scripts/provision-tools.js, or set ${tool.envVar} to a ${tool.name} binary.`,
    );
  }
  if (/Unable to locate package|has no candidate/.test(r.output)) {
    throw cannotProvision(tool, `the apt lists do not know the package ${tool.package}`, `Run \`apt-get update\` as root, then \`${tool.command}\`.`);
  }
  throw cannotProvision(tool, `apt-get download failed: ${lastLine(r.output)}`, `Run \`${tool.command}\` once Debian's mirror is reachable.`);
}

/**
 * Points the unpacked Alertmanager at its own templates: every occurrence of the absolute
 * path in the binary (the templates' directory, and the UI paths that start with it) becomes
 * the relative one. Refuses a binary without it, or without the templates next to it.
 */
function relocateAlertmanagerTemplates(root, tool) {
  const bin = path.join(root, ...tool.binary);
  const from = Buffer.from(ALERTMANAGER_TEMPLATES);
  const to = Buffer.from(ALERTMANAGER_TEMPLATES_RELATIVE);
  const data = fs.readFileSync(bin);
  let found = 0;
  for (let at = data.indexOf(from); at >= 0; at = data.indexOf(from, at + from.length)) {
    to.copy(data, at);
    found++;
  }
  const missing = ['default.tmpl', 'email.tmpl'].filter((f) => !fs.existsSync(path.join(root, ALERTMANAGER_TEMPLATES_RELATIVE, f)));
  if (found === 0 || missing.length) {
    throw cannotProvision(
      tool,
      `the package does not read its templates from ${ALERTMANAGER_TEMPLATES}/ as expected (${found} references in the binary; missing: ${missing.join(', ') || 'none'})`,
      `Set ${tool.envVar} to ${tool.fallback}.`,
    );
  }
  fs.writeFileSync(bin, data);
}

/** Downloads and unpacks the pinned package into a staging directory; returns the unpacked root. */
async function unpackInto(tool, staging, { aptGet, dpkgDeb, uid }) {
  const debs = path.join(staging, 'deb');
  fs.mkdirSync(debs);
  await download(tool, aptGet, debs, uid);
  const deb = fs.readdirSync(debs).find((f) => f.startsWith(`${tool.package}_`) && f.endsWith('.deb'));
  if (!deb) throw cannotProvision(tool, `apt-get download left no ${tool.package}_*.deb in ${debs}`, `Run \`${tool.command}\` to see apt's output.`);
  const file = path.join(debs, deb);
  const fields = await run(dpkgDeb, ['-f', file, 'Package', 'Version']);
  if (fields.missing) throw cannotProvision(tool, 'no dpkg-deb here (not Debian)', `Set ${tool.envVar} to ${tool.fallback}.`);
  if (fields.output !== `Package: ${tool.package}\nVersion: ${tool.pin.debianVersion}`) {
    throw cannotProvision(tool, `${deb} is not ${tool.package} ${tool.pin.debianVersion}:\n${fields.output}`, 'Check the apt sources, then run it again.');
  }
  const root = path.join(staging, 'root');
  const x = await run(dpkgDeb, ['-x', file, root]);
  if (x.code !== 0) throw cannotProvision(tool, `dpkg-deb -x failed: ${lastLine(x.output)}`, 'Check free space in .tools/, then run it again.');
  fs.rmSync(debs, { recursive: true, force: true });
  tool.prepare?.(root, tool);
  const bin = path.join(root, ...tool.binary);
  const v = await run(bin, ['--version']);
  if (v.code !== 0 || !tool.pin.reports.test(v.output)) {
    throw cannotProvision(
      tool,
      `the unpacked binary does not report version ${tool.pin.version}: ${lastLine(v.output)}`,
      `Set ${tool.envVar} to a ${tool.name} binary.`,
    );
  }
  fs.chmodSync(root, 0o755);
  return root;
}

/** Staging directories of provisioning processes that died (killed mid-download) go. */
function removeAbandonedStaging(toolsDir) {
  for (const name of fs.readdirSync(toolsDir)) {
    const pid = Number(/^\.[a-z]+-staging-(\d+)-/.exec(name)?.[1]);
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
 * The pinned tool in .tools, unpacked there first if it is not (one line on stderr).
 * Safe to call from several processes at once: the first rename into place wins.
 */
function provisionDebianTool(tool, { toolsDir = TOOLS_DIR, aptGet = 'apt-get', dpkgDeb = 'dpkg-deb', uid = process.getuid?.(), say = log } = {}) {
  const final = debianToolDir(tool, toolsDir);
  const found = () => ({ path: debianToolBinary(tool, toolsDir), from: '.tools', ...tool.runsWith(final) });
  if (executable(debianToolBinary(tool, toolsDir))) return Promise.resolve(found());
  if (!inFlight.has(final)) {
    const p = (async () => {
      say(`provisioning ${tool.name} ${tool.pin.version} into ${relative(final)} (first use: apt-get download + dpkg-deb -x, ${tool.size})`);
      fs.mkdirSync(toolsDir, { recursive: true });
      removeAbandonedStaging(toolsDir);
      const staging = fs.mkdtempSync(path.join(toolsDir, `.${tool.name}-staging-${process.pid}-`));
      try {
        const root = await unpackInto(tool, staging, { aptGet, dpkgDeb, uid });
        try {
          fs.renameSync(root, final);
        } catch (e) {
          // Another process renamed its copy into place first: use that one.
          if (!((e.code === 'ENOTEMPTY' || e.code === 'EEXIST') && executable(debianToolBinary(tool, toolsDir)))) throw e;
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

const findPrometheus = (opts) => findDebianTool(DEBIAN_TOOLS.prometheus, opts);
const provisionPrometheus = (opts) => provisionDebianTool(DEBIAN_TOOLS.prometheus, opts);
/** The Prometheus tests run: the first of findPrometheus's, else the pinned one provisioned into .tools. */
async function ensurePrometheus(opts = {}) {
  return findPrometheus(opts) ?? (await provisionPrometheus(opts));
}

const findAlertmanager = (opts) => findDebianTool(DEBIAN_TOOLS.alertmanager, opts);
const provisionAlertmanager = (opts) => provisionDebianTool(DEBIAN_TOOLS.alertmanager, opts);
/** The Alertmanager tests run: the first of findAlertmanager's, else the pinned one provisioned into .tools. */
async function ensureAlertmanager(opts = {}) {
  return findAlertmanager(opts) ?? (await provisionAlertmanager(opts));
}

/**
 * What differs between the tools installed as Debian's system packages: names, the package,
 * the variable that overrides the system path, and what an install costs.
 */
const SYSTEM_TOOLS = {
  chromium: {
    name: 'chromium',
    label: 'Chromium',
    neededBy: 'the Web UI test',
    package: 'chromium',
    envVar: 'MRCD_CHROMIUM_BIN',
    systemPath: SYSTEM_CHROMIUM,
    command: CHROMIUM_COMMAND,
    size: '~100 MB of Debian packages, a minute or two',
    fallback: 'a Chromium binary',
  },
  rscript: {
    name: 'rscript',
    label: 'Rscript',
    neededBy: "the statistics tests' R oracle",
    package: 'r-base-core',
    envVar: 'MRCD_RSCRIPT_BIN',
    systemPath: SYSTEM_RSCRIPT,
    command: RSCRIPT_COMMAND,
    size: '~50 MB of Debian packages, a minute',
    fallback: 'an Rscript binary',
  },
};

/** The system tool: its $MRCD_*_BIN (which must then be executable), else the system's; undefined when neither. */
function findSystemTool(tool, { env = process.env, systemPath = tool.systemPath } = {}) {
  const fromEnv = env[tool.envVar];
  if (fromEnv) {
    if (!executable(fromEnv)) throw new Error(`${tool.envVar}=${fromEnv} is not an executable file`);
    return { path: fromEnv, from: tool.envVar };
  }
  return executable(systemPath) ? { path: systemPath, from: 'system' } : undefined;
}

/** Installs the Debian package when running as root (one line on stderr); else one error naming the command. */
async function provisionSystemTool(tool, { env = process.env, systemPath = tool.systemPath, aptGet = 'apt-get', uid = process.getuid?.(), say = log } = {}) {
  const cannot = (why, todo) =>
    new Error(`no ${tool.label} at ${systemPath} for ${tool.neededBy}, and ${why}. ${todo} (or set ${tool.envVar} to ${tool.fallback})`);
  if (uid !== 0) throw cannot('not running as root, so not installing it', `Run: sudo ${tool.command}`);
  say(`provisioning ${tool.name} with \`${tool.command}\` (first use; ${tool.size})`);
  const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Wait for another apt (a concurrent test, the machine's own) rather than fail on its lock.
  const install = () => run(aptGet, ['-qq', '-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '--no-install-recommends', tool.package], { env: aptEnv });
  let r = await install();
  if (r.missing) throw cannot('there is no apt-get here (not Debian)', `Install ${tool.package} with the system's package manager`);
  if (r.code !== 0 && /Unable to locate package|has no installation candidate/.test(r.output)) {
    const u = await run(aptGet, ['-qq', 'update'], { env: aptEnv });
    if (u.code === 0) r = await install();
  }
  if (r.code !== 0 || !executable(systemPath)) throw cannot(`\`${tool.command}\` failed: ${lastLine(r.output)}`, `Run: ${tool.command}`);
  return findSystemTool(tool, { env, systemPath });
}

/** The Chromium to drive: $MRCD_CHROMIUM_BIN (which must then be executable), else the system's; undefined when neither. */
const findChromium = (opts) => findSystemTool(SYSTEM_TOOLS.chromium, opts);
/** Installs Debian's chromium when running as root (one line on stderr); else one error naming the command. */
const provisionChromium = (opts) => provisionSystemTool(SYSTEM_TOOLS.chromium, opts);
/** The Chromium the Web UI test drives: findChromium's, else Debian's installed now. */
async function ensureChromium(opts = {}) {
  return findChromium(opts) ?? (await provisionChromium(opts));
}

/** The Rscript of the statistics tests' oracle: $MRCD_RSCRIPT_BIN (which must then be executable), else /usr/bin/Rscript; undefined when neither. */
const findRscript = (opts) => findSystemTool(SYSTEM_TOOLS.rscript, opts);
/** Installs Debian's r-base-core when running as root (one line on stderr); else one error naming the command. */
const provisionRscript = (opts) => provisionSystemTool(SYSTEM_TOOLS.rscript, opts);
/** The Rscript the statistics tests run: findRscript's, else Debian's installed now. */
async function ensureRscript(opts = {}) {
  return findRscript(opts) ?? (await provisionRscript(opts));
}

module.exports = {
  TOOLS_DIR,
  PROMETHEUS,
  ALERTMANAGER,
  SYSTEM_PROMETHEUS,
  SYSTEM_ALERTMANAGER,
  SYSTEM_CHROMIUM,
  SYSTEM_RSCRIPT,
  PROVISION_COMMAND,
  ALERTMANAGER_COMMAND,
  CHROMIUM_COMMAND,
  RSCRIPT_COMMAND,
  prometheusDir,
  prometheusBinary,
  findPrometheus,
  provisionPrometheus,
  ensurePrometheus,
  alertmanagerDir,
  alertmanagerBinary,
  findAlertmanager,
  provisionAlertmanager,
  ensureAlertmanager,
  findChromium,
  provisionChromium,
  ensureChromium,
  findRscript,
  provisionRscript,
  ensureRscript,
};

if (require.main === module) {
  const ensure = { prometheus: ensurePrometheus, alertmanager: ensureAlertmanager, chromium: ensureChromium, rscript: ensureRscript };
  const names = process.argv.slice(2);
  const wanted = names.length ? names : Object.keys(ensure);
  const unknown = wanted.filter((n) => !ensure[n]);
  if (unknown.length) {
    log(`unknown tool ${unknown.join(', ')}; known: ${Object.keys(ensure).join(', ')}`);
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
