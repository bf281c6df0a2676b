// Nothing lost: the backend stopped and restarted, its database down (503 + Retry-After),
// connections cut mid-response, a spool that is read-only, full, or holds a corrupt file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { startStack, registerCollector, quietLog, type Stack } from '../helpers/stack.ts';
import { startBackend } from '../../backend/src/server.ts';
import { Runner } from '../../collector/src/runner.ts';

let stack: Stack;
before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.stop();
});

const isRoot = process.getuid?.() === 0;
const MINUTE = 60_000;

async function batchesOf(collectorId: string): Promise<number> {
  return Number((await stack.db.query('SELECT count(*) AS n FROM ingested_batches WHERE collector_id = $1', [collectorId])).rows[0].n);
}

/** The times of the collector's self-report rows: one per batch stored, in stored order. */
async function reportTimes(serverHostname: string): Promise<number[]> {
  const rows = await stack.db.query(
    `SELECT c.time FROM metrics_collector c JOIN servers s ON s.id = c.server_id WHERE s.hostname = $1 ORDER BY c.time`,
    [serverHostname],
  );
  return rows.rows.map((x) => x.time.getTime());
}

test('backend down during collection: every batch made meanwhile arrives, in order, none twice', async () => {
  const { local, creds } = await registerCollector(stack, { name: 'outage', hostname: 'outage-host' });
  const runner = new Runner(local, quietLog('collector'));
  const t0 = Date.now() - 20 * MINUTE;
  try {
    await runner.collectAndSpool(new Date(t0));
    await runner.drain();
    assert.equal(await batchesOf(creds.collectorId), 1);

    await stack.backend.close();
    for (let i = 1; i <= 8; i++) {
      await runner.collectAndSpool(new Date(t0 + i * MINUTE));
      runner.retryNow();
      await runner.drain(); // fails: nothing listens
    }
    assert.equal(runner.spool.list().length, 8, 'all eight batches wait in the spool');
    assert.match(runner.status.last_push_error ?? '', /network/);

    stack.backend = await startBackend({ ...stack.settings, port: stack.backend.port }, quietLog('backend'));
    runner.retryNow();
    await runner.drain();
    assert.equal(runner.spool.list().length, 0);
    assert.equal(await batchesOf(creds.collectorId), 9);
    const times = await reportTimes('outage-host');
    assert.deepEqual(
      times,
      Array.from({ length: 9 }, (_, i) => t0 + i * MINUTE),
      'each cycle once, in order',
    );
    const order = await stack.db.query(`SELECT batch_id FROM ingested_batches WHERE collector_id = $1 ORDER BY received_at`, [
      creds.collectorId,
    ]);
    assert.equal(order.rows.length, 9);
  } finally {
    await runner.stop();
  }
});

test('database down: the backend answers 503 with Retry-After, the collector waits and delivers after', async () => {
  const { local, creds } = await registerCollector(stack, { name: 'dbdown', hostname: 'dbdown-host' });
  const runner = new Runner(local, quietLog('collector'));
  try {
    await stack.pg.stopServer();
    await runner.collectAndSpool(new Date(Date.now() - 2 * MINUTE));
    await runner.drain();
    assert.match(runner.status.last_push_error ?? '', /503 database_unavailable/);
    assert.equal(runner.spool.list().length, 1);
    await stack.pg.startServer();
    runner.retryNow();
    await runner.drain();
    assert.equal(runner.spool.list().length, 0);
    assert.equal(await batchesOf(creds.collectorId), 1);
  } finally {
    await runner.stop();
    if ((await stack.db.query('SELECT 1').catch(() => null)) === null) await stack.pg.startServer();
  }
});

test('connections closed mid-response: the batch is retried and stored once', async () => {
  // A TCP proxy in front of the backend that cuts the first three connections after the first
  // bytes of the backend's answer: the backend has committed, the collector never hears so.
  let cuts = 3;
  const proxy = net.createServer((client) => {
    const upstream = net.connect(stack.backend.port, '127.0.0.1');
    const cut = cuts-- > 0;
    let seenRequest = false;
    client.on('data', (d) => {
      if (d.length > 2000) seenRequest = true;
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (cut && seenRequest) {
        client.write(d.subarray(0, 20));
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(d);
    });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  const port = (proxy.address() as net.AddressInfo).port;
  const { local, creds } = await registerCollector(stack, { name: 'cut', hostname: 'cut-host' });
  const viaProxy = { ...local, backend: { ...local.backend, url: `https://127.0.0.1:${port}` } };
  const runner = new Runner(viaProxy, quietLog('collector'));
  try {
    await runner.collectAndSpool(new Date(Date.now() - 2 * MINUTE));
    for (let i = 0; i < 6 && runner.spool.list().length > 0; i++) {
      runner.retryNow();
      await runner.drain();
    }
    assert.equal(runner.spool.list().length, 0, 'delivered in the end');
    assert.ok(cuts < 3, 'the proxy did cut connections');
    assert.equal(await batchesOf(creds.collectorId), 1, 'stored once');
    assert.equal((await reportTimes('cut-host')).length, 1, 'its rows stored once');
  } finally {
    await runner.stop();
    proxy.close();
  }
});

test('a corrupt spool file is quarantined with a counter; the others are sent', async () => {
  const { local, creds } = await registerCollector(stack, { name: 'corrupt', hostname: 'corrupt-host' });
  const runner = new Runner(local, quietLog('collector'));
  try {
    await runner.collectAndSpool(new Date(Date.now() - 3 * MINUTE));
    const bad = `${Date.now() - 4 * MINUTE}-000000-00000000-0000-4000-8000-000000000000.json.gz`;
    writeFileSync(join(runner.spool.dir, bad), Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]));
    await runner.collectAndSpool(new Date(Date.now() - 2 * MINUTE));
    await runner.drain();
    assert.equal(runner.spool.list().length, 0);
    assert.deepEqual(readdirSync(runner.spool.quarantineDir), [bad]);
    assert.equal(await batchesOf(creds.collectorId), 2);
    assert.match(await runner.metrics.registry.metrics(), /pga_collector_spool_quarantined_total 1/);
  } finally {
    await runner.stop();
  }
});

test('a read-only spool: a clear error, a counter, and the batch still goes out', {
  skip: !isRoot && 'needs root for chattr',
}, async () => {
  const { local, creds } = await registerCollector(stack, { name: 'ro', hostname: 'ro-host' });
  const runner = new Runner(local, quietLog('collector'));
  spawnSync('chattr', ['+i', runner.spool.dir]);
  try {
    await runner.collectAndSpool(new Date(Date.now() - 2 * MINUTE));
    assert.match(await runner.metrics.registry.metrics(), /pga_collector_batches_total\{outcome="spool_failed"\} 1/);
    assert.equal(await batchesOf(creds.collectorId), 1, 'sent without a safety copy');
  } finally {
    spawnSync('chattr', ['-i', runner.spool.dir]);
    await runner.stop();
  }
});

test('a full spool filesystem: collection goes on, batches go straight out', {
  skip: !isRoot && 'needs root to mount a tmpfs',
}, async () => {
  const { local, creds } = await registerCollector(stack, { name: 'full', hostname: 'full-host' });
  const spoolDir = join(local.collector.state_dir, 'spool');
  mkdirSync(spoolDir, { recursive: true });
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', spoolDir]);
  if (mounted.status !== 0) return; // no mount here: the read-only test covers the same path
  try {
    const runner = new Runner(local, quietLog('collector'));
    writeFileSync(join(spoolDir, 'filler'), Buffer.alloc(60 * 1024));
    try {
      for (let i = 3; i >= 1; i--) await runner.collectAndSpool(new Date(Date.now() - i * MINUTE));
      assert.equal(await batchesOf(creds.collectorId), 3);
      assert.match(await runner.metrics.registry.metrics(), /pga_collector_batches_total\{outcome="spool_failed"\} 3/);
    } finally {
      await runner.stop();
    }
  } finally {
    spawnSync('umount', [spoolDir]);
  }
});

test('served spool limits bound the spool; the oldest batches are dropped and counted', async () => {
  const { local, creds } = await registerCollector(stack, { name: 'limits', hostname: 'limits-host' });
  await stack.db.query(
    `UPDATE collector_configs SET config = '{"spool": {"max_age_hours": 0.1}}', version = version + 1 WHERE collector_id = $1`,
    [creds.collectorId],
  );
  const runner = new Runner(local, quietLog('collector'));
  try {
    await runner.pullConfig();
    await stack.backend.close();
    const now = Date.now();
    for (let i = 20; i >= 0; i--) await runner.collectAndSpool(new Date(now - i * MINUTE)); // 20 minutes > 6-minute bound
    const left = runner.spool.list();
    assert.ok(left.length <= 7 && left.length >= 6, `${left.length} batches within 6 minutes kept`);
    assert.match(await runner.metrics.registry.metrics(), /pga_collector_spool_dropped_total 1[45]/);
  } finally {
    await runner.stop();
    stack.backend = await startBackend({ ...stack.settings, port: stack.backend.port }, quietLog('backend'));
  }
});

test('an invalid served config is refused and the last good one kept', async () => {
  const { local, creds } = await registerCollector(stack, { name: 'badcfg', hostname: 'badcfg-host' });
  const runner = new Runner(local, quietLog('collector'));
  try {
    await stack.db.query(
      `UPDATE collector_configs SET config = '{"collector": {"interval_seconds": 30}}', version = 2 WHERE collector_id = $1`,
      [creds.collectorId],
    );
    await runner.pullConfig();
    assert.equal(runner.configVersion, 2);
    assert.equal(runner.intervalMs, 30_000);
    // A config a newer backend might serve that this collector does not understand.
    await stack.db.query(
      `UPDATE collector_configs SET config = '{"collector": {"interval_seconds": -5}}', version = 3 WHERE collector_id = $1`,
      [creds.collectorId],
    );
    await runner.pullConfig();
    assert.equal(runner.configVersion, 2, 'still the last good config');
    assert.equal(runner.intervalMs, 30_000);
    assert.match(await runner.metrics.registry.metrics(), /pga_collector_config_pulls_total\{result="refused"\} 1/);
  } finally {
    await runner.stop();
  }
});

test('certificate renewal: new key and certificate, the old one refused once the new one is used', async () => {
  const { local, creds } = await registerCollector(stack, { name: 'renew', hostname: 'renew-host' });
  const runner = new Runner(local, quietLog('collector'));
  try {
    await runner.renewIfDue(Date.now() + 89 * 86400_000); // as if 89 of 90 days had passed
    const row = (await stack.db.query('SELECT cert_fingerprint, prev_cert_fingerprint FROM collectors WHERE id = $1', [creds.collectorId]))
      .rows[0];
    assert.ok(row.prev_cert_fingerprint, 'old certificate still accepted until the new one is used');
    await runner.collectAndSpool(new Date(Date.now() - MINUTE));
    await runner.drain();
    assert.equal(await batchesOf(creds.collectorId), 1, 'pushed with the new certificate');
    const after = (await stack.db.query('SELECT prev_cert_fingerprint FROM collectors WHERE id = $1', [creds.collectorId])).rows[0];
    assert.equal(after.prev_cert_fingerprint, null, 'old certificate retired');
    // The old certificate is now refused.
    const { BackendClient } = await import('../../collector/src/sender/backend-client.ts');
    const old = new BackendClient(local.backend.url, creds, join(stack.dir, 'old-creds'));
    mkdirSync(join(stack.dir, 'old-creds'), { recursive: true });
    const outcome = await old.push(Buffer.from('x'));
    assert.equal(outcome.kind, 'retry');
    assert.match(outcome.kind === 'retry' ? outcome.reason : '', /certificate_superseded|token_certificate_mismatch/);
    await old.close();
  } finally {
    await runner.stop();
  }
});
