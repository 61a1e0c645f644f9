// Runs a build command (go build, go install) for the install scripts: its output, hundreds
// of "go: downloading" lines, is kept only to show when it fails, and it runs at low priority.
const { spawn } = require('node:child_process');
const os = require('node:os');

/** Resolves with the exit status and the last 20 000 characters of output; never rejects. */
function runQuietly(cmd, args, opts) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (b) => (output = (output + b.toString()).slice(-20_000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    // Low priority: a compile on a shared CI machine must not starve timing-sensitive tests.
    try {
      os.setPriority(child.pid, 10);
    } catch {
      // not permitted here: build at normal priority
    }
    child.on('error', (e) => resolve({ status: null, error: e, output }));
    child.on('close', (status) => resolve({ status, output }));
  });
}

module.exports = { runQuietly };
