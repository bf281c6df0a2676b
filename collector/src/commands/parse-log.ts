// `collector parse-log [--format F] [--prefix P] [--no-redact] FILE...`: prints one JSON object
// per record (the pg_log row without the instance) so a DBA can check what the collector
// would send for a log file. .gz and .bz2 are read decompressed, "-" is stdin.
import { parseArgs } from 'node:util';
import { LOG_FORMATS, type LogFormat } from '../sources/logs/event-kinds.ts';
import { openLogFile, parseLogStream } from '../sources/logs/parse-stream.ts';
import { pgLogRowJson } from '../sources/logs/row-json.ts';
import { toPgLogRow } from '../sources/logs/to-row.ts';

const USAGE = 'usage: collector parse-log [--format stderr|csvlog|jsonlog|syslog] [--prefix \'log_line_prefix\'] [--no-redact] FILE...';

export async function parseLogCommand(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv, allowPositionals: true,
      options: { format: { type: 'string' }, prefix: { type: 'string' }, 'no-redact': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
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
      let out = '';
      const res = await parseLogStream(openLogFile(file), { format, prefix: values.prefix }, (records) => {
        for (const r of records) {
          out += pgLogRowJson(toPgLogRow(r, { instance: '-', redactLiterals: !values['no-redact'] })) + '\n';
        }
        if (out.length > 1 << 20) { process.stdout.write(out); out = ''; }
      });
      process.stdout.write(out);
      process.stderr.write(`${file}: ${res.records} records, ${res.parseErrors} parse errors (format ${res.format}${res.prefix !== null ? `, prefix '${res.prefix}'` : ''})\n`);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      process.stderr.write(`${file}: ${e.name === 'UnknownLogFormatError' ? e.message : e.code === 'ENOENT' ? 'no such file' : e.message}\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}
