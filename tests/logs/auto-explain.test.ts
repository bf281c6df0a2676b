// A real PostgreSQL with auto_explain loaded logs its plans to stderr, csvlog and jsonlog at once,
// with log_analyze off and on, in every auto_explain.log_format, before and after an index
// changes the plan. The pg_plans rows must agree across the three log formats, keep one
// fingerprint for one plan whatever its literals, estimates and times (and whatever its
// log_format), change it when the index changes the plan, carry the statement's queryid, redact
// every literal and stay within their bounds; the tailer returns the same plans.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { embeddedBinDir, startPostgres, type PostgresServer } from '../../devkit/postgres-server.ts';
import { PLAN_TEXT_MAX } from '../../protocol/families/pg-plans.ts';
import type { LogFormat } from '../../collector/src/sources/logs/event-kinds.ts';
import { LogSource } from '../../collector/src/sources/logs/log-source.ts';
import { logSourceOptionsFromSettings, readLogSettings } from '../../collector/src/sources/logs/log-settings.ts';
import { openLogFile, parseLogStream } from '../../collector/src/sources/logs/parse-stream.ts';
import { toPgPlanRow, type PgPlanRow } from '../../collector/src/sources/logs/plan-row.ts';
import { toPgLogRow, type PgLogRow } from '../../collector/src/sources/logs/to-row.ts';
import { logFiles, THREE_FORMAT_SETTINGS, waitForLog } from './three-formats.ts';

const PREFIX = '%m [%p] %q%u@%d qid=%Q ';
// Literals the statements carry: none may reach a row.
const SECRETS = ['alice-7731', 'bob-7732', 'carol-7733', 'dave-7734', 'erin-7735', 'frank-7736', 'gina-7737', 'hank-7738', 'ivy-7739'];
const MARKER = 'pga_plan_end';

interface Parsed {
  plans: PgPlanRow[];
  logs: PgLogRow[];
}

async function parse(path: string, format: LogFormat, redactLiterals = true): Promise<Parsed> {
  const out: Parsed = { plans: [], logs: [] };
  const opts = { instance: 'it', redactLiterals };
  const res = await parseLogStream(openLogFile(path), { format, prefix: PREFIX }, (recs) => {
    for (const r of recs) {
      out.logs.push(toPgLogRow(r, opts));
      const p = toPgPlanRow(r, opts);
      if (p) out.plans.push(p);
    }
  });
  assert.equal(res.parseErrors, 0, `${format}: parse errors`);
  return out;
}

/** EXPLAIN VERBOSE prints the statement's queryid (compute_query_id on): what the plans must carry. */
async function queryIdOf(c: pg.Client, sql: string): Promise<string> {
  const r = await c.query(`EXPLAIN (VERBOSE, COSTS OFF) ${sql}`);
  const line = r.rows.map((x: Record<string, string>) => x['QUERY PLAN']).find((l) => l.startsWith('Query Identifier: '));
  assert.ok(line, 'EXPLAIN VERBOSE shows the queryid');
  return line.slice(18);
}

const byName = (sql: string, name: string) => sql.replace('$NAME', `'${name}'`);
const SEQ = 'SELECT id, pad FROM plan_t WHERE name = $NAME AND id > 10';
const JOIN = 'SELECT a.id, count(*) FROM plan_t a JOIN plan_u b ON b.t_id = a.id WHERE a.name = $NAME GROUP BY a.id';

async function workload(server: PostgresServer): Promise<{ seqId: string; joinId: string }> {
  const c = new pg.Client({ host: server.host, port: server.port, user: 'postgres', database: 'postgres' });
  await c.connect();
  try {
    await c.query('CREATE TABLE plan_t (id int PRIMARY KEY, name text, pad text)');
    await c.query("INSERT INTO plan_t SELECT g, 'n' || g, repeat('x', 50) FROM generate_series(1, 20000) g");
    await c.query('CREATE TABLE plan_u (t_id int, v int)');
    await c.query('INSERT INTO plan_u SELECT g % 20000, g FROM generate_series(1, 40000) g');
    await c.query('ANALYZE plan_t');
    await c.query('ANALYZE plan_u');
    const seqId = await queryIdOf(c, byName(SEQ, 'x'));
    const joinId = await queryIdOf(c, byName(JOIN, 'x'));
    // Text format, no analyze: the same plan with two literals.
    await c.query(byName(SEQ, SECRETS[0]));
    await c.query(byName(SEQ, SECRETS[1]));
    // The statement over several lines: the text plan's Query Text spans them.
    await c.query(`SELECT id\n  FROM plan_t\n WHERE name = '${SECRETS[2]}'\n   AND pad <> 'y'`);
    // With analyze: actual times and rows, the same plan.
    await c.query('SET auto_explain.log_analyze = on');
    await c.query(byName(SEQ, SECRETS[3]));
    await c.query(byName(JOIN, SECRETS[4]));
    for (const format of ['json', 'yaml', 'xml']) {
      await c.query(`SET auto_explain.log_format = ${format}`);
      await c.query(byName(SEQ, SECRETS[5]));
      await c.query(byName(JOIN, SECRETS[5]));
    }
    await c.query('SET auto_explain.log_format = text');
    await c.query('SET auto_explain.log_analyze = off');
    // An index changes the plan.
    await c.query('CREATE INDEX plan_t_name ON plan_t (name)');
    await c.query('ANALYZE plan_t');
    await c.query(byName(SEQ, SECRETS[6]));
    await c.query(byName(SEQ, SECRETS[7]));
    await c.query('SET auto_explain.log_format = json');
    await c.query(byName(SEQ, SECRETS[7]));
    await c.query('SET auto_explain.log_format = text');
    // A plan far past the row's bound: 400 branches of a UNION ALL.
    const branches = Array.from({ length: 400 }, (_, i) => `SELECT id FROM plan_t WHERE name = '${SECRETS[8]}' AND id = ${i}`);
    await c.query(branches.join(' UNION ALL '));
    await c.query(`SELECT '${MARKER}'`);
    return { seqId, joinId };
  } finally {
    await c.end();
  }
}

/** Row for row, with a short message: assert's diff of thousands of plan characters takes minutes. */
function assertSameRows(actual: string[], expected: string[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: row count`);
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] === expected[i]) continue;
    let at = 0;
    while (actual[i][at] === expected[i][at]) at++;
    assert.fail(
      `${what}: row ${i} differs at ${at}: ${actual[i].slice(Math.max(0, at - 80), at + 80)} ≠ ${expected[i].slice(Math.max(0, at - 80), at + 80)}`,
    );
  }
}

const plansOf = (rows: PgPlanRow[], sqlStart: string) => rows.filter((r) => r.statement?.startsWith(sqlStart));

const root = join(import.meta.dirname, '..', '..');

async function runFor(binDir: string | undefined, cli = false): Promise<void> {
  const base = mkdtempSync(join(tmpdir(), 'pga-plans-it-'));
  const server = await startPostgres({
    binDir,
    dataDir: join(base, 'data'),
    settings: {
      ...THREE_FORMAT_SETTINGS,
      log_line_prefix: PREFIX,
      shared_preload_libraries: 'auto_explain',
      compute_query_id: 'on',
      'auto_explain.log_min_duration': 0,
      'auto_explain.log_verbose': true,
      'auto_explain.log_buffers': true,
    },
  });
  try {
    const probe = new pg.Client({ host: server.host, port: server.port, user: 'postgres', database: 'postgres' });
    await probe.connect();
    const settings = await readLogSettings(probe);
    await probe.end();
    const tailer = new LogSource(
      logSourceOptionsFromSettings(settings, { instance: 'it', stateFile: join(base, 'state.json') }, { format: 'csvlog' }),
    );

    const { seqId, joinId } = await workload(server);
    const dir = join(server.dataDir, 'log');
    await waitForLog(dir, MARKER);
    const files = logFiles(dir);
    const [stderr, csv, json] = [
      await parse(files.stderr, 'stderr'),
      await parse(files.csvlog, 'csvlog'),
      await parse(files.jsonlog, 'jsonlog'),
    ];

    // The three log formats give the same plans, field for field.
    const key = (r: PgPlanRow) => JSON.stringify({ ...r, instance: undefined });
    assert.ok(stderr.plans.length >= 15, `only ${stderr.plans.length} plans`);
    assertSameRows(csv.plans.map(key), stderr.plans.map(key), 'csvlog = stderr');
    assertSameRows(json.plans.map(key), stderr.plans.map(key), 'jsonlog = stderr');
    const plans = stderr.plans;

    // Every plan format was read; analyze shows.
    assert.deepEqual([...new Set(plans.map((p) => p.plan_format))].sort(), ['json', 'text', 'xml', 'yaml']);
    const seq = plansOf(plans, 'SELECT id, pad FROM plan_t WHERE name = ? AND id > ?');
    assert.equal(seq.length, 9, seq.map((p) => p.statement).join('\n'));
    const [before, after] = [seq.slice(0, 6), seq.slice(6)];
    assert.deepEqual(
      before.map((p) => p.analyzed),
      [false, false, true, true, true, true],
    );
    assert.deepEqual(
      before.map((p) => p.plan_format),
      ['text', 'text', 'text', 'json', 'yaml', 'xml'],
    );
    // One plan, whatever the literal, the estimates, the actual times and the plan's format.
    assert.equal(new Set(before.map((p) => p.plan_fingerprint)).size, 1, 'the same plan before the index');
    assert.match(before[0].plan, /^Seq Scan on public\.plan_t/m);
    // The index changes it, and the new plan has one fingerprint again (text and JSON alike).
    assert.equal(new Set(after.map((p) => p.plan_fingerprint)).size, 1, 'the same plan after the index');
    assert.notEqual(after[0].plan_fingerprint, before[0].plan_fingerprint, 'the index changed the plan');
    assert.match(after[0].plan, /plan_t_name/);
    const joins = plansOf(plans, 'SELECT a.id, count(*) FROM plan_t a JOIN plan_u b');
    assert.equal(joins.length, 4);
    assert.equal(new Set(joins.map((p) => p.plan_fingerprint)).size, 1, 'the join plan in text, json, yaml and xml');
    assert.ok(joins.every((p) => p.plan_nodes >= 4 && p.total_cost! > 0 && p.duration_ms >= 0));
    assert.notEqual(joins[0].plan_fingerprint, before[0].plan_fingerprint);

    // The queryid is the statement's, in every log format (stderr by %Q).
    for (const p of seq) assert.equal(p.query_id, seqId);
    for (const p of joins) assert.equal(p.query_id, joinId);
    // Without a queryid the statement still has one fingerprint, whatever its literals.
    assert.equal(new Set(seq.map((p) => p.statement_fingerprint)).size, 1);

    // The multi-line statement: all of its text, redacted, and its plan.
    const multi = plans.find((p) => p.statement?.startsWith('SELECT id\n  FROM plan_t\n WHERE name = ?\n   AND pad <> ?'));
    assert.ok(multi, 'the multi-line statement');
    assert.match(multi.plan, /^Query Text: SELECT id\n {2}FROM plan_t\n WHERE name = \?\n {3}AND pad <> \?\nSeq Scan/);

    // No literal reaches a row: not the plans, not the pg_log records of the plans.
    for (const p of [stderr, csv, json]) {
      const text = JSON.stringify(p);
      for (const secret of SECRETS)
        assert.ok(
          !text.includes(secret),
          `${secret} leaked: ${text.slice(Math.max(0, text.indexOf(secret) - 300), text.indexOf(secret) + 100)}`,
        );
    }
    // ...while the plans keep what makes them plans: costs, filters' columns, buffers.
    assert.match(before[0].plan, /\(cost=\d+\.\d+\.\.\d+\.\d+ rows=\d+ width=\d+\)/);
    assert.match(before[0].plan, /Filter: \(\(plan_t\.id > \?\) AND \(plan_t\.name = \?::text\)\)/);
    assert.match(before[2].plan, /Buffers: shared hit=\d+/);
    // The test can fail: without redaction the literals are there.
    const raw = await parse(files.csvlog, 'csvlog', false);
    assert.ok(JSON.stringify(raw.plans).includes(SECRETS[0]));

    // The oversized plan is cut to the bound, and says so.
    const big = plans.find((p) => p.plan_nodes > 400)!;
    assert.ok(big, 'the UNION ALL plan');
    assert.equal(big.plan_truncated, true);
    assert.equal(big.plan.length, PLAN_TEXT_MAX);
    assert.ok(!plans.filter((p) => p !== big).some((p) => p.plan_truncated));
    assert.ok(plans.every((p) => (p.statement?.length ?? 0) <= 2048));

    // What a DBA runs: parse-log --plans prints the same rows (without the instance).
    if (cli) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'collector/src/main.ts', 'parse-log', '--plans', files.jsonlog], {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
        maxBuffer: 64 * 1024 * 1024,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, new RegExp(` ${json.plans.length} plans, 0 parse errors`));
      const printed = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.stringify({ ...(JSON.parse(l) as PgPlanRow), instance: undefined }));
      assertSameRows(printed, json.plans.map(key), 'parse-log --plans');
    }

    // The tailer returns the same plans as a one-shot parse.
    const tailed: PgPlanRow[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await tailer.collect();
      tailed.push(...r.plans);
      await r.commit();
      if (r.bytesRead === 0) break;
    }
    assertSameRows(tailed.map(key), csv.plans.map(key), 'tailed = parsed');
  } finally {
    await server.stop().catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
  }
}

test('PostgreSQL 15 (this machine): plans from stderr, csvlog and jsonlog agree; fingerprints, queryids, redaction, bounds', {
  timeout: 120_000,
}, async () => {
  await runFor(undefined, true);
});

test('PostgreSQL 18 (embedded binaries): the same', { timeout: 120_000 }, async () => {
  await runFor(await embeddedBinDir());
});
