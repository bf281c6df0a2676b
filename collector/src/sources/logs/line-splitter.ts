// Splits bytes into lines and knows each line's byte offset, so a tailer can persist exact
// positions. A line longer than maxLineBytes is dropped (counted) instead of being buffered:
// a 50 MB line without a newline cannot grow memory past the limit.
import { isAscii } from 'node:buffer';

/** Bytes decoded at once on the all-ASCII path. */
const ASCII_PIECE = 64 * 1024;

export interface SplitResult {
  /** Bytes of `buf` consumed: through the last newline (or the dropped part of an overlong line). */
  consumed: number;
  /** Overlong lines dropped (each counts once, when its end is found or the drop starts). */
  dropped: number;
}

export class LineSplitter {
  /** Inside an overlong line: discard bytes until the next newline. */
  skipping = false;

  constructor(private readonly maxLineBytes: number) {}

  /**
   * Calls onLine for each complete line in buf (starting at file offset `base`). Returns how much
   * was consumed; the caller keeps the rest (an incomplete last line) for the next call.
   * `atEof`: no more bytes will follow for now (a held partial line is fine then).
   */
  split(buf: Buffer, base: number, onLine: (text: string, offset: number) => void): SplitResult {
    let pos = 0;
    let dropped = 0;
    const len = buf.length;
    if (this.skipping) {
      const nl = buf.indexOf(10, 0);
      if (nl < 0) return { consumed: len, dropped: 0 };
      this.skipping = false;
      pos = nl + 1;
    }
    const last = buf.lastIndexOf(10);
    if (last >= pos && isAscii(buf.subarray(pos, last))) {
      // Mostly the case: one decode for many lines, each line a slice of it (no copy), and
      // string indexes are byte offsets. A chunk with any other byte is decoded line by line.
      while (pos <= last) {
        // Pieces stay below V8's large-object size: a larger string is allocated in the old
        // generation and lives until a full GC (peak RSS grew with the file by tens of MB).
        let stop = pos + ASCII_PIECE >= last ? last : buf.lastIndexOf(10, pos + ASCII_PIECE);
        if (stop < pos) stop = buf.indexOf(10, pos + ASCII_PIECE);
        const text = buf.toString('latin1', pos, stop + 1);
        let at = 0;
        for (;;) {
          const nl = text.indexOf('\n', at);
          if (nl < 0) break;
          const end = nl > at && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
          if (end - at > this.maxLineBytes) dropped++;
          else onLine(text.slice(at, end), base + pos + at);
          at = nl + 1;
        }
        pos += at;
      }
    }
    for (;;) {
      const nl = buf.indexOf(10, pos);
      if (nl < 0) break;
      const end = nl > pos && buf[nl - 1] === 13 ? nl - 1 : nl;
      if (end - pos > this.maxLineBytes) dropped++;
      else onLine(buf.toString('utf8', pos, end), base + pos);
      pos = nl + 1;
    }
    if (len - pos > this.maxLineBytes) {
      // The rest is already too long to be kept: drop it and skip to the next newline.
      this.skipping = true;
      dropped++;
      pos = len;
    }
    return { consumed: pos, dropped };
  }
}
