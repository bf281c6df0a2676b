// Imports between the backend's folders run one way: down this list, never up it. A folder may
// import from the folders above it in LAYERS and from itself; the root files errors.ts (under
// everything) and server.ts, main.ts, settings.ts, demo-settings.ts (over everything: they wire
// the folders together) sit outside it. An upward import is a loop in the making (storage
// importing from ingest, auth from users): move the shared piece down instead.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';

const SRC = join(import.meta.dirname, '..', '..', 'backend', 'src');

/** Lowest first. */
const LAYERS = [
  'http', // request parsing helpers
  'db', // the database floor: COPY, transactions, SQLSTATEs, metric_families
  'pki', // the CA
  'audit', // the audit log's writer
  'auth', // collector and user authentication, roles
  'users', // accounts, API tokens, the audit log's reader
  'storage', // migrations, partitions, rollups, retention
  'exposition', // /metrics, health
  'registration', // collector enrolment
  'config', // served collector configuration
  'ingest', // the push pipeline
  'query', // the metrics read API
  'collectors', // collector administration
] as const;
/** Root files every folder may import. */
const FLOOR = new Set(['errors.ts']);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** The backend folder a path is in, or its file name when it is a root file. */
const placeOf = (path: string): string => relative(SRC, path).split(sep)[0]!;

test('backend folders import only from the folders below them', { timeout: 30_000 }, () => {
  const folders = readdirSync(SRC, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  assert.deepEqual(
    folders.filter((f) => !(LAYERS as readonly string[]).includes(f)),
    [],
    'every folder has its place in LAYERS',
  );
  const rank = new Map<string, number>(LAYERS.map((l, i) => [l, i]));
  const upward: string[] = [];
  let imports = 0;
  for (const file of sources(SRC)) {
    const from = placeOf(file);
    if (!rank.has(from)) continue; // a root file
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:\bfrom\s+|\bimport\s*\(?)\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = resolve(join(file, '..'), m[1]!);
      if (relative(SRC, target).startsWith('..')) continue; // protocol/, common/
      imports++;
      const to = placeOf(target);
      const ok = to === from || FLOOR.has(to) || (rank.has(to) && rank.get(to)! < rank.get(from)!);
      if (!ok) upward.push(`${relative(SRC, file)} → ${relative(SRC, target)}`);
    }
  }
  assert.ok(imports > 50, `read only ${imports} imports`);
  assert.deepEqual(upward, []);
});
