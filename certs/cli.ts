// Production certificate and signing-key tooling (`npm run certs -- <command>`). It reuses the
// backend's own PKI code, so a CA made here is exactly what the backend would make on first start.
//   create-ca --out DIR                          DIR/ca.crt + DIR/ca.key (0600)
//   create-server-cert --ca DIR --names a,b [--out DIR]
//                                                 server.crt + server.key (0600) signed by DIR's CA
//   rotate-jwt-key --data-dir DIR [--stage | --promote | --retire]
//                                                 add, promote or retire JWT signing keys in DIR/jwt
// See DEPLOYMENT.md ("Certificates and keys") for the rotation procedures.
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createCa, createServerCert, writeSecretFile } from '../backend/src/pki/ca.ts';
import { errorMessage } from '../common/errors.ts';

const USAGE = `usage: npm run certs -- <command>
  create-ca --out DIR [--force]
  create-server-cert --ca DIR --names NAME[,NAME…] [--out DIR] [--force]
  rotate-jwt-key --data-dir DIR [--stage | --promote | --retire]`;

class UsageError extends Error {}

function refuseOverwrite(paths: string[], force: boolean): void {
  const existing = paths.filter((p) => existsSync(p));
  // Overwriting a CA key silently would orphan every collector certificate it signed.
  if (existing.length > 0 && !force) throw new UsageError(`refusing to overwrite ${existing.join(', ')} (use --force)`);
}

function createCaCommand(out: string, force: boolean): void {
  const cert = join(out, 'ca.crt');
  const key = join(out, 'ca.key');
  refuseOverwrite([cert, key], force);
  mkdirSync(out, { recursive: true, mode: 0o700 });
  const ca = createCa();
  writeSecretFile(key, ca.keyPem);
  writeFileSync(cert, ca.certPem, { mode: 0o644 });
  const x = new X509Certificate(ca.certPem);
  console.log(
    `CA written: ${cert} (key ${key}, mode 0600)\n  subject ${x.subject.replace(/\n/g, ', ')}\n  valid until ${x.validTo}\n  sha256 ${x.fingerprint256}`,
  );
}

function createServerCertCommand(caDir: string, names: string[], out: string, force: boolean): void {
  if (names.length === 0) throw new UsageError('--names needs at least one DNS name or IP address');
  const cert = join(out, 'server.crt');
  const key = join(out, 'server.key');
  refuseOverwrite([cert, key], force);
  // A bundle (new CA first, see DEPLOYMENT.md) signs with its first certificate, as the backend does.
  const caCertPem = readFileSync(join(caDir, 'ca.crt'), 'utf8');
  const caKeyPem = readFileSync(join(caDir, 'ca.key'), 'utf8');
  mkdirSync(out, { recursive: true, mode: 0o700 });
  const srv = createServerCert(caCertPem, caKeyPem, names);
  writeSecretFile(key, srv.keyPem);
  writeFileSync(cert, srv.certPem, { mode: 0o644 });
  const x = new X509Certificate(srv.certPem);
  console.log(`server certificate written: ${cert} (key ${key}, mode 0600)\n  ${x.subjectAltName}\n  valid until ${x.validTo}`);
}

// JWT keys: the backend loads <data dir>/jwt/*.key at start; the newest (mtime, then name) signs
// and all verify. A staged key (`next-*.key`) is older than the signer by mtime and sorts before
// `signing-*` by name, so it verifies but never signs, whichever tie-break a filesystem leaves.
function jwtKeyFiles(dir: string): { name: string; mtimeMs: number }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.key'))
    .map((name) => ({ name, mtimeMs: statSync(join(dir, name)).mtimeMs }))
    .sort((a, b) => b.mtimeMs - a.mtimeMs || b.name.localeCompare(a.name));
}

function newJwtKeyPem(): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function rotateJwtKeyCommand(dataDir: string, mode: 'rotate' | 'stage' | 'promote' | 'retire'): void {
  const dir = join(dataDir, 'jwt');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const before = jwtKeyFiles(dir);
  const signer = before.find((f) => f.name.startsWith('signing-'));
  const now = Date.now();
  switch (mode) {
    case 'rotate': {
      const name = `signing-${now}.key`;
      writeSecretFile(join(dir, name), newJwtKeyPem());
      console.log(`new signing key ${join(dir, name)}; restart the backend to sign with it`);
      break;
    }
    case 'stage': {
      const name = `next-${now}.key`;
      const path = join(dir, name);
      writeSecretFile(path, newJwtKeyPem());
      if (signer) {
        const older = new Date(signer.mtimeMs - 1000);
        utimesSync(path, older, older);
      }
      console.log(`staged key ${path}: after a restart every backend verifies it; run --promote next`);
      break;
    }
    case 'promote': {
      const staged = before.filter((f) => f.name.startsWith('next-'));
      if (staged.length !== 1) throw new UsageError(`--promote needs exactly one staged next-*.key in ${dir}, found ${staged.length}`);
      const to = join(dir, `signing-${now}.key`);
      renameSync(join(dir, staged[0].name), to);
      const t = new Date(now);
      utimesSync(to, t, t);
      console.log(`promoted ${to}; after a restart backends sign with it`);
      break;
    }
    case 'retire': {
      if (!signer) throw new UsageError(`no signing-*.key in ${dir}`);
      for (const f of before) {
        if (f.name === signer.name || f.name.startsWith('next-')) continue;
        rmSync(join(dir, f.name));
        console.log(`removed ${join(dir, f.name)}`);
      }
      break;
    }
  }
  for (const f of jwtKeyFiles(dir)) console.log(`  ${f.name}  ${new Date(f.mtimeMs).toISOString()}`);
}

export function main(argv: string[]): number {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      ca: { type: 'string' },
      names: { type: 'string' },
      'data-dir': { type: 'string' },
      force: { type: 'boolean', default: false },
      stage: { type: 'boolean', default: false },
      promote: { type: 'boolean', default: false },
      retire: { type: 'boolean', default: false },
    },
  });
  try {
    switch (positionals[0]) {
      case 'create-ca':
        if (!values.out) throw new UsageError('create-ca needs --out DIR');
        createCaCommand(resolve(values.out), values.force);
        return 0;
      case 'create-server-cert':
        if (!values.ca || !values.names) throw new UsageError('create-server-cert needs --ca DIR and --names a,b');
        createServerCertCommand(
          resolve(values.ca),
          values.names
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
          resolve(values.out ?? values.ca),
          values.force,
        );
        return 0;
      case 'rotate-jwt-key': {
        if (!values['data-dir']) throw new UsageError('rotate-jwt-key needs --data-dir DIR (the backend PGA_DATA_DIR)');
        const modes = (['stage', 'promote', 'retire'] as const).filter((m) => values[m]);
        if (modes.length > 1) throw new UsageError('use at most one of --stage, --promote, --retire');
        rotateJwtKeyCommand(resolve(values['data-dir']), modes[0] ?? 'rotate');
        return 0;
      }
      default:
        console.error(USAGE);
        return 2;
    }
  } catch (err) {
    console.error(`certs: ${errorMessage(err)}`);
    return err instanceof UsageError ? 2 : 1;
  }
}

process.exitCode = main(process.argv.slice(2));
