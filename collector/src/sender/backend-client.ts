// Talks to the backend over HTTPS with TLS 1.3 only: registration (server-authenticated by the
// configured CA), then mutual TLS with the client certificate plus a JWT for everything else.
// Node's own https keeps a small keep-alive pool to the backend: its HTTP parser is part of the
// node binary, where undici's is a WebAssembly module: with it a collector held ~10 MB more RSS.
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { PushResponse } from '../../../protocol/index.ts';
import { completeRenewal, saveCredentials, saveTokens, stageRenewalKey, type Credentials } from '../credentials.ts';
import { errorMessage } from '../../../common/errors.ts';

/** What became of one push. */
export type PushOutcome =
  | { kind: 'accepted'; status: 'stored' | 'duplicate'; configVersion: number }
  | { kind: 'retry'; reason: string; retryAfterMs?: number; authRefused?: boolean }
  | { kind: 'rejected'; reason: string; httpStatus: number };

export class BackendError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'BackendError';
  }
}

const REFRESH_MARGIN_MS = 120_000; // refresh the JWT two minutes before it expires
/** No answer (headers and body) within this long fails the request. */
const REQUEST_TIMEOUT_MS = 60_000;
/** An idle kept-alive connection is closed a second before the backend's Keep-Alive hint says
 *  it will (65 s: a collector on the default 60 s interval pushes on an open connection, with no
 *  new mutual-TLS handshake), or after this long when there is no hint. */
const IDLE_TIMEOUT_MS = 300_000;
/** The largest response read: the backend's answers are small, a served config a few kB. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

interface Response {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One request; the whole response body is read (at most MAX_RESPONSE_BYTES). */
function request(
  url: URL,
  opts: { method: string; agent: https.Agent; headers?: Record<string, string>; body?: string | Buffer },
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { method: opts.method, agent: opts.agent, headers: opts.headers, timeout: REQUEST_TIMEOUT_MS },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) req.destroy(new Error(`response larger than ${MAX_RESPONSE_BYTES} bytes`));
          else chunks.push(c);
        });
        res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(Object.assign(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })),
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

function json<T>(res: Response): T {
  return JSON.parse(res.body.toString('utf8')) as T;
}

function errorOf(res: Response): BackendError {
  const text = res.body.toString('utf8');
  let code = 'http_error';
  let message = text.slice(0, 300);
  try {
    const j = JSON.parse(text) as { error?: { code?: string; message?: string } };
    code = j.error?.code ?? code;
    message = j.error?.message ?? message;
  } catch {
    /* not JSON: keep the text */
  }
  return new BackendError(res.statusCode, code, `${res.statusCode} ${code}: ${message}`);
}

/** A new RSA key (it never leaves this host) and a CSR for it; the backend decides the subject.
 *  node-forge is loaded here only: it is needed at registration and renewal, and loading it at
 *  start would cost every running collector ~5 MB. */
export async function newKeyAndCsr(commonName: string): Promise<{ keyPem: string; csrPem: string }> {
  const { default: forge } = await import('node-forge');
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  csr.setSubject([{ name: 'commonName', value: commonName }]);
  csr.sign(forge.pki.privateKeyFromPem(keyPem) as Parameters<typeof csr.sign>[0], forge.md.sha256.create());
  return { keyPem, csrPem: forge.pki.certificationRequestToPem(csr) };
}

/** Registers with an enrolment token: makes a key pair and CSR here, sends only the CSR. */
export async function register(opts: {
  backendUrl: string;
  caPem: string;
  enrolmentToken: string;
  hostname: string;
  stateDir: string;
  collectorVersion: string;
}): Promise<Credentials> {
  const { keyPem, csrPem } = await newKeyAndCsr(opts.hostname);
  const agent = new https.Agent({ ca: opts.caPem, minVersion: 'TLSv1.3' });
  try {
    const res = await request(new URL('/api/v1/collectors/register', opts.backendUrl), {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        enrolment_token: opts.enrolmentToken,
        csr: csrPem,
        hostname: opts.hostname,
        collector_version: opts.collectorVersion,
      }),
    });
    if (res.statusCode !== 201) throw errorOf(res);
    const j = json<{
      collector_id: string;
      certificate: string;
      ca_chain: string[];
      access_token: string;
      expires_in: number;
      refresh_token: string;
    }>(res);
    const creds: Credentials = {
      collectorId: j.collector_id,
      keyPem,
      certPem: j.certificate,
      caPem: j.ca_chain.join('\n'),
      accessToken: j.access_token,
      accessTokenExpiresAt: Date.now() + j.expires_in * 1000,
      refreshToken: j.refresh_token,
    };
    saveCredentials(opts.stateDir, creds);
    return creds;
  } finally {
    agent.destroy();
  }
}

function mtlsAgent(creds: Credentials): https.Agent {
  return new https.Agent({
    ca: creds.caPem,
    cert: creds.certPem,
    key: creds.keyPem,
    minVersion: 'TLSv1.3',
    keepAlive: true,
    maxSockets: 2,
    timeout: IDLE_TIMEOUT_MS,
  });
}

export class BackendClient {
  private agent: https.Agent;

  constructor(
    private readonly backendUrl: string,
    private creds: Credentials,
    private readonly stateDir: string,
  ) {
    this.agent = mtlsAgent(creds);
  }

  /** When the client certificate expires, and how long it was issued for. */
  certificateValidity(): { notAfter: number; lifetimeMs: number } {
    const c = new X509Certificate(this.creds.certPem);
    const notAfter = Date.parse(c.validTo);
    return { notAfter, lifetimeMs: notAfter - Date.parse(c.validFrom) };
  }

  /** A new key and certificate, asked for over mTLS with the current ones. */
  async renewCertificate(): Promise<void> {
    const { keyPem, csrPem } = await newKeyAndCsr(this.creds.collectorId);
    stageRenewalKey(this.stateDir, keyPem);
    const token = await this.accessToken();
    const res = await request(new URL('/api/v1/collectors/renew', this.backendUrl), {
      method: 'POST',
      agent: this.agent,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ csr: csrPem }),
    });
    if (res.statusCode !== 200) throw errorOf(res);
    const j = json<{ certificate: string; ca_chain: string[]; access_token: string; expires_in: number }>(res);
    this.creds = {
      ...this.creds,
      keyPem,
      certPem: j.certificate,
      caPem: j.ca_chain.join('\n'),
      accessToken: j.access_token,
      accessTokenExpiresAt: Date.now() + j.expires_in * 1000,
    };
    completeRenewal(this.stateDir, this.creds);
    const old = this.agent;
    this.agent = mtlsAgent(this.creds);
    old.destroy();
  }

  get collectorId(): string {
    return this.creds.collectorId;
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }

  /** A valid access token, refreshed (with the refresh token, over mTLS) before it expires. */
  async accessToken(force = false): Promise<string> {
    if (!force && this.creds.accessTokenExpiresAt - Date.now() > REFRESH_MARGIN_MS) return this.creds.accessToken;
    // One refresh at a time: the refresh token rotates on use, and two refreshes racing with
    // the same token could leave the one saved last already replaced on the backend.
    this.refreshing ??= this.refreshAccessToken().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private refreshing: Promise<string> | undefined;

  private async refreshAccessToken(): Promise<string> {
    const res = await request(new URL('/api/v1/collectors/token', this.backendUrl), {
      method: 'POST',
      agent: this.agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: this.creds.refreshToken }),
    });
    if (res.statusCode !== 200) throw errorOf(res);
    // The backend rotates the refresh token on use (a backend before that sends none).
    const j = json<{ access_token: string; expires_in: number; refresh_token?: string }>(res);
    this.creds = {
      ...this.creds,
      accessToken: j.access_token,
      accessTokenExpiresAt: Date.now() + j.expires_in * 1000,
      refreshToken: j.refresh_token ?? this.creds.refreshToken,
    };
    saveTokens(this.stateDir, this.creds);
    return j.access_token;
  }

  /** Sends one gzipped batch. Never throws: network and HTTP failures become outcomes. */
  async push(gzBody: Buffer): Promise<PushOutcome> {
    for (let attempt = 0; attempt < 2; attempt++) {
      let res: Response;
      try {
        const token = await this.accessToken(attempt > 0);
        res = await request(new URL('/api/v1/metrics/push', this.backendUrl), {
          method: 'POST',
          agent: this.agent,
          body: gzBody,
          headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: `Bearer ${token}` },
        });
      } catch (err) {
        if (err instanceof BackendError) return classify(err);
        // A kept-alive connection the backend closed (it restarted) fails at once: one more
        // try on a fresh connection is safe, the batch id makes a repeat harmless.
        if (attempt === 0 && isStaleConnection(err)) continue;
        return { kind: 'retry', reason: `network: ${errorMessage(err)}` };
      }
      if (res.statusCode === 200 || res.statusCode === 201) {
        let j: PushResponse;
        try {
          j = json<PushResponse>(res);
        } catch {
          return { kind: 'retry', reason: `unreadable ${res.statusCode} answer` };
        }
        return { kind: 'accepted', status: j.status, configVersion: j.config_version };
      }
      const err = errorOf(res);
      // An expired token (clock skew, a long pause) earns one refresh and one more try.
      if (err.code === 'token_expired' && attempt === 0) continue;
      const outcome = classify(err);
      if (outcome.kind === 'retry') {
        const ra = Number(res.headers['retry-after']);
        if (Number.isFinite(ra) && ra >= 0) outcome.retryAfterMs = ra * 1000;
      }
      return outcome;
    }
    return { kind: 'retry', reason: 'token refresh did not help' };
  }

  /** GET the served config; undefined when unchanged (304). */
  async pullConfig(etag: string | undefined): Promise<{ toml: string; etag: string | undefined } | undefined> {
    const token = await this.accessToken();
    const res = await request(new URL(`/api/v1/config/${this.creds.collectorId}`, this.backendUrl), {
      method: 'GET',
      agent: this.agent,
      headers: { authorization: `Bearer ${token}`, ...(etag ? { 'if-none-match': etag } : {}) },
    });
    if (res.statusCode === 304) return undefined;
    if (res.statusCode !== 200) throw errorOf(res);
    const tag = res.headers.etag;
    return { toml: res.body.toString('utf8'), etag: typeof tag === 'string' ? tag : undefined };
  }
}

function isStaleConnection(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

/** 408, 425, 429 and 5xx are worth retrying; other 4xx will fail the same way again, except
 *  refused credentials (401/403) and a protocol version the backend does not speak (426): the
 *  batch stays spooled until an operator fixes them. */
function classify(err: BackendError): PushOutcome {
  if (err.httpStatus === 401 || err.httpStatus === 403 || err.httpStatus === 426)
    return { kind: 'retry', reason: err.message, authRefused: true };
  if (err.httpStatus === 408 || err.httpStatus === 425 || err.httpStatus === 429 || err.httpStatus >= 500) {
    return { kind: 'retry', reason: err.message };
  }
  return { kind: 'rejected', reason: err.message, httpStatus: err.httpStatus };
}
