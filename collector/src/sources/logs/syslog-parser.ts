// Syslog as rsyslog writes PostgreSQL's messages:
//   "Mon DD HH:MM:SS host ident[pid]: [seq-part] <log_line_prefix><text>"
// A message longer than one line is sent as parts 2, 3, … of the same seq; rsyslog escapes the
// leading tab of continuation lines as "#011". Processes interleave, so records are held in a
// window and parts find their record by pid.
import type { LogParser } from './log-parser.ts';
import type { LogRecord } from './log-record.ts';
import { syslogTimeToIso } from './log-time.ts';
import { StderrParser } from './stderr-parser.ts';

const HEADER = /^([A-Z][a-z]{2}) ([ \d]\d) (\d\d:\d\d:\d\d) \S+ [^\s[]+\[(\d+)\]: \[(\d+)-(\d+)\] /;
const WINDOW = 64;

export class SyslogParser implements LogParser {
  private readonly inner: StderrParser;
  private errors = 0;

  constructor(
    prefix: string,
    private readonly offsetMinutes = 0,
  ) {
    this.inner = new StderrParser({ prefix, window: WINDOW, defaultOffsetMinutes: offsetMinutes });
  }

  get parseErrors(): number {
    return this.errors + this.inner.parseErrors;
  }

  line(text: string, offset: number): void {
    if (text.length === 0) return;
    const m = HEADER.exec(text);
    if (!m) {
      this.errors++;
      return;
    }
    let rest = text.slice(m[0].length);
    if (rest.startsWith('#011')) rest = `\t${rest.slice(4)}`;
    const part = Number(m[6]);
    this.inner.ingest(rest, offset, {
      time: syslogTimeToIso(m[1], Number(m[2]), m[3], this.offsetMinutes),
      pid: Number(m[4]),
      continued: part > 1,
    });
  }

  flush(): void {
    this.inner.flush();
  }
  take(): LogRecord[] {
    return this.inner.take();
  }
  heldFrom(): number | null {
    return this.inner.heldFrom();
  }
}
