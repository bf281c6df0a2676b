// A PostgreSQL installation that has one more extension package "installed" than the real one,
// without writing to the system's extension directory: the server's binaries are copied into a
// private tree whose share directory mirrors the real one (symlinks) with the extra control and
// script files added. PostgreSQL finds its share and library directories relative to its own
// executable (it resolves symlinks, hence the copies), so a server started from this tree's bin
// directory lists the extension in pg_available_extensions exactly as after `apt install`.
// Used to reproduce a DBA's server with the TimescaleDB package installed but not preloaded.
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import pg from 'pg';
import type { PostgresServer } from './postgres-server.ts';

export interface ExtensionFiles {
  name: string;
  /** The .control file's text. */
  control: string;
  /** Script files by name, e.g. { 'timescaledb--2.99.0.sql': '…' }. */
  scripts: Record<string, string>;
}

export interface Overlay {
  /** The bin directory to start a server from (startPostgres({ binDir })). */
  binDir: string;
  remove(): void;
}

/** The longest common leading directory of two absolute paths. */
function commonDir(a: string, b: string): string {
  const pa = a.split(sep);
  const pb = b.split(sep);
  let i = 0;
  while (i < pa.length && i < pb.length && pa[i] === pb[i]) i++;
  return pa.slice(0, i).join(sep) || sep;
}

/** Builds the overlay from the installation `server` runs (read from its pg_config view). */
export async function overlayWithExtension(server: PostgresServer, ext: ExtensionFiles): Promise<Overlay> {
  const c = new pg.Client({ connectionString: server.url() });
  await c.connect();
  let dirs: Record<string, string>;
  try {
    dirs = Object.fromEntries(
      (await c.query("SELECT name, setting FROM pg_config WHERE name IN ('BINDIR', 'SHAREDIR', 'PKGLIBDIR', 'LIBDIR')")).rows.map((r) => [
        r.name,
        r.setting,
      ]),
    );
  } finally {
    await c.end();
  }
  const root = mkdtempSync(join(tmpdir(), 'pga-overlay-'));
  chmodSync(root, 0o755); // the server may run as another user (postgres, when we are root)
  const base = commonDir(dirs.BINDIR, dirs.SHAREDIR);
  const mirror = (p: string): string => join(root, p.slice(base.length));
  try {
    const bin = mirror(dirs.BINDIR);
    mkdirSync(bin, { recursive: true });
    for (const tool of ['postgres', 'initdb', 'pg_ctl']) {
      if (existsSync(join(dirs.BINDIR, tool))) copyFileSync(join(dirs.BINDIR, tool), join(bin, tool));
      if (existsSync(join(bin, tool))) chmodSync(join(bin, tool), 0o755);
    }
    // Libraries (and, for relocatable builds, the shared libraries the binaries link to) as they are.
    for (const d of [dirs.LIBDIR, dirs.PKGLIBDIR]) {
      if (!d.startsWith(base) || existsSync(mirror(d))) continue;
      mkdirSync(dirname(mirror(d)), { recursive: true });
      symlinkSync(d, mirror(d));
    }
    const share = mirror(dirs.SHAREDIR);
    mkdirSync(join(share, 'extension'), { recursive: true });
    for (const e of readdirSync(dirs.SHAREDIR)) if (e !== 'extension') symlinkSync(join(dirs.SHAREDIR, e), join(share, e));
    for (const e of readdirSync(join(dirs.SHAREDIR, 'extension')))
      symlinkSync(join(dirs.SHAREDIR, 'extension', e), join(share, 'extension', e));
    writeFileSync(join(share, 'extension', `${ext.name}.control`), ext.control);
    for (const [file, text] of Object.entries(ext.scripts)) writeFileSync(join(share, 'extension', file), text);
    for (let d = share; d.length > root.length; d = dirname(d)) chmodSync(d, 0o755);
    for (let d = bin; d.length > root.length; d = dirname(d)) chmodSync(d, 0o755);
    return { binDir: bin, remove: () => rmSync(root, { recursive: true, force: true }) };
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}

/**
 * TimescaleDB's package as `apt install timescaledb-2-postgresql-NN` leaves it before anyone
 * edits postgresql.conf: the control file is there, so pg_available_extensions lists it; the
 * library is not preloaded, so CREATE EXTENSION ends the session (the real loader raises FATAL
 * "extension "timescaledb" must be preloaded"). The script here ends its session the same way,
 * since a FATAL cannot be raised from SQL. Nothing else of TimescaleDB is imitated.
 */
export const TIMESCALEDB_NOT_PRELOADED: ExtensionFiles = {
  name: 'timescaledb',
  control:
    "comment = 'Enables scalable inserts and complex queries for time-series data (files only: not preloaded)'\n" +
    "default_version = '2.99.0'\nrelocatable = false\n",
  scripts: { 'timescaledb--2.99.0.sql': 'SELECT pg_terminate_backend(pg_backend_pid());\nSELECT pg_sleep(5);\n' },
};
