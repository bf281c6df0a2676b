// `collector parse-log [--format F] [--prefix P] [--no-redact] [--plans] FILE...`: prints one JSON
// object per record (the pg_log row without the instance) so a DBA can check what the collector
// would send for a log file; with --plans, one per auto_explain plan (the pg_plans row) instead.
// .gz and .bz2 are read decompressed, "-" is stdin.
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { LOG_FORMATS, type LogFormat } from '../sources/logs/event-kinds.ts';
import { guessPrefix } from '../sources/logs/create-parser.ts';
import { openLogFile, parseLogStream } from '../sources/logs/parse-stream.ts';
import { toPgPlanRow } from '../sources/logs/plan-row.ts';
import { RowJsonEncoder } from '../sources/logs/row-json.ts';
import { toPgLogRow } from '../sources/logs/to-row.ts';
import { errorMessage } from '../../../common/errors.ts';

const USAGE =
  "usage: collector parse-log [--format stderr|csvlog|jsonlog|syslog] [--prefix 'log_line_prefix'] [--no-redact] [--plans] FILE...";

/**
 * V8 grows the young generation to 2 × 16 MiB under parse-log's allocation rate; each record dies
 * young, so a young generation that stays at its first size costs little more scavenging and
 * keeps peak RSS about 30 MiB lower (measured with bench:logs). Set here, not on node's command
 * line, because a DBA runs `node collector.mjs parse-log` as it is; V8 reads this flag at each
 * resize, so it holds from now on (the space limits themselves are fixed at start-up).
 */
export function useLogParsingHeap(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

export async function parseLogCommand(argv: string[]): Promise<number> {
  useLogParsingHeap();
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        format: { type: 'string' },
        prefix: { type: 'string' },
        'no-redact': { type: 'boolean' },
        plans: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`${errorMessage(err)}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = args;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length === 0) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const format = values.format as LogFormat | undefined;
  if (format !== undefined && !(LOG_FORMATS as readonly string[]).includes(format)) {
    process.stderr.write(`unknown --format ${format}\n${USAGE}\n`);
    return 2;
  }
  let failed = false;
  for (const file of positionals) {
    try {
      const out = new RowJsonEncoder(writeStdout);
      const opts = { instance: '-', redactLiterals: !values['no-redact'] };
      let plans = 0;
      const res = await parseLogStream(
        pacedByStdout(openLogFile(file)),
        { format, prefix: values.prefix },
        values.plans
          ? (records) => {
              for (const r of records) {
                const p = toPgPlanRow(r, opts);
                if (p) {
                  const { instance: _i, ...row } = p;
                  out.jsonLine(JSON.stringify(row));
                  plans++;
                }
              }
            }
          : (records) => {
              for (const r of records) out.line(toPgLogRow(r, opts));
            },
      );
      out.flush();
      // main() exits the process when this returns: a pipe's queued output would be cut short.
      if (process.stdout.writableLength > 0) await once(process.stdout, 'drain');
      process.stderr.write(
        `${file}: ${res.records} records, ${values.plans ? `${plans} plans, ` : ''}${res.parseErrors} parse errors (format ${res.format}${res.prefix !== null ? `, prefix '${res.prefix}'` : ''})\n`,
      );
      if (res.unread.length > 0) process.stderr.write(explainUnread(res.unread, res.format, res.prefix));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      process.stderr.write(
        `${file}: ${e.name === 'UnknownLogFormatError' ? e.message : e.code === 'ENOENT' ? 'no such file' : e.message}\n`,
      );
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
    out +=
      guess !== null && guess !== prefix
        ? `  log_line_prefix '${guess}' reads it: try --prefix '${guess}'\n`
        : "  no known log_line_prefix reads it: give the server's own with --prefix (SHOW log_line_prefix)\n";
  }
  return out;
}

/** Files are written synchronously, but a pipe whose reader is slower than we are (| jq, | less)
 *  queues what it cannot take: the next chunk of the log is read only once that has drained,
 *  so memory stays bounded by one chunk's output. */
async function* pacedByStdout(input: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  for await (const chunk of input) {
    if (process.stdout.writableNeedDrain) await once(process.stdout, 'drain');
    yield chunk;
  }
}

/** The encoder may reuse its buffer unless the write was queued (see pacedByStdout). */
function writeStdout(bytes: Buffer): boolean {
  process.stdout.write(bytes);
  return process.stdout.writableLength > 0;
}
