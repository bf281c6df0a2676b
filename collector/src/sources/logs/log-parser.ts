import type { LogRecord } from './log-record.ts';

/**
 * A parser turns the lines of one log file into records. It is fed line by line (the caller
 * splits the bytes and knows each line's offset), may hold the last record(s) until it knows
 * they are complete, and reports where the earliest held line starts so that a tailer can
 * persist an offset from which re-reading loses nothing and repeats nothing.
 */
export interface LogParser {
  /** One complete line without its newline; `offset` is the byte offset of its first byte. */
  line(text: string, offset: number): void;
  /** The input ended (or went quiet): emit everything held. */
  flush(): void;
  /** Takes the records completed so far. */
  take(): LogRecord[];
  /** Byte offset of the first line that belongs to a record not yet taken, or null. */
  heldFrom(): number | null;
  /** Lines that could not be read as (part of) a record. */
  readonly parseErrors: number;
}
