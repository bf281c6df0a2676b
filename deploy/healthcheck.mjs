// Container health check for the backend: GET /api/v1/health over HTTPS (TLS 1.3), verifying the
// server certificate against our CA. Exit 0 when the backend and its database are up.
// Plain JavaScript so the probe starts in milliseconds without tsx.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';

const env = process.env;
const caFile = env.PGA_TLS_CA_CERT ?? join(env.PGA_DATA_DIR ?? '/var/lib/pganalytics/backend', 'pki', 'ca.crt');
const req = request(
  {
    host: '127.0.0.1',
    port: Number(env.PGA_PORT ?? 8443),
    path: '/api/v1/health',
    method: 'GET',
    ca: readFileSync(caFile),
    minVersion: 'TLSv1.3',
    timeout: 4000,
    // Our own process on loopback: the chain check proves it serves a certificate of our CA; the
    // name check would only fail on production certificates that do not list 127.0.0.1.
    checkServerIdentity: () => undefined,
  },
  (res) => {
    res.resume();
    process.exit(res.statusCode === 200 ? 0 : 1);
  },
);
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', (err) => {
  console.error(`unhealthy: ${err.message}`);
  process.exit(1);
});
req.end();
