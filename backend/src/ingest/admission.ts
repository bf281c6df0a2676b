// Admission control for pushes, checked before the work it guards is done:
//   - per collector, before anything else but the pool check below (by its verified certificate): a token bucket of
//     pushes, a bucket of decompressed bytes (its share of the event loop's parsing), and a
//     small number of pushes in hand at once, upload included; so one collector replaying a
//     long spool, a broken one in a loop or a compromised one sending slow or costly bodies
//     only ever spends its own allowance, never another collector's;
//   - for the process, as a push arrives, the ingest pool's queue (its collector lookup would
//     join it), and once its body has arrived (a slow upload holds no shared slot):
//     backpressure when the database falls behind (too many pushes being processed, or too
//     many queries queued for an ingest-pool connection) answers 429 + Retry-After instead of
//     joining an unbounded queue, and a memory budget bounds the decompressed bytes held.
// All of it is per backend process: with N backends behind a balancer the totals are N times these.
import type pg from 'pg';
import { HttpError } from '../errors.ts';

export interface AdmissionSettings {
  maxInFlight: number;
  maxPoolWaiting: number;
  /** Sustained pushes per second per collector, and how many may come at once. */
  ratePerSecond: number;
  burst: number;
  retryAfterSeconds: number;
  /** Pushes one collector may have in hand at once (0: no limit). */
  perCollectorInFlight?: number;
  /** Decompressed bytes per second per collector, and burst (0: no limit). */
  byteRate?: number;
  byteBurst?: number;
  /** Decompressed bytes held by all pushes in hand (0: no limit). */
  memoryBudgetBytes?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** A token bucket per key; refilled lazily, full buckets forgotten now and then. */
class Buckets {
  private buckets = new Map<string, Bucket>();
  private lastSweep = Date.now();
  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {}

  /** The key's tokens now (refilled). */
  level(key: string, now: number): Bucket {
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate);
    b.at = now;
    this.buckets.set(key, b);
    this.sweep(now);
    return b;
  }

  /** Seconds until the key's bucket holds `need` tokens. */
  wait(b: Bucket, need: number): number {
    return Math.max(1, Math.ceil((need - b.tokens) / this.rate));
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    const full = (this.burst / this.rate) * 1000;
    for (const [id, b] of this.buckets) if (now - b.at > full) this.buckets.delete(id);
  }
}

export class Admission {
  inFlight = 0;
  /** Decompressed bytes held by pushes in hand. */
  heldBytes = 0;
  private readonly pushes: Buckets;
  private readonly bytes: Buckets | undefined;
  private readonly perCollector = new Map<string, number>();

  constructor(
    private readonly pool: Pick<pg.Pool, 'waitingCount'>,
    private readonly s: AdmissionSettings,
  ) {
    this.pushes = new Buckets(s.ratePerSecond, s.burst);
    this.bytes = s.byteRate ? new Buckets(s.byteRate, s.byteBurst ?? s.byteRate) : undefined;
  }

  /** Takes one token from the collector's bucket or throws 429 rate_limited; also refused while
   *  the collector's byte bucket is in debt (its last pushes were larger than its share). */
  takeToken(collectorId: string, now = Date.now()): void {
    if (this.bytes) {
      const b = this.bytes.level(collectorId, now);
      if (b.tokens < 0) {
        throw new HttpError(429, 'rate_limited', `this collector sends more than ${this.s.byteRate} bytes/s of batches`, undefined, {
          'Retry-After': String(this.bytes.wait(b, 0)),
        });
      }
    }
    if (this.s.ratePerSecond <= 0) return;
    const b = this.pushes.level(collectorId, now);
    if (b.tokens < 1) {
      throw new HttpError(429, 'rate_limited', `this collector pushes faster than ${this.s.ratePerSecond}/s`, undefined, {
        'Retry-After': String(this.pushes.wait(b, 1)),
      });
    }
    b.tokens -= 1;
  }

  /** Charges a push's decompressed size to its collector once it is known (the bucket may go
   *  into debt by one push; the collector's next pushes wait until it is paid back). */
  chargeBytes(collectorId: string, n: number, now = Date.now()): void {
    if (this.bytes) this.bytes.level(collectorId, now).tokens -= n;
  }

  /** Counts a push as the collector's until release() runs, or throws 429 too_many_in_flight. */
  enterCollector(collectorId: string): () => void {
    const max = this.s.perCollectorInFlight ?? 0;
    const n = this.perCollector.get(collectorId) ?? 0;
    if (max > 0 && n >= max) {
      throw new HttpError(429, 'too_many_in_flight', `this collector already has ${n} pushes in progress`, undefined, {
        'Retry-After': String(this.s.retryAfterSeconds),
      });
    }
    this.perCollector.set(collectorId, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.perCollector.get(collectorId) ?? 1) - 1;
      if (left > 0) this.perCollector.set(collectorId, left);
      else this.perCollector.delete(collectorId);
    };
  }

  /** Throws 429 overloaded while the ingest pool's queue is past its limit. Checked as a push
   *  arrives too, before its collector lookup joins that queue: else, with the database behind,
   *  the lookups of every arriving push queued without bound (916 waiting with 2,000 collectors
   *  on an overloaded machine) and enter() refused them only after they had waited their turn. */
  checkPool(): void {
    if (this.pool.waitingCount > this.s.maxPoolWaiting) throw this.overloaded();
  }

  /** Enters the in-flight set or throws 429 overloaded; call leave() once the push is answered. */
  enter(): void {
    this.checkPool();
    if (this.inFlight >= this.s.maxInFlight) throw this.overloaded();
    this.inFlight++;
  }

  leave(): void {
    this.inFlight--;
  }

  /** Bytes the memory budget has left (Infinity without a budget). */
  get roomBytes(): number {
    const budget = this.s.memoryBudgetBytes ?? 0;
    return budget > 0 ? budget - this.heldBytes : Infinity;
  }

  /** Holds `n` bytes of the memory budget or throws 429 overloaded; returns the release. */
  holdBytes(n: number): () => void {
    if (n > this.roomBytes) throw this.overloaded();
    this.heldBytes += n;
    let held = n;
    return () => {
      this.heldBytes -= held;
      held = 0;
    };
  }

  private overloaded(): HttpError {
    return new HttpError(429, 'overloaded', 'the backend is behind on writes; retry later', undefined, {
      'Retry-After': String(this.s.retryAfterSeconds),
    });
  }
}
