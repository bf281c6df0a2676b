// `npm run bench:outage`: a 30-minute backend outage at a 10-second collection interval.
// The real collector (Runner) collects from a real PostgreSQL while the backend is down; the
// 180 cycles are run back to back with their timestamps 10 s apart, so the outage takes
// seconds here, not half an hour. Reports the spool's size, the collector's peak RSS, and
// the time to drain once the backend returns (with its default per-collector rate limit).
// Options: --minutes N (outage length, default 30), --interval S (default 10).
// Run with node --expose-gc for exact heap figures (npm run bench:outage does).
import { parseArgs } from 'node:util';
import { startStack, registerCollector, quietLog } from '../tests/helpers/stack.ts';
import { startBackend } from '../backend/src/server.ts';
import { Runner } from '../collector/src/runner.ts';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '30' }, interval: { type: 'string', default: '10' } } });
const minutes = Number(values.minutes);
const interval = Number(values.interval);
const cycles = Math.round((minutes * 60) / interval);

const stack = await startStack({ pg: { settings: { shared_preload_libraries: 'pg_stat_statements' } } });
const { local, creds } = await registerCollector(stack, { name: 'outage', hostname: 'bench-outage' });
await stack.db.query(`UPDATE collector_configs SET config = $2, version = version + 1 WHERE collector_id = $1`, [
  creds.collectorId,
  { collector: { interval_seconds: interval } },
]);
const runner = new Runner(local, quietLog('collector'));
await runner.pullConfig();

let peakRss = process.memoryUsage.rss();
const rssAtStart = peakRss;
const sample = (): void => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
};
const sampler = setInterval(sample, 50);

await stack.backend.close();
const start = Date.now() - minutes * 60_000;
const t0 = performance.now();
// Memory must stay flat however long the outage: compare the heap a third of the way in with
// the heap at the end (batches live on disk, not in memory).
const heapAt: number[] = [];
for (let i = 0; i < cycles; i++) {
  await runner.collectAndSpool(new Date(start + i * interval * 1000));
  runner.retryNow();
  await runner.drain(); // refused: the backend is down
  sample();
  if (i === Math.floor(cycles / 3) || i === cycles - 1) {
    global.gc?.();
    heapAt.push(process.memoryUsage().heapUsed);
  }
}
const collectMs = performance.now() - t0;
const spool = runner.spool.stats();

stack.backend = await startBackend({ ...stack.settings, port: stack.backend.port }, quietLog('backend'));
// The next collection cycle probes the backend whatever the backoff, so a returning backend
// is found within one interval; the drain is timed from that cycle.
const d0 = performance.now();
await runner.drain(true);
while (runner.spool.list().length > 0) {
  await runner.drain();
  const wait = runner.retryAt - Date.now();
  if (wait > 0 && runner.spool.list().length > 0) await new Promise((r) => setTimeout(r, wait));
}
const drainMs = performance.now() - d0;
clearInterval(sampler);
const stored = Number(
  (await stack.db.query('SELECT count(*) AS n FROM ingested_batches WHERE collector_id = $1', [creds.collectorId])).rows[0].n,
);

const mb = (b: number): string => `${(b / 1024 / 1024).toFixed(1)} MB`;
console.log(`outage: ${minutes} min at ${interval} s → ${cycles} batches (collected in ${(collectMs / 1000).toFixed(1)} s of wall time)`);
console.log(
  `spool at the end of the outage: ${spool.batches} batches, ${mb(spool.bytes)} (${(spool.bytes / spool.batches / 1024).toFixed(1)} KiB per batch)`,
);
console.log(
  `process RSS: ${mb(rssAtStart)} at start, ${mb(peakRss)} peak (this process also holds the bench's PostgreSQL pools and, before the outage, the backend)`,
);
console.log(
  `collector heap: ${mb(heapAt[0])} after ${Math.floor(cycles / 3) + 1} outage cycles, ${mb(heapAt[1])} after ${cycles} — flat means memory does not grow with the outage`,
);
console.log(
  `drain from the first cycle after the backend returned (found within one ${interval} s interval): ${(drainMs / 1000).toFixed(1)} s for ${stored} batches stored`,
);
await runner.stop();
await stack.stop();
