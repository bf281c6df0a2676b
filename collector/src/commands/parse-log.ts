// `collector parse-log [--format F] [--prefix P] [--no-redact] [--plans] FILE...`: prints one JSON
// object per record (the pg_log row without the instance) so a DBA can check what the collector
// would send for a log file; with --plans, one per auto_explain plan (the pg_plans row) instead.
// .gz and .bz2 are read decompressed, "-" is stdin.
import { parseArgs } from 'node:util';
import { LOG_FORMATS, type LogFormat } from '../sources/logs/event-kinds.ts';
import { guessPrefix } from '../sources/logs/create-parser.ts';
import { openLogFile, parseLogStream } from '../sources/logs/parse-stream.ts';
import { pgLogRowJson } from '../sources/logs/row-json.ts';
import { toPgPlanRow } from '../sources/logs/plan-row.ts';
import { toPgLogRow } from '../sources/logs/to-row.ts';

const USAGE = 'usage: collector parse-log [--format stderr|csvlog|jsonlog|syslog] [--prefix \'log_line_prefix\'] [--no-redact] [--plans] FILE...';

export async function parseLogCommand(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv, allowPositionals: true,
      options: { format: { type: 'string' }, prefix: { type: 'string' }, 'no-redact': { type: 'boolean' }, plans: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = args;
  if (values.help) { process.stdout.write(USAGE + '\n'); return 0; }
  if (positionals.length === 0) { process.stderr.write(USAGE + '\n'); return 2; }
  const format = values.format as LogFormat | undefined;
  if (format !== undefined && !(LOG_FORMATS as readonly string[]).includes(format)) {
    process.stderr.write(`unknown --format ${format}\n${USAGE}\n`);
    return 2;
  }
  let failed = false;
  for (const file of positionals) {
    try {
      const out = new LineWriter();
      const opts = { instance: '-', redactLiterals: !values['no-redact'] };
      let plans = 0;
      const res = await parseLogStream(openLogFile(file), { format, prefix: values.prefix }, values.plans ? (records) => {
        for (const r of records) {
          const p = toPgPlanRow(r, opts);
          if (p) { const { instance: _i, ...row } = p; out.line(JSON.stringify(row)); plans++; }
        }
      } : (records) => {
        for (const r of records) out.line(pgLogRowJson(toPgLogRow(r, opts)));
      });
      out.flush();
      process.stderr.write(`${file}: ${res.records} records, ${values.plans ? `${plans} plans, ` : ''}${res.parseErrors} parse errors (format ${res.format}${res.prefix !== null ? `, prefix '${res.prefix}'` : ''})\n`);
      if (res.unread.length > 0) process.stderr.write(explainUnread(res.unread, res.format, res.prefix));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      process.stderr.write(`${file}: ${e.name === 'UnknownLogFormatError' ? e.message : e.code === 'ENOENT' ? 'no such file' : e.message}\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}

/** Parse errors alone say nothing: show the first line not read and, for stderr, the prefix
 *  that would read the lines that were not (a wrong --prefix is the usual cause). */
function explainUnread(unread: readonly string[], format: LogFormat, prefix: string | null): string {
  const first = unread[0].length > 200 ? `${unread[0].slice(0, 200)}…` : unread[0];
  let out = `  first line not read: ${first}\n`;
  if (format === 'stderr') {
    const guess = guessPrefix(unread);
    out += guess !== null && guess !== prefix
      ? `  log_line_prefix '${guess}' reads it: try --prefix '${guess}'\n`
      : '  no known log_line_prefix reads it: give the server\'s own with --prefix (SHOW log_line_prefix)\n';
  }
  return out;
}

/** Lines encoded straight into a 64 KiB buffer: a megabyte string built with += and then
 *  encoded for stdout cost a quarter of parse-log's time (flattening the rope). */
class LineWriter {
  private static readonly BYTES = 64 * 1024;
  private buf = Buffer.allocUnsafe(LineWriter.BYTES);
  private pos = 0;

  line(s: string): void {
    const most = s.length * 3 + 1; // UTF-8 bytes at most
    if (this.pos + most > LineWriter.BYTES) {
      this.flush();
      if (most > LineWriter.BYTES) { process.stdout.write(s + '\n'); return; }
    }
    this.pos += this.buf.write(s, this.pos);
    this.buf[this.pos++] = 10;
  }

  flush(): void {
    if (this.pos === 0) return;
    process.stdout.write(this.buf.subarray(0, this.pos));
    // Files and pipes are written synchronously on Linux: the buffer is free again. Where the
    // write was queued (a terminal elsewhere), the queued one must stay as it is.
    if (process.stdout.writableLength > 0) this.buf = Buffer.allocUnsafe(LineWriter.BYTES);
    this.pos = 0;
  }
}
