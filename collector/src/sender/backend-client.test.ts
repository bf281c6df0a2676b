// The collector's HTTPS client against a real TLS server that misbehaves: answers too big to
// read, answers that are not JSON, kept-alive connections closed under it, TLS below 1.3.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreatePki } from '../../../backend/src/pki/ca.ts';
import { BackendClient, newKeyAndCsr } from './backend-client.ts';
import type { Credentials } from '../credentials.ts';

const dir = mkdtempSync(join(tmpdir(), 'pga-client-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const pki = loadOrCreatePki({ dataDir: dir, serverNames: ['127.0.0.1'] });
const { keyPem, csrPem } = await newKeyAndCsr('client-test');
const creds: Credentials = {
  collectorId: 'c0ffee00-0000-4000-8000-000000000001',
  keyPem,
  certPem: pki.signCsr(csrPem, 'client-test', 1).certPem,
  caPem: pki.caCertPem,
  accessToken: 'token',
  accessTokenExpiresAt: Date.now() + 3600_000,
  refreshToken: 'refresh',
};

/** A TLS server asking for the client certificate; `handle` answers each request. */
async function serve(
  handle: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, n: number) => void,
  tls: https.ServerOptions = {},
  keepAliveTimeout = 5000,
): Promise<{ url: string; close: () => Promise<void>; clientCerts: number; connections: number }> {
  let n = 0;
  const state = { clientCerts: 0, connections: 0 };
  const server = https.createServer(
    {
      cert: pki.serverCertPem,
      key: pki.serverKeyPem,
      ca: pki.caCertPem,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.3',
      ...tls,
    },
    (req, res) => {
      if ((req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject) state.clientCerts++;
      req.resume();
      req.on('end', () => handle(req, res, ++n));
    },
  );
  server.keepAliveTimeout = keepAliveTimeout;
  server.on('secureConnection', () => {
    state.connections++;
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get clientCerts() {
      return state.clientCerts;
    },
    get connections() {
      return state.connections;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

const body = Buffer.from('{}');

test('an accepted push, over mutual TLS with the bearer token', async () => {
  let auth: string | undefined;
  const s = await serve((req, res) => {
    auth = req.headers.authorization;
    res.end(JSON.stringify({ status: 'stored', config_version: 3 }));
  });
  const client = new BackendClient(s.url, creds, dir);
  assert.deepEqual(await client.push(body), { kind: 'accepted', status: 'stored', configVersion: 3 });
  assert.equal(auth, 'Bearer token');
  assert.equal(s.clientCerts, 1);
  await client.close();
  await s.close();
});

test('an answer larger than the client reads is refused, not buffered', async () => {
  const s = await serve((_req, res) => {
    res.end(Buffer.alloc(5 * 1024 * 1024, 0x20));
  });
  const client = new BackendClient(s.url, creds, dir);
  const out = await client.push(body);
  assert.equal(out.kind, 'retry');
  assert.match((out as { reason: string }).reason, /response larger than 4194304 bytes/);
  await client.close();
  await s.close();
});

test('a 200 that is not JSON is retried later, never taken as stored', async () => {
  const s = await serve((_req, res) => {
    res.end('<html>proxy error</html>');
  });
  const client = new BackendClient(s.url, creds, dir);
  assert.deepEqual(await client.push(body), { kind: 'retry', reason: 'unreadable 200 answer' });
  await client.close();
  await s.close();
});

test('a kept-alive connection the server dropped costs one silent retry on a new one', async () => {
  const s = await serve((_req, res, n) => {
    // The second request arrives on the connection kept from the first: drop it unanswered.
    if (n === 2) {
      res.socket!.destroy();
      return;
    }
    res.end(JSON.stringify({ status: 'stored', config_version: 1 }));
  });
  const client = new BackendClient(s.url, creds, dir);
  assert.equal((await client.push(body)).kind, 'accepted');
  assert.equal((await client.push(body)).kind, 'accepted');
  await client.close();
  await s.close();
});

test('a server offering only TLS 1.2 is not talked to', async () => {
  let requests = 0;
  const s = await serve(
    (_req, res) => {
      requests++;
      res.end('{}');
    },
    { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' },
  );
  const client = new BackendClient(s.url, creds, dir);
  const out = await client.push(body);
  assert.equal(out.kind, 'retry');
  assert.match((out as { reason: string }).reason, /^network: .*(version|protocol)/i);
  assert.equal(requests, 0);
  await client.close();
  await s.close();
});

test("an error answer keeps the backend's code and message; a 4xx is not retried", async () => {
  const s = await serve((_req, res) => {
    res.writeHead(422, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'invalid_batch', message: 'families.sysstat: bad' } }));
  });
  const client = new BackendClient(s.url, creds, dir);
  assert.deepEqual(await client.push(body), { kind: 'rejected', reason: '422 invalid_batch: families.sysstat: bad', httpStatus: 422 });
  await client.close();
  await s.close();
});

test("an idle connection is kept as long as the server's Keep-Alive hint allows, less a second", async () => {
  const stored = JSON.stringify({ status: 'stored', config_version: 1 });
  const s = await serve(
    (_req, res) => {
      res.end(stored);
    },
    {},
    3000,
  ); // the server says timeout=3
  const client = new BackendClient(s.url, creds, dir);
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  assert.equal((await client.push(body)).kind, 'accepted');
  await pause(1200);
  assert.equal((await client.push(body)).kind, 'accepted');
  assert.equal(s.connections, 1, 'reused after 1.2 s idle');
  await pause(2500);
  assert.equal((await client.push(body)).kind, 'accepted');
  assert.equal(s.connections, 2, 'closed by us after 2 s idle, before the server would');
  await client.close();
  await s.close();
});
