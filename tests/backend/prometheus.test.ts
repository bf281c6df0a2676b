// A real Prometheus scrapes the backend's /metrics over HTTPS, trusting the backend CA, and its
// query API then answers up{job="pganalytics"} == 1 and a pga_ metric.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, registerCollector, type Stack } from '../helpers/stack.ts';
import { freePort } from '../../devkit/postgres-server.ts';
import { push, simpleBatch } from './api.ts';

const binary = spawnSync('prometheus', ['--version']).status === 0 ? 'prometheus' : undefined;
let stack: Stack;
let prom: ChildProcess | undefined;
let dir: string;

before(async () => {
  if (binary) stack = await startStack();
});
after(async () => {
  if (prom && prom.exitCode === null) {
    const exited = new Promise((r) => prom!.once('exit', r));
    prom.kill('SIGTERM');
    await exited;
  }
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function query(port: number, q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await r.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  return body.status === 'success' ? body.data.result : [];
}

test('Prometheus scrapes /metrics over TLS', {
  skip: binary ? false : 'prometheus binary not installed (apt-get install -y prometheus; .ci/run does)',
}, async () => {
  const creds = (await registerCollector(stack, { name: 'p' })).creds;
  const r = await push(stack.backend, creds, simpleBatch(creds.collectorId, { sysstat: [{ time: new Date().toISOString(), load1: 1 }] }));
  assert.equal(r.status, 201);
  dir = mkdtempSync(join(tmpdir(), 'pga-prom-'));
  writeFileSync(join(dir, 'ca.crt'), stack.backend.pki.caCertPem);
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: pganalytics
    scheme: https
    tls_config:
      ca_file: ${join(dir, 'ca.crt')}
    static_configs:
      - targets: ['127.0.0.1:${stack.backend.port}']
`,
  );
  const port = await freePort();
  prom = spawn(
    binary!,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  prom.stderr!.on('data', (d) => {
    stderr += d;
  });
  const deadline = Date.now() + 60_000;
  let up: Awaited<ReturnType<typeof query>> = [];
  let rows: Awaited<ReturnType<typeof query>> = [];
  while (Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 1000));
    up = await query(port, 'up{job="pganalytics"} == 1').catch(() => []);
    rows = await query(port, 'pga_rows_ingested_total{family="sysstat"}').catch(() => []);
    if (up.length === 1 && rows.length === 1) break;
  }
  assert.equal(up.length, 1, `up == 1 (prometheus stderr: ${stderr.slice(-2000)})`);
  assert.equal(rows[0]?.value[1], '1');
  const lag = await query(port, 'nodejs_eventloop_lag_seconds{job="pganalytics"}');
  assert.equal(lag.length, 1, 'event-loop lag is scraped');
});
