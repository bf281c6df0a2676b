// The child process of bench:logs' pipeline rounds: parses one file (split, parse, classify,
// redact, row; no output) and prints {records, rows, parseErrors, seconds, cpuSeconds}. A file of
// its own so that its bundle holds the parser and nothing else: start-up is part of the figure.
import { useLogParsingHeap } from '../collector/src/commands/parse-log.ts';
import { openLogFile, parseLogStream } from '../collector/src/sources/logs/parse-stream.ts';
import { toPgLogRow } from '../collector/src/sources/logs/to-row.ts';

const [path, prefix] = process.argv.slice(2);
useLogParsingHeap(); // the same heap as `collector parse-log`
const t0 = process.hrtime.bigint();
const c0 = process.cpuUsage();
let rows = 0;
const res = await parseLogStream(openLogFile(path), { format: 'stderr', prefix }, (recs) => {
  for (const r of recs) {
    toPgLogRow(r, { instance: 'bench' });
    rows++;
  }
});
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const c = process.cpuUsage(c0);
process.stdout.write(
  JSON.stringify({ records: res.records, rows, parseErrors: res.parseErrors, seconds, cpuSeconds: (c.user + c.system) / 1e6 }),
);
