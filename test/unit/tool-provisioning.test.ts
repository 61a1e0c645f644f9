// scripts/provision-tools.js: which Prometheus, Alertmanager, Chromium and Rscript the tests use, and
// how they are provisioned on first use so that `npm install && npm test` needs nothing
// installed by hand. The order of the resolvers, the errors that say what to run, the race
// of two processes provisioning at once (with stand-ins for apt-get and dpkg-deb), the
// unpacked Alertmanager pointed at its own templates, and the real thing: the pinned Debian
// Prometheus and Alertmanager in .tools/, unpacked now if they are not there yet.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startAlertmanager } from '../support/alertmanager';
import { tools } from '../support/tools';

const SCRIPT = resolve(__dirname, '../../scripts/provision-tools.js');
const root = mkdtempSync(join(tmpdir(), 'mrcd-tools-'));
after(() => rmSync(root, { recursive: true, force: true }));
const read = (file: string) => readFileSync(file, 'utf8');
let seq = 0;
const fresh = (name: string) => {
  const dir = join(root, `${name}-${++seq}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

/** An executable shell script. */
function script(file: string, body: string): string {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}
const fakePrometheus = (file: string) => script(file, `echo "prometheus, version ${tools.PROMETHEUS.version}+ds (fake)"`);

/** Stand-ins for apt-get and dpkg-deb that "download" and "unpack" a fake Prometheus, slowly enough for two runs to overlap. */
function fakeDebian(dir: string, download = `sleep 0.3; : > "prometheus_${tools.PROMETHEUS.debianVersion}_amd64.deb"`) {
  const log = join(dir, 'calls.log');
  const aptGet = script(join(dir, 'apt-get'), `echo "apt-get $*" >> ${log}\n${download}`);
  const dpkgDeb = script(
    join(dir, 'dpkg-deb'),
    [
      `echo "dpkg-deb $*" >> ${log}`,
      `if [ "$1" = -f ]; then printf 'Package: prometheus\\nVersion: ${tools.PROMETHEUS.debianVersion}\\n'; exit 0; fi`,
      `mkdir -p "$3/usr/bin" && sleep 0.3`,
      `printf '#!/bin/sh\\necho "prometheus, version ${tools.PROMETHEUS.version}+ds (fake)"\\n' > "$3/usr/bin/prometheus"`,
      `chmod 755 "$3/usr/bin/prometheus"`,
    ].join('\n'),
  );
  return { aptGet, dpkgDeb, log };
}

describe('Prometheus: which binary', () => {
  test('$MRCD_PROMETHEUS_BIN first, then the pinned copy in .tools, then /usr/bin/prometheus; none: undefined', () => {
    const dir = fresh('order');
    const toolsDir = join(dir, 'tools');
    const env = fakePrometheus(join(dir, 'env', 'prometheus'));
    const system = fakePrometheus(join(dir, 'system', 'prometheus'));
    const opts = { toolsDir, systemPath: system };

    assert.equal(tools.findPrometheus({ ...opts, env: {}, systemPath: join(dir, 'nowhere') }), undefined);
    assert.deepEqual(tools.findPrometheus({ ...opts, env: {} }), { path: system, from: 'system', args: [] });
    fakePrometheus(tools.prometheusBinary(toolsDir));
    const local = tools.findPrometheus({ ...opts, env: {} });
    assert.equal(local?.path, join(toolsDir, `prometheus-${tools.PROMETHEUS.debianVersion}`, 'usr', 'bin', 'prometheus'));
    assert.equal(local?.from, '.tools');
    // The unpacked copy is told where its web assets and console templates are.
    assert.ok(local?.args.some((a) => a.startsWith('--web.local-assets=') && a.includes(toolsDir)));
    assert.deepEqual(tools.findPrometheus({ ...opts, env: { MRCD_PROMETHEUS_BIN: env } }), { path: env, from: 'MRCD_PROMETHEUS_BIN', args: [] });
  });

  test('$MRCD_PROMETHEUS_BIN that is not an executable file is refused by name, not passed over', () => {
    const missing = join(fresh('env'), 'no-such-prometheus');
    assert.throws(() => tools.findPrometheus({ env: { MRCD_PROMETHEUS_BIN: missing } }), {
      message: `MRCD_PROMETHEUS_BIN=${missing} is not an executable file`,
    });
  });

  test('the pin: Debian bookworm 2.42.0, and .tools/prometheus-<Debian version>/', () => {
    assert.equal(tools.PROMETHEUS.version, '2.42.0');
    assert.match(tools.PROMETHEUS.debianVersion, /^2\.42\.0\+ds-\d/);
    assert.equal(tools.prometheusDir('/x'), `/x/prometheus-${tools.PROMETHEUS.debianVersion}`);
  });
});

describe('Prometheus: provisioning', () => {
  test('two processes provisioning at once both get the one copy; nothing of the loser (or of one killed earlier) is left behind', async () => {
    const dir = fresh('race');
    const toolsDir = join(dir, 'tools');
    const { aptGet, dpkgDeb, log } = fakeDebian(dir);
    // What a provisioning process killed mid-download leaves: its staging directory, its pid gone.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    mkdirSync(join(toolsDir, `.prometheus-staging-${dead}-x1y2z3`, 'deb'), { recursive: true });
    const once = () =>
      promisify(execFile)(process.execPath, [
        '-e',
        `require(${JSON.stringify(SCRIPT)}).provisionPrometheus(${JSON.stringify({ toolsDir, aptGet, dpkgDeb })}).then((t) => console.log(t.path))`,
      ]);
    const [a, b] = await Promise.all([once(), once()]);
    const expected = tools.prometheusBinary(toolsDir);
    assert.equal(a.stdout.trim(), expected);
    assert.equal(b.stdout.trim(), expected);
    // One line each, and the apt-get download of the exact pin.
    for (const r of [a, b]) assert.match(r.stderr, /^\[mrcd\] provisioning prometheus 2\.42\.0 into .*prometheus-2\.42\.0\+ds-[^ ]+ \(first use[^\n]*\n$/);
    assert.match(read(log), new RegExp(`apt-get -q download prometheus=${tools.PROMETHEUS.debianVersion.replace(/[.+]/g, '\\$&')}`));
    assert.deepEqual(readdirSync(toolsDir), [`prometheus-${tools.PROMETHEUS.debianVersion}`]);

    // Present: used as it is, nothing downloaded.
    const calls = read(log);
    assert.equal((await tools.provisionPrometheus({ toolsDir, aptGet, dpkgDeb })).path, expected);
    assert.equal(read(log), calls);
  });

  test('cannot provision: one error naming what to run, and no half-unpacked copy', async () => {
    const dir = fresh('cannot');
    const toolsDir = join(dir, 'tools');
    const said: string[] = [];
    const quiet = { toolsDir, dpkgDeb: '/bin/false', uid: 1000, say: (l: string) => said.push(l) };
    const cases: [string, string, RegExp][] = [
      ['no apt-get', join(dir, 'no-apt-get'), /no apt-get here \(not Debian\)\. Set MRCD_PROMETHEUS_BIN to a prometheus 2\.x binary/],
      [
        'no network',
        fakeDebian(fresh('offline'), `echo "E: Failed to fetch http://deb.debian.org/... Temporary failure resolving 'deb.debian.org'" >&2; exit 100`).aptGet,
        /apt-get download failed: E: Failed to fetch .*Temporary failure resolving 'deb\.debian\.org'\. Run `node scripts\/provision-tools\.js prometheus` once Debian's mirror is reachable\.$/,
      ],
      [
        'the pin gone from the mirror',
        fakeDebian(fresh('gone'), `echo "E: Version '${tools.PROMETHEUS.debianVersion}' for 'prometheus' was not found" >&2; exit 100`).aptGet,
        /Debian's mirror no longer has prometheus=2\.42\.0\+ds-.*Update the pin in scripts\/provision-tools\.js, or set MRCD_PROMETHEUS_BIN/,
      ],
      [
        'apt lists never fetched, not root',
        fakeDebian(fresh('nolists'), `echo "E: Unable to locate package prometheus" >&2; exit 100`).aptGet,
        /the apt lists do not know the package prometheus\. Run `apt-get update` as root, then `node scripts\/provision-tools\.js prometheus`\./,
      ],
    ];
    for (const [what, aptGet, message] of cases) {
      await assert.rejects(tools.provisionPrometheus({ ...quiet, aptGet }), (e: Error) => {
        assert.match(e.message, /^cannot provision prometheus 2\.42\.0 \(Debian 2\.42\.0\+ds-[^)]+\): /, what);
        assert.match(e.message, message, what);
        return true;
      });
      assert.deepEqual(readdirSync(toolsDir), [], `${what}: staging removed`);
    }
    assert.equal(said.length, cases.length, 'one line per attempt');
  });

  test('the real one: the pinned Debian package in .tools/, answering its version (provisioned now on a fresh clone)', { timeout: 300_000 }, async () => {
    const prom = await tools.provisionPrometheus();
    assert.equal(prom.path, tools.prometheusBinary());
    const { stdout } = await promisify(execFile)(prom.path, ['--version']);
    assert.match(stdout, tools.PROMETHEUS.reports);
    assert.match(stdout, new RegExp(`revision: ${tools.PROMETHEUS.debianVersion.replace(/[.+]/g, '\\$&')}`));
  });
});

const fakeAlertmanager = (file: string) => script(file, `echo "alertmanager, version ${tools.ALERTMANAGER.version} (fake)"`);
const TEMPLATES = '/usr/share/prometheus/alertmanager';

/**
 * Stand-ins for apt-get and dpkg-deb that "download" and "unpack" a fake Alertmanager: a
 * script that names Debian's templates path as the real binary does, and the templates.
 */
function fakeAlertmanagerDebian(
  dir: string,
  { templates = true, download = `sleep 0.3; : > "prometheus-alertmanager_${tools.ALERTMANAGER.debianVersion}_amd64.deb"` } = {},
) {
  const log = join(dir, 'calls.log');
  const aptGet = script(join(dir, 'apt-get'), `echo "apt-get $*" >> ${log}\n${download}`);
  const dpkgDeb = script(
    join(dir, 'dpkg-deb'),
    [
      `echo "dpkg-deb $*" >> ${log}`,
      `if [ "$1" = -f ]; then printf 'Package: prometheus-alertmanager\\nVersion: ${tools.ALERTMANAGER.debianVersion}\\n'; exit 0; fi`,
      `mkdir -p "$3/usr/bin" "$3${TEMPLATES}/ui"`,
      templates ? `: > "$3${TEMPLATES}/default.tmpl"; : > "$3${TEMPLATES}/email.tmpl"` : ':',
      `printf '#!/bin/sh\\n# templates: ${TEMPLATES} and ${TEMPLATES}/ui/\\necho "alertmanager, version ${tools.ALERTMANAGER.version} (fake)"\\n' > "$3/usr/bin/prometheus-alertmanager"`,
      `chmod 755 "$3/usr/bin/prometheus-alertmanager"`,
    ].join('\n'),
  );
  return { aptGet, dpkgDeb, log };
}

describe('Alertmanager: which binary', () => {
  test('$MRCD_ALERTMANAGER_BIN first, then the pinned copy in .tools (run in its own directory), then /usr/bin/prometheus-alertmanager; none: undefined', () => {
    const dir = fresh('am-order');
    const toolsDir = join(dir, 'tools');
    const env = fakeAlertmanager(join(dir, 'env', 'alertmanager'));
    const system = fakeAlertmanager(join(dir, 'system', 'prometheus-alertmanager'));
    const opts = { toolsDir, systemPath: system };

    assert.equal(tools.findAlertmanager({ ...opts, env: {}, systemPath: join(dir, 'nowhere') }), undefined);
    assert.deepEqual(tools.findAlertmanager({ ...opts, env: {} }), { path: system, from: 'system', args: [] });
    fakeAlertmanager(tools.alertmanagerBinary(toolsDir));
    const local = tools.findAlertmanager({ ...opts, env: {} });
    const unpacked = join(toolsDir, `alertmanager-${tools.ALERTMANAGER.debianVersion}`);
    assert.equal(local?.path, join(unpacked, 'usr', 'bin', 'prometheus-alertmanager'));
    assert.equal(local?.from, '.tools');
    // Its templates' path is relative to the unpacked root; the UI path is given outright.
    assert.equal(local?.cwd, unpacked);
    assert.deepEqual(local?.args, [`--web.ui-path=${join(unpacked, 'usr', 'share', 'prometheus', 'alertmanager', 'ui')}/`]);
    assert.deepEqual(tools.findAlertmanager({ ...opts, env: { MRCD_ALERTMANAGER_BIN: env } }), { path: env, from: 'MRCD_ALERTMANAGER_BIN', args: [] });
    // Each tool its own variable: Prometheus's does not pick an Alertmanager.
    assert.deepEqual(tools.findAlertmanager({ ...opts, env: { MRCD_PROMETHEUS_BIN: env } })?.from, '.tools');
  });

  test('$MRCD_ALERTMANAGER_BIN that is not an executable file is refused by name, not passed over', () => {
    const missing = join(fresh('am-env'), 'no-such-alertmanager');
    assert.throws(() => tools.findAlertmanager({ env: { MRCD_ALERTMANAGER_BIN: missing } }), {
      message: `MRCD_ALERTMANAGER_BIN=${missing} is not an executable file`,
    });
  });

  test('the pin: Debian bookworm 0.25.0, and .tools/alertmanager-<Debian version>/', () => {
    assert.equal(tools.ALERTMANAGER.version, '0.25.0');
    assert.equal(tools.ALERTMANAGER.debianVersion, '0.25.0-1+b4');
    assert.equal(tools.alertmanagerDir('/x'), `/x/alertmanager-${tools.ALERTMANAGER.debianVersion}`);
    assert.equal(tools.ALERTMANAGER_COMMAND, 'node scripts/provision-tools.js alertmanager');
  });
});

describe('Alertmanager: provisioning', () => {
  test('two processes at once get the one copy, its templates path made relative; present, nothing is downloaded', async () => {
    const dir = fresh('am-race');
    const toolsDir = join(dir, 'tools');
    const { aptGet, dpkgDeb, log } = fakeAlertmanagerDebian(dir);
    const once = () =>
      promisify(execFile)(process.execPath, [
        '-e',
        `require(${JSON.stringify(SCRIPT)}).provisionAlertmanager(${JSON.stringify({ toolsDir, aptGet, dpkgDeb })}).then((t) => console.log(t.path, t.cwd))`,
      ]);
    const [a, b] = await Promise.all([once(), once()]);
    const expected = `${tools.alertmanagerBinary(toolsDir)} ${tools.alertmanagerDir(toolsDir)}`;
    assert.equal(a.stdout.trim(), expected);
    assert.equal(b.stdout.trim(), expected);
    for (const r of [a, b]) assert.match(r.stderr, /^\[mrcd\] provisioning alertmanager 0\.25\.0 into .*alertmanager-0\.25\.0-1\+b4 \(first use[^\n]*\n$/);
    assert.match(read(log), /apt-get -q download prometheus-alertmanager=0\.25\.0-1\+b4/);
    assert.deepEqual(readdirSync(toolsDir), [`alertmanager-${tools.ALERTMANAGER.debianVersion}`]);
    const bin = read(tools.alertmanagerBinary(toolsDir));
    assert.ok(!bin.includes(TEMPLATES), bin);
    assert.match(bin, /# templates: usr\/share\/prometheus\/alertmanager\/ and usr\/share\/prometheus\/alertmanager\/\/ui\//);

    const calls = read(log);
    assert.equal((await tools.provisionAlertmanager({ toolsDir, aptGet, dpkgDeb })).path, tools.alertmanagerBinary(toolsDir));
    assert.equal(read(log), calls);
  });

  test('cannot provision: one error naming what to run (or what is wrong with the package), and no half-unpacked copy', async () => {
    const dir = fresh('am-cannot');
    const toolsDir = join(dir, 'tools');
    const quiet = { toolsDir, uid: 1000, say: () => {} };
    const noLists = fakeAlertmanagerDebian(fresh('am-nolists'), { download: `echo "E: Unable to locate package prometheus-alertmanager" >&2; exit 100` });
    await assert.rejects(tools.provisionAlertmanager({ ...quiet, ...noLists }), {
      message:
        'cannot provision alertmanager 0.25.0 (Debian 0.25.0-1+b4): the apt lists do not know the package prometheus-alertmanager. Run `apt-get update` as root, then `node scripts/provision-tools.js alertmanager`.',
    });
    const gone = fakeAlertmanagerDebian(fresh('am-gone'), {
      download: `echo "E: Version '${tools.ALERTMANAGER.debianVersion}' for 'prometheus-alertmanager' was not found" >&2; exit 100`,
    });
    await assert.rejects(
      tools.provisionAlertmanager({ ...quiet, ...gone }),
      /Debian's mirror no longer has prometheus-alertmanager=0\.25\.0-1\+b4 \(`apt-cache policy prometheus-alertmanager` shows what it has\)\. Update the pin in scripts\/provision-tools\.js, or set MRCD_ALERTMANAGER_BIN/,
    );
    const noTemplates = fakeAlertmanagerDebian(fresh('am-notemplates'), { templates: false });
    await assert.rejects(
      tools.provisionAlertmanager({ ...quiet, ...noTemplates }),
      /^Error: cannot provision alertmanager 0\.25\.0 \(Debian 0\.25\.0-1\+b4\): the package does not read its templates from \/usr\/share\/prometheus\/alertmanager\/ as expected \(2 references in the binary; missing: default\.tmpl, email\.tmpl\)\. Set MRCD_ALERTMANAGER_BIN to an alertmanager 0\.2x binary\.$/,
    );
    assert.deepEqual(readdirSync(toolsDir), [], 'staging removed');
  });

  test('the real one: the pinned Debian package in .tools/, answering its version and starting with its own templates', { timeout: 300_000 }, async () => {
    const am = await tools.provisionAlertmanager();
    assert.equal(am.path, tools.alertmanagerBinary());
    const { stdout } = await promisify(execFile)(am.path, ['--version']);
    assert.match(stdout, tools.ALERTMANAGER.reports);
    assert.match(stdout, /revision: 0\.25\.0-1\+b4/);
    assert.ok(!readFileSync(am.path).includes(TEMPLATES), 'no reference to /usr/share/prometheus/alertmanager left');
    // Debian's binary exits at start when it cannot read default.tmpl: started, it found its own.
    const running = await startAlertmanager({ webhookUrl: 'http://127.0.0.1:9/alertmanager' });
    try {
      const status = (await (await fetch(`${running.url}/api/v2/status`)).json()) as { cluster: { status: string } };
      assert.equal(status.cluster.status, 'disabled', 'no gossip listener');
    } finally {
      await running.stop();
    }
  });
});

describe('Chromium', () => {
  test('$MRCD_CHROMIUM_BIN first, then /usr/bin/chromium; a $MRCD_CHROMIUM_BIN that does not exist is refused by name', () => {
    const dir = fresh('chromium');
    const env = script(join(dir, 'env', 'chromium'), 'exit 0');
    const system = script(join(dir, 'system', 'chromium'), 'exit 0');
    assert.deepEqual(tools.findChromium({ env: { MRCD_CHROMIUM_BIN: env }, systemPath: system }), { path: env, from: 'MRCD_CHROMIUM_BIN' });
    assert.deepEqual(tools.findChromium({ env: {}, systemPath: system }), { path: system, from: 'system' });
    assert.equal(tools.findChromium({ env: {}, systemPath: join(dir, 'none') }), undefined);
    assert.throws(() => tools.findChromium({ env: { MRCD_CHROMIUM_BIN: join(dir, 'none') } }), /^Error: MRCD_CHROMIUM_BIN=.*none is not an executable file$/);
  });

  test('missing and not root: one error with the apt-get command, nothing run', async () => {
    const dir = fresh('chromium-user');
    const { aptGet, log } = fakeDebian(dir);
    const systemPath = join(dir, 'usr-bin-chromium');
    await assert.rejects(tools.ensureChromium({ env: {}, systemPath, aptGet, uid: 1000 }), {
      message: `no Chromium at ${systemPath} for the Web UI test, and not running as root, so not installing it. Run: sudo apt-get install -y --no-install-recommends chromium (or set MRCD_CHROMIUM_BIN to a Chromium binary)`,
    });
    assert.throws(() => read(log), /ENOENT/);
  });

  test('missing, root, and apt-get fails: one error with the command', async () => {
    const dir = fresh('chromium-root');
    const { aptGet, log } = fakeDebian(dir, 'echo "E: Could not get lock /var/lib/dpkg/lock-frontend" >&2; exit 100');
    const systemPath = join(dir, 'usr-bin-chromium');
    const said: string[] = [];
    await assert.rejects(tools.ensureChromium({ env: {}, systemPath, aptGet, uid: 0, say: (l) => said.push(l) }), {
      message: `no Chromium at ${systemPath} for the Web UI test, and \`apt-get install -y --no-install-recommends chromium\` failed: E: Could not get lock /var/lib/dpkg/lock-frontend. Run: apt-get install -y --no-install-recommends chromium (or set MRCD_CHROMIUM_BIN to a Chromium binary)`,
    });
    assert.deepEqual(said, [
      'provisioning chromium with `apt-get install -y --no-install-recommends chromium` (first use; ~100 MB of Debian packages, a minute or two)',
    ]);
    assert.match(read(log), /^apt-get -qq -o DPkg::Lock::Timeout=600 install -y --no-install-recommends chromium$/m);
  });
});

describe('Rscript', () => {
  test('$MRCD_RSCRIPT_BIN first, then /usr/bin/Rscript; a $MRCD_RSCRIPT_BIN that does not exist is refused by name', () => {
    const dir = fresh('rscript');
    const env = script(join(dir, 'env', 'Rscript'), 'exit 0');
    const system = script(join(dir, 'system', 'Rscript'), 'exit 0');
    assert.equal(tools.SYSTEM_RSCRIPT, '/usr/bin/Rscript');
    assert.deepEqual(tools.findRscript({ env: { MRCD_RSCRIPT_BIN: env }, systemPath: system }), { path: env, from: 'MRCD_RSCRIPT_BIN' });
    assert.deepEqual(tools.findRscript({ env: {}, systemPath: system }), { path: system, from: 'system' });
    assert.equal(tools.findRscript({ env: {}, systemPath: join(dir, 'none') }), undefined);
    assert.throws(() => tools.findRscript({ env: { MRCD_RSCRIPT_BIN: join(dir, 'none') } }), /^Error: MRCD_RSCRIPT_BIN=.*none is not an executable file$/);
  });

  test('missing and not root: one error with the apt-get command, nothing run', async () => {
    const dir = fresh('rscript-user');
    const { aptGet, log } = fakeDebian(dir);
    const systemPath = join(dir, 'usr-bin-Rscript');
    await assert.rejects(tools.ensureRscript({ env: {}, systemPath, aptGet, uid: 1000 }), {
      message: `no Rscript at ${systemPath} for the statistics tests' R oracle, and not running as root, so not installing it. Run: sudo apt-get install -y --no-install-recommends r-base-core (or set MRCD_RSCRIPT_BIN to an Rscript binary)`,
    });
    assert.throws(() => read(log), /ENOENT/);
  });

  test('missing, root, and apt-get fails: one error with the command', async () => {
    const dir = fresh('rscript-root');
    const { aptGet, log } = fakeDebian(dir, 'echo "E: Could not get lock /var/lib/dpkg/lock-frontend" >&2; exit 100');
    const systemPath = join(dir, 'usr-bin-Rscript');
    const said: string[] = [];
    await assert.rejects(tools.ensureRscript({ env: {}, systemPath, aptGet, uid: 0, say: (l) => said.push(l) }), {
      message: `no Rscript at ${systemPath} for the statistics tests' R oracle, and \`apt-get install -y --no-install-recommends r-base-core\` failed: E: Could not get lock /var/lib/dpkg/lock-frontend. Run: apt-get install -y --no-install-recommends r-base-core (or set MRCD_RSCRIPT_BIN to an Rscript binary)`,
    });
    assert.deepEqual(said, [
      'provisioning rscript with `apt-get install -y --no-install-recommends r-base-core` (first use; ~50 MB of Debian packages, a minute)',
    ]);
    assert.match(read(log), /^apt-get -qq -o DPkg::Lock::Timeout=600 install -y --no-install-recommends r-base-core$/m);
  });

  test('missing and root: installed with apt-get (after an update when the lists do not know it yet), then found', async () => {
    const dir = fresh('rscript-install');
    const systemPath = join(dir, 'usr-bin-Rscript');
    // A fresh machine: the first install fails until `apt-get update` has fetched the lists.
    const { aptGet, log } = fakeDebian(
      dir,
      [
        `if [ "$1" = -qq ] && [ "$2" = update ]; then : > "${dir}/updated"; exit 0; fi`,
        `[ -e "${dir}/updated" ] || { echo "E: Unable to locate package r-base-core" >&2; exit 100; }`,
        `printf '#!/bin/sh\\necho R\\n' > "${systemPath}" && chmod 755 "${systemPath}"`,
      ].join('\n'),
    );
    assert.deepEqual(await tools.ensureRscript({ env: {}, systemPath, aptGet, uid: 0, say: () => {} }), { path: systemPath, from: 'system' });
    assert.deepEqual(read(log).trim().split('\n'), [
      'apt-get -qq -o DPkg::Lock::Timeout=600 install -y --no-install-recommends r-base-core',
      'apt-get -qq update',
      'apt-get -qq -o DPkg::Lock::Timeout=600 install -y --no-install-recommends r-base-core',
    ]);
  });
});
