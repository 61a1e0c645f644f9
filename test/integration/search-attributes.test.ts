// A rollout that upserts an unknown search attribute stops moving. The dev stack adds
// attributes a database from an older mrcd lacks, and a worker refuses to start in a
// namespace without them, saying which and how to create them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { startDevServer } from '../../dev/temporal-server';
import { missingSearchAttributes } from '../../worker/search-attributes';

const ROOT = join(__dirname, '..', '..');

test('the dev server re-adds attributes missing from an old database; the worker refuses a namespace without them', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcd-sa-'));
  const dbFile = join(dir, 'temporal.db');
  try {
    // An "old" database: one attribute removed.
    let server = await startDevServer({ uiPort: false, dbFile });
    let conn = await Connection.connect({ address: server.address });
    await conn.operatorService.removeSearchAttributes({ namespace: 'default', searchAttributes: ['MrcdQuarantine'] });
    assert.deepEqual(await missingSearchAttributes(conn, 'default'), ['MrcdQuarantine']);

    const worker = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'worker/main.ts')], {
      cwd: ROOT,
      env: { ...process.env, TEMPORAL_ADDRESS: server.address, MRCD_LOG_FORMAT: 'json', MRCD_TASK_QUEUE: 'sa-test' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(worker.status, 2, worker.stderr + worker.stdout);
    assert.match(worker.stdout + worker.stderr, /search attributes missing in namespace default/);
    assert.match(worker.stdout + worker.stderr, /temporal operator search-attribute create --namespace default --name MrcdQuarantine --type Keyword/);
    await conn.close();
    await server.stop();

    // Started again on the same database, the dev server adds it back.
    server = await startDevServer({ uiPort: false, dbFile });
    conn = await Connection.connect({ address: server.address });
    assert.deepEqual(await missingSearchAttributes(conn, 'default'), []);
    await conn.close();
    await server.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
