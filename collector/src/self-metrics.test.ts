// The collector's own metrics: Node's process metrics (and the event-loop timer behind them) only
// when the endpoint is served; the collector family row in every batch either way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { SelfMetrics } from './self-metrics.ts';

test('without [metrics] listen nothing measures Node itself; serving adds it', async () => {
  const m = new SelfMetrics();
  const before = await m.registry.metrics();
  assert.match(before, /pga_collector_spool_batches 0/);
  assert.doesNotMatch(before, /pga_collector_process_cpu|pga_collector_nodejs_eventloop_lag/);
  const row = m.report(new Date().toISOString(), { version: 't', configVersion: 1, cycleMs: 12.34, familyErrors: 0, instancesDown: 0 });
  assert.ok(typeof row.rss_bytes === 'number' && row.rss_bytes > 0);
  assert.equal(row.cycle_ms, 12.3);

  const server = await m.serve('127.0.0.1:0');
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
    const text = await res.text();
    assert.equal(res.status, 200);
    assert.match(text, /pga_collector_process_cpu_user_seconds_total \d/);
    assert.match(text, /pga_collector_nodejs_eventloop_lag_seconds \d/);
    assert.equal((await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/other`)).status, 404);
  } finally {
    await new Promise((r) => server.close(r));
  }
});
