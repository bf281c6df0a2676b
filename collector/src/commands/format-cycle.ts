// `collector once` output: what a DBA wants to see at a glance — each instance, then each
// family with its row count and a few columns of its first rows.
import { cycleRows, type Cycle } from '../agent.ts';

const MAX_ROWS = 5;
const MAX_COLS = 8;

function cell(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(2);
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 24 ? `${s.slice(0, 23)}…` : s;
}

export function formatCycle(cycle: Cycle): string {
  const out: string[] = [];
  const b = cycle.batch;
  out.push(`pgAnalytics collector — one cycle at ${b.created_at} on ${b.hostname}`);
  for (const i of b.instances) {
    out.push(`instance ${i.name}: ${i.up ? `up, server_version_num ${i.version_num}` : `DOWN (${i.error})`}`);
  }
  for (const [family, rows] of Object.entries(cycleRows(cycle))) {
    out.push('', `${family}: ${rows.length} row(s)`);
    const cols = Object.keys(rows[0] ?? {})
      .filter((c) => c !== 'time')
      .slice(0, MAX_COLS);
    if (cols.length === 0) continue;
    const table = [cols, ...rows.slice(0, MAX_ROWS).map((r) => cols.map((c) => cell(r[c])))];
    const widths = cols.map((_, i) => Math.max(...table.map((r) => r[i].length)));
    for (const r of table) out.push(`  ${r.map((v, i) => v.padEnd(widths[i])).join('  ')}`);
    if (rows.length > MAX_ROWS) out.push(`  … ${rows.length - MAX_ROWS} more`);
  }
  for (const e of cycle.errors) out.push(`skipped ${e.family}: ${e.error}`);
  return out.join('\n');
}
