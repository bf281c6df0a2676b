// The ingest benchmark's load generator, a child process of bench/ingest.ts so that it does not
// share the backend's event loop. It registers N collectors through the real endpoint (each
// its own CSR, certificate and JWT), then runs the phases it is told and reports figures.
//
// Each collector's batch is gzipped once: a push sends gzip(`{"protocol_version":2,"batch_id":
// "<fresh uuid>",`) followed by that precompressed rest. Concatenated gzip members are one
// valid gzip stream, so the backend inflates and parses the whole batch as usual, while the
// generator spends microseconds, not milliseconds, per push.
import https from 'node:https';
import { gzipSync } from 'node:zlib';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import forge from 'node-forge';
import { PROTOCOL_VERSION, rowCount, toWire } from '../protocol/index.ts';
import { nodeSigner } from '../backend/src/pki/ca.ts';
import { benchBatch } from './ingest-batch.ts';

export interface GeneratorStart {
  url: string;
  caPem: string;
  enrolmentToken: string;
  collectors: number;
  saturationConcurrency: number;
  cadenceSeconds: number;
}

/** What the parent asks for once every collector is connected: a saturation round, the cadence
 *  run (the generator's last phase) or the end. */
export type GeneratorCommand = { kind: 'saturate'; seconds: number } | { kind: 'cadence'; minutes: number } | { kind: 'stop' };

export type GeneratorReport =
  | { kind: 'registered'; collectors: number; seconds: number; rowsPerBatch: number; gzipBytes: number; jsonBytes: number }
  | { kind: 'connected'; collectors: number; seconds: number }
  | { kind: 'saturation'; rows: number; pushes: number; seconds: number; throttled: number; errors: number; handshakes: number }
  | { kind: 'cadence-start' }
  | { kind: 'cadence'; latenciesMs: number[]; pushes: number; throttled: number; errors: number; late: number };

interface Sim {
  id: string;
  token: string;
  agent: https.Agent;
  rest: Buffer;
  rows: number;
  /** performance.now() of its last push: its connection is alive while the backend's keep-alive lasts. */
  lastPush: number;
}

/** Resolves once the report is handed to the parent: exiting before then can lose it (the
 *  last report, the cadence's latencies, is large). */
const send = (m: GeneratorReport): Promise<void> =>
  new Promise((resolve) => {
    process.send!(m, undefined, {}, () => resolve());
  });
const KEYS = Array.from({ length: 4 }, () => generateKeyPairSync('rsa', { modulusLength: 2048 }));

function csrFor(i: number): { keyPem: string; csrPem: string } {
  // A few key pairs shared by the simulated hosts: every collector still gets its own CSR,
  // certificate and JWT; generating 2,000 RSA keys would only measure the generator.
  const { privateKey, publicKey } = KEYS[i % KEYS.length];
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  csr.setSubject([{ name: 'commonName', value: `bench-${i}` }]);
  // Signed by OpenSSL, as the backend's CA signs: forge's JavaScript RSA made registering
  // 2,000 collectors take two minutes of this process's CPU.
  csr.sign(nodeSigner(privateKey) as unknown as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { keyPem, csrPem: forge.pki.certificationRequestToPem(csr) };
}

/** `fresh`: the request opened a new connection (a TLS handshake) instead of reusing one. */
function request(
  agent: https.Agent,
  url: URL,
  path: string,
  body: Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; text: string; retryAfter?: string; fresh: boolean }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: url.hostname, port: url.port, path, method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            text: Buffer.concat(chunks).toString(),
            retryAfter: res.headers['retry-after'] as string | undefined,
            fresh: !req.reusedSocket,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function register(s: GeneratorStart, url: URL, i: number): Promise<Sim> {
  const { keyPem, csrPem } = csrFor(i);
  const anon = new https.Agent({ ca: s.caPem, keepAlive: false });
  const r = await request(
    anon,
    url,
    '/api/v1/collectors/register',
    Buffer.from(
      JSON.stringify({ enrolment_token: s.enrolmentToken, csr: csrPem, hostname: `bench-host-${i}`, collector_version: 'bench' }),
    ),
    { 'content-type': 'application/json' },
  );
  if (r.status !== 201) throw new Error(`register: ${r.status} ${r.text}`);
  const reg = JSON.parse(r.text) as { collector_id: string; certificate: string; access_token: string };
  const batch = benchBatch(reg.collector_id);
  const wire = toWire(batch);
  const { protocol_version: _v, batch_id: _b, ...rest } = wire;
  const restJson = JSON.stringify(rest).slice(1); // drops the leading "{"
  return {
    id: reg.collector_id,
    token: reg.access_token,
    rows: rowCount(wire),
    agent: new https.Agent({ ca: s.caPem, cert: reg.certificate, key: keyPem, keepAlive: true, maxSockets: 4 }),
    rest: gzipSync(restJson),
    lastPush: 0,
  };
}

function body(sim: Sim): Buffer {
  return Buffer.concat([gzipSync(`{"protocol_version":${PROTOCOL_VERSION},"batch_id":"${randomUUID()}",`, { level: 1 }), sim.rest]);
}

async function pushOnce(sim: Sim, url: URL): Promise<{ status: number; ms: number; retryAfter?: string; fresh: boolean }> {
  const t = performance.now();
  sim.lastPush = t;
  const r = await request(sim.agent, url, '/api/v1/metrics/push', body(sim), {
    'content-type': 'application/json',
    'content-encoding': 'gzip',
    authorization: `Bearer ${sim.token}`,
  });
  if (r.status >= 500) throw new Error(`push: ${r.status} ${r.text}`);
  return { status: r.status, ms: performance.now() - t, retryAfter: r.retryAfter, fresh: r.fresh };
}

/** Connections idle longer than this are pushed on before a saturation round (keep-alive 65 s). */
const KEEP_ALIVE_MARGIN_MS = 45_000;

const staleOf = (sims: readonly Sim[]): Sim[] => sims.filter((sim) => performance.now() - sim.lastPush > KEEP_ALIVE_MARGIN_MS);

/** Each collector of `queue` pushes once, `saturationConcurrency` at a time (the queue is
 *  consumed); a failed push ends the run unless `tolerate`. */
async function pushEach(s: GeneratorStart, url: URL, queue: Sim[], tolerate = false): Promise<void> {
  await Promise.all(
    Array.from({ length: s.saturationConcurrency }, async () => {
      for (let sim = queue.pop(); sim; sim = queue.pop())
        await pushOnce(sim, url).catch((err: Error) => {
          if (!tolerate) throw err;
        });
    }),
  );
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function run(s: GeneratorStart): Promise<void> {
  const url = new URL(s.url);
  const t0 = performance.now();
  const sims: Sim[] = [];
  const queue = Array.from({ length: s.collectors }, (_, i) => i);
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) sims.push(await register(s, url, i));
    }),
  );
  const sample = benchBatch(sims[0].id);
  void send({
    kind: 'registered',
    collectors: sims.length,
    seconds: (performance.now() - t0) / 1000,
    rowsPerBatch: sims[0].rows,
    gzipBytes: body(sims[0]).length,
    jsonBytes: JSON.stringify(toWire(sample)).length,
  });

  // Each collector connects and pushes once before the measured phases: saturation is the
  // backend's steady state (a fleet replaying its spools after an outage pushes back to back
  // over open connections). Without this, with 2,000 collectors nearly every push of a 30 s
  // window is a collector's first, and the window measures mutual-TLS handshakes instead.
  const t1 = performance.now();
  await pushEach(s, url, [...sims]);
  void send({ kind: 'connected', collectors: sims.length, seconds: (performance.now() - t1) / 1000 });

  let next = 0;
  for (;;) {
    const cmd = await nextCommand();
    if (cmd.kind === 'stop') return;
    if (cmd.kind === 'saturate') void send(await saturate(s, url, sims, cmd.seconds, () => next++));
    else {
      await cadence(s, url, sims, cmd.minutes);
      return;
    }
  }
}

/** Back-to-back pushes from `saturationConcurrency` loops, round-robin over the collectors,
 *  honouring 429 Retry-After as a collector does. */
async function saturate(s: GeneratorStart, url: URL, sims: Sim[], seconds: number, turn: () => number): Promise<GeneratorReport> {
  // A fleet on its 60 s cadence keeps its connections open (the backend's keep-alive is 65 s),
  // but a round comes after the other rounds and the raw COPY ones: collectors whose connection
  // may have idled out push once first, outside the measured time, in passes until none is
  // left (a pass takes long enough for others to become stale meanwhile).
  for (let stale = staleOf(sims); stale.length > 0; stale = staleOf(sims)) await pushEach(s, url, stale, true);
  let rows = 0,
    pushes = 0,
    throttled = 0,
    errors = 0,
    handshakes = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: s.saturationConcurrency }, async () => {
      while (performance.now() < end) {
        const sim = sims[turn() % sims.length];
        try {
          const r = await pushOnce(sim, url);
          if (r.fresh) handshakes++;
          if (r.status === 429) {
            throttled++;
            await sleep(Number(r.retryAfter ?? 1) * 100);
            continue;
          }
          if (r.status !== 201) {
            errors++;
            continue;
          }
          rows += sim.rows;
          pushes++;
        } catch {
          errors++;
        }
      }
    }),
  );
  return { kind: 'saturation', rows, pushes, seconds: (performance.now() - start) / 1000, throttled, errors, handshakes };
}

/** Every collector pushes once per cadence, spread evenly across it. */
async function cadence(s: GeneratorStart, url: URL, sims: Sim[], minutes: number): Promise<void> {
  void send({ kind: 'cadence-start' });
  const latencies: number[] = [];
  let late = 0,
    pushes = 0,
    throttled = 0,
    errors = 0;
  const cStart = performance.now();
  const cEnd = cStart + minutes * 60_000;
  const spacing = (s.cadenceSeconds * 1000) / sims.length;
  const inFlight = new Set<Promise<void>>();
  for (let k = 0; ; k++) {
    const due = cStart + k * spacing;
    if (due >= cEnd) break;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    else if (wait < -1000) late++;
    const sim = sims[k % sims.length];
    const p = pushOnce(sim, url)
      .then(
        (r) => {
          if (r.status === 201) {
            latencies.push(r.ms);
            pushes++;
          } else if (r.status === 429) throttled++;
          else errors++;
        },
        () => {
          errors++;
        },
      )
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  await send({ kind: 'cadence', latenciesMs: latencies, pushes, throttled, errors, late });
}

const commands: GeneratorCommand[] = [];
let wake: (() => void) | undefined;
function nextCommand(): Promise<GeneratorCommand> {
  const c = commands.shift();
  return c
    ? Promise.resolve(c)
    : new Promise((r) => {
        wake = () => r(commands.shift()!);
      });
}

process.once('message', (m: GeneratorStart) => {
  process.on('message', (c: GeneratorCommand) => {
    commands.push(c);
    wake?.();
    wake = undefined;
  });
  run(m).then(
    () => process.exit(0),
    (err: Error) => {
      console.error(`generator: ${err.stack}`);
      process.exit(1);
    },
  );
});
