// Writes a new family's migration from its definition (protocol/families/), once:
//
//   npm run family:migration -- <family> [--number NNN]
//
// into sql/NNN_<family>.sql, NNN the next number after the highest in sql/ unless given. The file
// is then a migration like any other: plain SQL, checksum-locked once applied, never edited (a
// later change to the family is a new migration). The table has the definition's columns in its
// order; the hourly rollup groups by the keys and aggregates each other column by its kind:
// counters and interval_s summed, gauges averaged with their maximum as <name>_max, peaks and
// times their maximum, labels left out (a family of keys and labels only gets no rollup). tests/storage/family-migration.test.ts applies what this
// writes for every family on a real PostgreSQL.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FAMILY_BY_NAME, SQL_TYPES, type ColumnSpec, type FamilySpec } from '../protocol/families/index.ts';

export const SQL_DIR = join(import.meta.dirname, '..', 'sql');

/** The rollup's select list for one column, or none. */
function aggregates(c: ColumnSpec): string[] {
  switch (c.kind) {
    case 'key':
    case 'label':
      return [];
    case 'counter':
    case 'interval':
      return [`sum(${c.name}) AS ${c.name}`];
    case 'peak':
    case 'time':
      return [`max(${c.name}) AS ${c.name}`];
    case 'gauge': {
      // avg() of an integer is numeric: the rollup keeps the raw column's float type.
      const avg = c.type === 'float' ? `avg(${c.name})` : `avg(${c.name})::double precision`;
      return [`${avg} AS ${c.name}`, `max(${c.name}) AS ${c.name}_max`];
    }
  }
}

/** The migration that creates a family's table and hourly rollup. */
export function familyMigration(f: FamilySpec, source: string): string {
  const owner = f.scope === 'instance' ? 'instance_id' : 'server_id';
  // Every table leads with server_id, instance-level ones too: per-server reads and Citus's
  // distribution key (sql/130_server_id.sql); the rollup groups by it.
  const owners = f.scope === 'instance' ? ['server_id', 'instance_id'] : ['server_id'];
  const width = Math.max(owner.length, ...f.columns.map((c) => c.name.length)) + 2;
  const columns = [
    ...owners.map((o) => `${o.padEnd(width)}int NOT NULL`),
    ...f.columns.map((c) => `${c.name.padEnd(width)}${SQL_TYPES[c.type]}${c.key ? ' NOT NULL' : ''}`),
  ];
  const keys = [...owners, ...f.columns.filter((c) => c.kind === 'key').map((c) => c.name)];
  const values = f.columns.flatMap(aggregates);
  // Nothing but keys and labels (statement texts): no rollup, the raw rows are all there is.
  const rollup =
    values.length === 0
      ? 'NULL'
      : `$rollup$
SELECT {bucket} AS time, ${keys.join(', ')},
${values.map((v) => `       ${v}`).join(',\n')}
  FROM ${f.table}
 WHERE {filter}
 GROUP BY 1, ${keys.join(', ')}
$rollup$`;
  return `-- Family ${f.name}: ${f.description}.
-- Written by \`npm run family:migration -- ${f.name}\` from ${source}; frozen from then on.
SELECT pga_create_metric_table('${f.name}', '${f.table}', $cols$
${columns.map((c) => `  ${c}`).join(',\n')}
$cols$, '${owner}', INTERVAL '${f.retentionDays ?? 7} days', ${rollup});
`;
}

/** The next migration number after the highest in `dir`. */
export function nextNumber(dir = SQL_DIR): number {
  return (
    Math.max(
      0,
      ...readdirSync(dir)
        .filter((n) => /^\d{3}_/.test(n))
        .map((n) => Number(n.slice(0, 3))),
    ) + 1
  );
}

/** Writes the family's migration and returns its path; refuses a family a migration already creates. */
export function writeFamilyMigration(family: string, opts: { dir?: string; number?: number } = {}): string {
  const dir = opts.dir ?? SQL_DIR;
  const f = FAMILY_BY_NAME.get(family);
  if (!f) throw new Error(`no family ${family} in protocol/families/index.ts`);
  const creates = `pga_create_metric_table('${family}',`;
  const existing = readdirSync(dir).find((n) => n.endsWith('.sql') && readFileSync(join(dir, n), 'utf8').includes(creates));
  if (existing) throw new Error(`sql/${existing} already creates ${family}: change it with a new migration`);
  const n = opts.number ?? nextNumber(dir);
  if (!Number.isInteger(n) || n < 1 || n > 999) throw new Error(`migration number ${n} is not 1-999`);
  const prefix = String(n).padStart(3, '0');
  if (readdirSync(dir).some((name) => name.startsWith(`${prefix}_`))) throw new Error(`sql/ already has a migration ${prefix}`);
  const path = join(dir, `${prefix}_${family}.sql`);
  if (existsSync(path)) throw new Error(`${path} exists`);
  writeFileSync(path, familyMigration(f, `protocol/families/${family.replaceAll('_', '-')}.ts`), { flag: 'wx' });
  return path;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { number: { type: 'string' } } });
  if (positionals.length !== 1) {
    console.error('usage: npm run family:migration -- <family> [--number NNN]');
    process.exit(2);
  }
  try {
    console.log(
      `wrote ${writeFamilyMigration(positionals[0]!, { number: values.number === undefined ? undefined : Number(values.number) })}`,
    );
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}
