// The disk spool: every batch is written here (temp file, fsync, rename, fsync of the folder)
// before it is sent, and deleted only after the backend answered 2xx. On start the collector
// sends what is spooled, oldest first. Bounded by size and age: past either, the oldest
// batches are dropped and counted. Batches the backend refuses for good go to dead-letter/;
// files that are not whole gzip (disk corruption, a hand edit) go to quarantine/.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { errorMessage } from '../../../common/errors.ts';
import { writeFileAtomic } from '../../../common/files.ts';

export interface SpoolLimits {
  maxBytes: number;
  maxAgeMs: number;
}

export interface SpooledBatch {
  file: string;
  batchId: string;
  createdAt: number;
  bytes: number;
}

export class SpoolCorruptError extends Error {
  override readonly name = 'SpoolCorruptError';
}

const NAME = /^(\d{13})-(\d{6})-([0-9a-f-]{36})\.json\.gz$/;

export class Spool {
  private seq = 0;
  /** Batches dropped because the spool was over its size or age limit (since start). */
  dropped = 0;
  readonly deadLetterDir: string;
  readonly quarantineDir: string;

  constructor(
    readonly dir: string,
    private limits: SpoolLimits,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.deadLetterDir = join(dir, 'dead-letter');
    this.quarantineDir = join(dir, 'quarantine');
    mkdirSync(this.deadLetterDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.quarantineDir, { recursive: true, mode: 0o700 });
    for (const f of readdirSync(dir)) if (f.includes('.tmp-')) rmSync(join(dir, f), { force: true }); // a write cut short by a crash
  }

  setLimits(limits: SpoolLimits): void {
    this.limits = limits;
  }

  /** Durably stores a gzipped batch. */
  write(batchId: string, gz: Buffer, now = Date.now()): SpooledBatch {
    const name = `${now}-${String(this.seq++ % 1_000_000).padStart(6, '0')}-${batchId}.json.gz`;
    writeFileAtomic(join(this.dir, name), gz, 0o600);
    this.enforceLimits(now);
    return { file: name, batchId, createdAt: now, bytes: gz.length };
  }

  /** Spooled batches, oldest first. */
  list(): SpooledBatch[] {
    const out: SpooledBatch[] = [];
    for (const f of readdirSync(this.dir)) {
      const m = NAME.exec(f);
      if (!m) continue;
      let bytes = 0;
      try {
        bytes = statSync(join(this.dir, f)).size;
      } catch {
        continue;
      }
      out.push({ file: f, batchId: m[3], createdAt: Number(m[1]), bytes });
    }
    return out.sort((a, b) => (a.file < b.file ? -1 : 1));
  }

  /** The batch's bytes, checked to be whole gzip; throws SpoolCorruptError when they are not. */
  read(b: SpooledBatch): Buffer {
    const gz = readFileSync(join(this.dir, b.file));
    try {
      gunzipSync(gz); // integrity check: a truncated or damaged file fails here, not at the backend
    } catch (err) {
      throw new SpoolCorruptError(`${b.file}: ${errorMessage(err)}`);
    }
    return gz;
  }

  quarantine(b: SpooledBatch): void {
    renameSync(join(this.dir, b.file), join(this.quarantineDir, b.file));
  }

  remove(b: SpooledBatch): void {
    rmSync(join(this.dir, b.file), { force: true });
  }

  /** Moves a batch the backend refused for good aside, with the reason beside it. */
  deadLetter(b: SpooledBatch, reason: string): void {
    renameSync(join(this.dir, b.file), join(this.deadLetterDir, b.file));
    writeFileSync(join(this.deadLetterDir, `${b.file}.reason.txt`), `${new Date().toISOString()} ${reason}\n`);
  }

  stats(now = Date.now()): { batches: number; bytes: number; oldestAgeSeconds: number } {
    const all = this.list();
    return {
      batches: all.length,
      bytes: all.reduce((n, b) => n + b.bytes, 0),
      oldestAgeSeconds: all.length ? Math.max(0, (now - all[0].createdAt) / 1000) : 0,
    };
  }

  private enforceLimits(now: number): void {
    const all = this.list();
    let total = all.reduce((n, b) => n + b.bytes, 0);
    for (const b of all) {
      if (total <= this.limits.maxBytes && now - b.createdAt <= this.limits.maxAgeMs) break;
      this.remove(b);
      total -= b.bytes;
      this.dropped++;
    }
  }
}
