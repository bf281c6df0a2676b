// The clients of the hostile benchmark (bench/hostile.ts), a child process per role so that
// neither shares the backend's event loop, nor the fleet's with the attackers':
//   fleet   N collectors, each registered through the real endpoint (its own CSR, certificate
//           and JWT), pushing on a 60 s cadence spread evenly, plus a health probe twice a
//           second from 127.0.0.1; reports per phase what the legitimate side saw;
//   attack  (a) 50 slow-body pushes of one valid collector, (b) nested-JSON and large-jsonb
//           pushes of another, (c) 40 unauthenticated keep-alive connections looping on health,
//           /metrics and login, from 127.0.0.2-5 (loopback addresses other than the fleet's).
// A push body is gzip(`{"protocol_version":2,"batch_id":"<uuid>",`) + a precompressed rest, as
// in bench/ingest-generator.ts: concatenated gzip members are one gzip stream.
import https from 'node:https';
import { gzipSync } from 'node:zlib';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import forge from 'node-forge';
import { PROTOCOL_VERSION, toWire } from '../protocol/index.ts';
import { nodeSigner } from '../backend/src/pki/ca.ts';
import { benchBatch } from './ingest-batch.ts';

/** a: slow bodies, b: costly JSON, c: unauthenticated health, /metrics and login, h: the same without login. */
export type Vector = 'a' | 'b' | 'c' | 'h';
export interface ClientsStart {
  role: 'fleet' | 'attack';
  url: string;
  caPem: string;
  enrolmentToken: string;
  collectors: number;
  cadenceSeconds: number;
  adminUser: string;
}
export type ClientsCommand =
  | { kind: 'phase'; name: string; seconds: number }
  | { kind: 'attack'; vectors: readonly Vector[] }
  | { kind: 'stop' };
export interface PhaseReport {
  kind: 'phase';
  name: string;
  attempted: number;
  stored: number;
  refused: Record<string, number>;
  lost: number;
  retried: number;
  latenciesMs: number[];
  healthMs: number[];
  healthFailed: number;
}
export type ClientsReport =
  | { kind: 'ready'; registerSeconds: number; connectSeconds: number; connectStored: number }
  | PhaseReport
  | { kind: 'attacked'; counts: Record<string, Record<string, number>> };

const KEYS = Array.from({ length: 4 }, () => generateKeyPairSync('rsa', { modulusLength: 2048 }));
const send = (m: ClientsReport): Promise<void> =>
  new Promise((resolve) => {
    process.send!(m, undefined, {}, () => resolve());
  });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Reply {
  status: number;
  text: string;
  retryAfter?: string;
}

function request(o: https.RequestOptions, body?: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(o, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          text: Buffer.concat(chunks).toString(),
          retryAfter: res.headers['retry-after'] as string | undefined,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(120_000, () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

interface Collector {
  id: string;
  token: string;
  keyPem: string;
  certPem: string;
  rest: Buffer;
}

async function register(s: ClientsStart, i: number, name: string): Promise<Collector> {
  const { privateKey, publicKey } = KEYS[i % KEYS.length];
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  csr.setSubject([{ name: 'commonName', value: name }]);
  csr.sign(nodeSigner(privateKey) as unknown as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  const u = new URL(s.url);
  const body = Buffer.from(
    JSON.stringify({
      enrolment_token: s.enrolmentToken,
      csr: forge.pki.certificationRequestToPem(csr),
      hostname: `${name}-host`,
      collector_version: 'bench',
    }),
  );
  const r = await request(
    {
      host: u.hostname,
      port: u.port,
      path: '/api/v1/collectors/register',
      method: 'POST',
      ca: s.caPem,
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
    },
    body,
  );
  if (r.status !== 201) throw new Error(`register: ${r.status} ${r.text}`);
  const reg = JSON.parse(r.text) as { collector_id: string; certificate: string; access_token: string };
  const { protocol_version: _v, batch_id: _b, ...rest } = toWire(benchBatch(reg.collector_id));
  return { id: reg.collector_id, token: reg.access_token, keyPem, certPem: reg.certificate, rest: gzipSync(JSON.stringify(rest).slice(1)) };
}

const pushBody = (c: Collector): Buffer =>
  Buffer.concat([gzipSync(`{"protocol_version":${PROTOCOL_VERSION},"batch_id":"${randomUUID()}",`, { level: 1 }), c.rest]);

function pushOptions(s: ClientsStart, c: Collector, agent: https.Agent | false, length: number): https.RequestOptions {
  const u = new URL(s.url);
  return {
    host: u.hostname,
    port: u.port,
    path: '/api/v1/metrics/push',
    method: 'POST',
    agent,
    ca: s.caPem,
    cert: c.certPem,
    key: c.keyPem,
    headers: {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      authorization: `Bearer ${c.token}`,
      'content-length': String(length),
    },
  };
}

async function inParallel<T>(n: number, items: readonly T[], fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let i = next++; i < items.length; i = next++) await fn(items[i], i);
    }),
  );
}

// ---------------------------------------------------------------- fleet

async function fleet(s: ClientsStart): Promise<void> {
  const t0 = performance.now();
  const sims: { c: Collector; agent: https.Agent }[] = [];
  await inParallel(
    8,
    Array.from({ length: s.collectors }, (_, i) => i),
    async (i) => {
      const c = await register(s, i, `fleet-${i}`);
      sims.push({ c, agent: new https.Agent({ ca: s.caPem, cert: c.certPem, key: c.keyPem, keepAlive: true, maxSockets: 2 }) });
    },
  );
  const registerSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  // Each collector connects and pushes once, outside the measured phases (first-push handshakes).
  let connectStored = 0;
  await inParallel(16, sims, async (sim) => {
    const body = pushBody(sim.c);
    const r = await request(pushOptions(s, sim.c, sim.agent, body.length), body).catch(() => undefined);
    if (r?.status === 201) connectStored++;
  });
  await send({ kind: 'ready', registerSeconds, connectSeconds: (performance.now() - t1) / 1000, connectStored });
  const u = new URL(s.url);
  const healthAgent = new https.Agent({ ca: s.caPem, keepAlive: true, maxSockets: 1 });
  let cursor = 0;
  for (;;) {
    const cmd = await nextCommand();
    if (cmd.kind === 'stop') return;
    if (cmd.kind !== 'phase') continue;
    const report: PhaseReport = {
      kind: 'phase',
      name: cmd.name,
      attempted: 0,
      stored: 0,
      refused: {},
      lost: 0,
      retried: 0,
      latenciesMs: [],
      healthMs: [],
      healthFailed: 0,
    };
    const start = performance.now();
    const end = start + cmd.seconds * 1000;
    const spacing = (s.cadenceSeconds * 1000) / sims.length;
    const pending = new Set<Promise<void>>();
    const probing = (async () => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          const r = await request({ host: u.hostname, port: u.port, path: '/api/v1/health', agent: healthAgent, ca: s.caPem });
          if (r.status === 200) report.healthMs.push(performance.now() - t);
          else report.healthFailed++;
        } catch {
          report.healthFailed++;
        }
        await sleep(Math.max(0, 500 - (performance.now() - t)));
      }
    })();
    for (let k = 0; ; k++) {
      const due = start + k * spacing;
      if (due >= end) break;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const sim = sims[cursor++ % sims.length];
      report.attempted++;
      const t = performance.now();
      const body = pushBody(sim.c);
      // A kept-alive connection the backend closed as it was reused (its 65 s keep-alive against
      // the 60 s cadence) is a socket error: a collector retries at once, and so does this.
      const send = (): Promise<Reply> => request(pushOptions(s, sim.c, sim.agent, body.length), body);
      const p = send()
        .catch(() => {
          report.retried++;
          return send();
        })
        .then(
          (r) => {
            if (r.status === 201 || r.status === 200) {
              report.stored++;
              report.latenciesMs.push(performance.now() - t);
            } else if (r.status >= 400 && r.status < 500) {
              const code = (JSON.parse(r.text) as { error?: { code?: string } }).error?.code ?? String(r.status);
              report.refused[code] = (report.refused[code] ?? 0) + 1;
            } else report.lost++;
          },
          () => {
            report.lost++;
          },
        )
        .finally(() => pending.delete(p));
      pending.add(p);
    }
    await Promise.all([...pending, probing]);
    await send(report);
  }
}

// ---------------------------------------------------------------- attack

/** Payloads of (b): each inflates to something the backend must refuse without paying for it. */
function costlyPayloads(c: Collector): { name: string; body: Buffer }[] {
  const now = new Date().toISOString();
  const envelope = (families: unknown): string =>
    JSON.stringify({
      protocol_version: PROTOCOL_VERSION,
      batch_id: randomUUID(),
      collector_id: c.id,
      collector_version: 'bench',
      config_version: 1,
      created_at: now,
      hostname: 'attacker',
      instances: [{ name: 'main', up: true }],
      families,
    });
  const logRows = (n: number, details: string): string =>
    envelope({
      pg_log: {
        time: Array(n).fill(now),
        instance: Array(n).fill('main'),
        severity: Array(n).fill('LOG'),
        kind: Array(n).fill('other'),
        details: Array(n).fill({ at: 'here' }),
      },
    }).replaceAll('{"at":"here"}', details);
  return [
    { name: 'nested-5M', body: gzipSync('['.repeat(5_000_000), { level: 9 }) },
    { name: 'jsonb-10k-deep', body: gzipSync(logRows(1, `${'{"d":'.repeat(10_000)}1${'}'.repeat(10_000)}`)) },
    // 21 rows whose details inflate to 3 MB each (63 MB): past the decompressed limit.
    { name: 'jsonb-21x3MB', body: gzipSync(logRows(21, JSON.stringify({ blob: 'x'.repeat(3_000_000) })), { level: 9 }) },
    // 150 rows of 100 KB details (15 MB): under the limit, refused by the per-value bound.
    { name: 'jsonb-150x100KB', body: gzipSync(logRows(150, JSON.stringify({ blob: 'y'.repeat(100_000) })), { level: 9 }) },
    { name: 'objects-300k', body: gzipSync(`[${'{},'.repeat(300_000)}{}]`) },
  ];
}

async function attack(s: ClientsStart): Promise<void> {
  const slowC = await register(s, 0, 'attacker-slow');
  const costlyC = await register(s, 1, 'attacker-costly');
  const payloads = costlyPayloads(costlyC);
  await send({ kind: 'ready', registerSeconds: 0, connectSeconds: 0, connectStored: 0 });
  const u = new URL(s.url);
  const counts: Record<string, Record<string, number>> = { a: {}, b: {}, c: {}, h: {} };
  const count = (v: string, key: string): void => {
    counts[v][key] = (counts[v][key] ?? 0) + 1;
  };
  let running = false;
  let loops: Promise<void>[] = [];
  /** After a refusal an attacker waits what Retry-After says, at most a second: it keeps pressing. */
  const pause = (r: Reply): Promise<void> => sleep(r.retryAfter ? Math.min(1000, Number(r.retryAfter) * 1000) : 0);
  const codeOf = (r: Reply): string => {
    try {
      return `${r.status} ${(JSON.parse(r.text) as { error?: { code?: string } }).error?.code ?? ''}`.trim();
    } catch {
      return String(r.status);
    }
  };

  const slowLoop = async (): Promise<void> => {
    while (running) {
      const r = await new Promise<Reply>((resolve) => {
        const req = https.request(pushOptions(s, slowC, false, 1_000_000), (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () =>
            resolve({
              status: res.statusCode!,
              text: Buffer.concat(chunks).toString(),
              retryAfter: res.headers['retry-after'] as string | undefined,
            }),
          );
        });
        req.on('error', () => resolve({ status: 0, text: 'error' }));
        req.write(Buffer.from([0x1f])); // one byte of a declared megabyte, then nothing
      });
      count('a', codeOf(r));
      await pause(r);
    }
  };
  const costlyAgent = new https.Agent({ ca: s.caPem, cert: costlyC.certPem, key: costlyC.keyPem, keepAlive: true, maxSockets: 2 });
  const costlyLoop = async (offset: number): Promise<void> => {
    for (let i = offset; running; i++) {
      const p = payloads[i % payloads.length];
      const r = await request(pushOptions(s, costlyC, costlyAgent, p.body.length), p.body).catch(
        (): Reply => ({ status: 0, text: 'error' }),
      );
      count('b', `${p.name} ${codeOf(r)}`);
      await pause(r);
    }
  };
  const unauthLoop = async (i: number, v: 'c' | 'h'): Promise<void> => {
    const kinds = v === 'c' ? 3 : 2;
    const agent = new https.Agent({ ca: s.caPem, keepAlive: true, maxSockets: 1, localAddress: `127.0.0.${2 + (i % 4)}` });
    const login = Buffer.from(JSON.stringify({ username: s.adminUser, password: 'not-the-password' }));
    for (let k = i; running; k++) {
      const which = k % kinds;
      const o: https.RequestOptions =
        which === 0
          ? { path: '/api/v1/health' }
          : which === 1
            ? { path: '/metrics' }
            : {
                path: '/api/v1/auth/login',
                method: 'POST',
                headers: { 'content-type': 'application/json', 'content-length': String(login.length) },
              };
      const r = await request({ host: u.hostname, port: u.port, agent, ca: s.caPem, ...o }, which === 2 ? login : undefined).catch(
        (): Reply => ({ status: 0, text: 'error' }),
      );
      count(v, `${o.path} ${r.status}`);
    }
  };

  for (;;) {
    const cmd = await nextCommand();
    if (cmd.kind === 'attack') {
      running = true;
      for (const v of cmd.vectors) {
        if (v === 'a') loops.push(...Array.from({ length: 50 }, () => slowLoop()));
        if (v === 'b') loops.push(costlyLoop(0), costlyLoop(2));
        if (v === 'c' || v === 'h') loops.push(...Array.from({ length: 40 }, (_, i) => unauthLoop(i, v)));
      }
    } else if (cmd.kind === 'stop') {
      running = false;
      // Slow uploads end at the backend's body deadline; nothing else waits longer.
      await Promise.all(loops);
      loops = [];
      await send({ kind: 'attacked', counts: structuredClone(counts) });
      for (const v of Object.keys(counts)) counts[v] = {};
    }
  }
}

// ---------------------------------------------------------------- plumbing

const commands: ClientsCommand[] = [];
let wake: (() => void) | undefined;
function nextCommand(): Promise<ClientsCommand> {
  const c = commands.shift();
  return c
    ? Promise.resolve(c)
    : new Promise((r) => {
        wake = () => r(commands.shift()!);
      });
}

process.once('message', (m: ClientsStart) => {
  process.on('message', (c: ClientsCommand) => {
    commands.push(c);
    wake?.();
    wake = undefined;
  });
  (m.role === 'fleet' ? fleet(m) : attack(m)).then(
    () => process.exit(0),
    (err: Error) => {
      console.error(`${m.role}: ${err.stack}`);
      process.exit(1);
    },
  );
});
