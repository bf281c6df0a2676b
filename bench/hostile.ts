// Hostile-client benchmark (npm run bench:hostile -- [--collectors 2000] [--phase-seconds 60] [--pool 8]).
// A real PostgreSQL (production durability: bench-backend.ts) and the backend over real mTLS in
// this process; the fleet and the attackers in two child processes (bench/hostile-clients.ts).
// N collectors push on a 60 s cadence through phases of `phase-seconds` each: each attack phase
// comes right after a quiet phase of its own, its reference (a shared machine's load drifts
// over minutes; a single quiet phase at the start compared later phases with another machine):
// (a) 50 slow-body pushes of one valid collector, (b) nested-JSON and large-jsonb pushes of
// another, (c) 40 unauthenticated connections looping on health and /metrics, then on health,
// /metrics and login, then all together. Prints, per phase, for the legitimate collectors: pushes
// refused and lost, latency p50/p95/p99 (against the quiet phase before it), the health probe's
// p99 and the backend's peak RSS; the CPU of each process apart (the backend, PostgreSQL, the
// fleet and the attackers, which share the machine's cores here and would not in production),
// the backend's event-loop delay and how long its event loop was ready to run but waited for a
// CPU (/proc schedstat: a loop delayed by a machine short of CPU, not by its own work), and the
// machine's load average; then what the attackers got.
// "Lost" is a push that got no answer or a 5xx, or a 2xx whose batch is not in the database.
import { fork, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createUser } from '../backend/src/users/create-user.ts';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DURABILITY, postmasterPid, processTreeCpuSeconds, runQueueWaitSeconds, startBenchBackend } from './bench-backend.ts';
import type { ClientsCommand, ClientsReport, ClientsStart, PhaseReport, Vector } from './hostile-clients.ts';

const { values } = parseArgs({
  options: {
    collectors: { type: 'string', default: '2000' },
    'phase-seconds': { type: 'string', default: '60' },
    pool: { type: 'string', default: '8' },
  },
});
const collectors = Number(values.collectors);
const phaseSeconds = Number(values['phase-seconds']);
const poolSize = Number(values.pool);

const ATTACKS: { name: string; vectors: Vector[] }[] = [
  { name: '(a) slow bodies', vectors: ['a'] },
  { name: '(b) costly JSON', vectors: ['b'] },
  // (c) split: health and /metrics are this backend's; login's cost is scrypt's (issue 18.5).
  { name: '(c) health+metrics', vectors: ['h'] },
  { name: '(c) + login', vectors: ['c'] },
  { name: 'all together', vectors: ['a', 'b', 'c'] },
  { name: 'all but login', vectors: ['a', 'b', 'h'] },
];
/** Each attack after a quiet phase of its own. */
const PHASES: { name: string; vectors: Vector[] }[] = ATTACKS.flatMap((a) => [{ name: 'quiet', vectors: [] }, a]);

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** A child speaking ClientsCommand / ClientsReport; `next()` is its next report. */
function client(start: ClientsStart): { child: ChildProcess; next(): Promise<ClientsReport>; send(c: ClientsCommand): void } {
  const child = fork(join(import.meta.dirname, 'hostile-clients.ts'), [], { execArgv: ['--import', 'tsx'] });
  const queue: ClientsReport[] = [];
  const waiting: ((r: ClientsReport) => void)[] = [];
  child.on('message', (m: ClientsReport) => {
    const w = waiting.shift();
    if (w) w(m);
    else queue.push(m);
  });
  child.once('exit', (code) => {
    if (code !== 0 && code !== null) {
      console.error(`${start.role} exited with ${code}`);
      process.exit(1);
    }
  });
  child.send(start);
  return {
    child,
    next: () => {
      const m = queue.shift();
      return m ? Promise.resolve(m) : new Promise((r) => waiting.push(r));
    },
    send: (c) => {
      child.send(c);
    },
  };
}

interface Row {
  phase: PhaseReport;
  peakMiB: number;
  /** Cores used during the phase, per process. */
  cores: { backend: number; postgres: number; fleet: number; attack: number };
  /** Seconds per second the backend's event loop was ready to run but waited for a CPU. */
  loopWaitedForCpu: number;
}

const sumValues = (r: Record<string, number>): number => Object.values(r).reduce((x, y) => x + y, 0);

async function main(): Promise<void> {
  const bench = await startBenchBackend({ poolSize, sharedBuffers: '256MB', collectors });
  const { server, settings, backend, enrolmentToken: token } = bench;
  const adminUser = 'admin';
  await createUser(backend.pool, { username: adminUser, password: `bench-${process.pid}-${Date.now()}`, role: 'admin' });
  console.log(
    `PostgreSQL ${server.versionNum} (${DURABILITY}), backend pool ${poolSize} + API pool ${settings.apiPoolSize}, ` +
      `${collectors} collectors on a 60 s cadence, phases of ${phaseSeconds} s; limits: upload deadline ${settings.ingestBodyTimeoutSeconds} s, ` +
      `${settings.collectorMaxInFlight} pushes in hand per collector, decompressed ${settings.maxDecompressedBytes / 2 ** 20} MiB, ` +
      `memory budget ${settings.ingestMemoryBudgetBytes / 2 ** 20} MiB, health/metrics ${settings.probeRatePerAddress}/s per address, ` +
      `${settings.passwordHashConcurrency} password hash(es) at once`,
  );

  let peak = 0;
  let maxWaiting = 0;
  let maxInFlight = 0;
  const inFlightGauge = backend.metrics.ingestInFlight;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
    maxWaiting = Math.max(maxWaiting, backend.pool.waitingCount);
    void inFlightGauge.get().then((g) => {
      maxInFlight = Math.max(maxInFlight, g.values[0]?.value ?? 0);
    });
  }, 250);
  const stop = (): void => {
    clearInterval(sampler);
    void bench.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const base = { url: backend.url, caPem: backend.pki.caCertPem, enrolmentToken: token, cadenceSeconds: 60, adminUser };
  const fleet = client({ ...base, role: 'fleet', collectors });
  const attack = client({ ...base, role: 'attack', collectors: 0 });
  const postgres = postmasterPid(server);
  /** CPU seconds so far of the backend (this process), PostgreSQL, the fleet and the attackers. */
  const cpuNow = (): Row['cores'] => {
    const own = process.cpuUsage();
    return {
      backend: (own.user + own.system) / 1e6,
      postgres: processTreeCpuSeconds(postgres),
      fleet: processTreeCpuSeconds(fleet.child.pid!),
      attack: processTreeCpuSeconds(attack.child.pid!),
    };
  };
  try {
    const ready = await fleet.next();
    if (ready.kind !== 'ready') throw new Error('fleet did not start');
    await attack.next();
    console.log(
      `fleet: registered in ${ready.registerSeconds.toFixed(1)} s, connected (one push each) in ${ready.connectSeconds.toFixed(1)} s`,
    );
    const rows: Row[] = [];
    const loop = monitorEventLoopDelay({ resolution: 10 });
    for (const phase of PHASES) {
      peak = process.memoryUsage().rss;
      maxWaiting = 0;
      maxInFlight = 0;
      loop.reset();
      loop.enable();
      if (phase.vectors.length > 0) {
        attack.send({ kind: 'attack', vectors: phase.vectors });
        await new Promise((r) => setTimeout(r, 2000)); // the attack is under way before the phase starts
      }
      const cpu0 = cpuNow();
      const waited0 = runQueueWaitSeconds(process.pid);
      const t0 = performance.now();
      fleet.send({ kind: 'phase', name: phase.name, seconds: phaseSeconds });
      const report = await fleet.next();
      if (report.kind !== 'phase') throw new Error('unexpected report');
      // The phase's CPU, before the attack's wind-down (slow uploads wait out the body deadline).
      const cpu1 = cpuNow();
      const wall = (performance.now() - t0) / 1000;
      const loopWaitedForCpu = (runQueueWaitSeconds(process.pid) - waited0) / wall;
      let attacked: Record<string, Record<string, number>> | undefined;
      if (phase.vectors.length > 0) {
        attack.send({ kind: 'stop' });
        const a = await attack.next();
        if (a.kind === 'attacked') attacked = a.counts;
      }
      loop.disable();
      const cores = {
        backend: (cpu1.backend - cpu0.backend) / wall,
        postgres: (cpu1.postgres - cpu0.postgres) / wall,
        fleet: (cpu1.fleet - cpu0.fleet) / wall,
        attack: (cpu1.attack - cpu0.attack) / wall,
      };
      rows.push({ phase: report, peakMiB: peak / 2 ** 20, cores, loopWaitedForCpu });
      const r = report;
      const refused = sumValues(r.refused);
      console.log(
        `${r.name.padEnd(18)} pushes ${r.attempted}, stored ${r.stored}, refused ${refused}${refused ? ` ${JSON.stringify(r.refused)}` : ''}, lost ${r.lost} (${r.retried} retried after a socket error); ` +
          `latency p50 ${percentile(r.latenciesMs, 50).toFixed(1)} ms, p95 ${percentile(r.latenciesMs, 95).toFixed(1)}, p99 ${percentile(r.latenciesMs, 99).toFixed(1)}; ` +
          `health p99 ${percentile(r.healthMs, 99).toFixed(1)} ms (${r.healthMs.length} ok, ${r.healthFailed} failed); backend peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB; ` +
          `cores: backend ${cores.backend.toFixed(2)}, PostgreSQL ${cores.postgres.toFixed(2)}, fleet ${cores.fleet.toFixed(2)}, attackers ${cores.attack.toFixed(2)}; ` +
          `most pushes in hand ${maxInFlight}, most queries waiting for an ingest connection ${maxWaiting}, event-loop delay p99 ${(loop.percentile(99) / 1e6).toFixed(0)} ms, max ${(loop.max / 1e6).toFixed(0)} ms, ` +
          `event loop waiting for a CPU ${(loopWaitedForCpu * 1000).toFixed(0)} ms/s; load average ${loadavg()[0].toFixed(1)}`,
      );
      if (attacked)
        for (const [v, counts] of Object.entries(attacked))
          if (Object.keys(counts).length) console.log(`   attacker ${v}: ${JSON.stringify(counts)}`);
    }
    fleet.send({ kind: 'stop' });
    // Every acknowledged push is in the database: the fleet's batches stored against what it was told.
    const acknowledged = rows.reduce((n, x) => n + x.phase.stored, 0) + ready.connectStored;
    const inDb = Number(
      (
        await backend.pool.query(`SELECT count(*) AS n FROM ingested_batches b JOIN collectors c ON c.id = b.collector_id
      JOIN servers s ON s.id = c.server_id WHERE s.hostname LIKE 'fleet-%'`)
      ).rows[0].n,
    );
    console.log(
      `fleet batches acknowledged ${acknowledged} (connect round included), in the database ${inDb}: ${acknowledged - inDb} lost after a 2xx`,
    );
    console.log('targets: 0 refused or lost; p95 within 2x the quiet phase before and < 200 ms; peak RSS < 1 GiB; health p99 < 100 ms');
    for (let i = 0; i < rows.length; i++) {
      const { phase: p, peakMiB } = rows[i];
      const quiet = p.name === 'quiet' ? p : rows[i - 1].phase;
      const q95 = percentile(quiet.latenciesMs, 95);
      const p95 = percentile(p.latenciesMs, 95);
      const ok =
        sumValues(p.refused) === 0 && p.lost === 0 && p95 <= 2 * q95 && p95 < 200 && peakMiB < 1024 && percentile(p.healthMs, 99) < 100;
      console.log(
        `  ${p.name.padEnd(18)} ${ok ? 'met' : 'NOT met'} (p95 ${p95.toFixed(1)} ms = ${(p95 / q95).toFixed(2)}x the quiet phase before)`,
      );
    }
  } finally {
    clearInterval(sampler);
    attack.child.kill();
    fleet.child.kill();
    await bench.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err.stack);
    process.exit(1);
  },
);
