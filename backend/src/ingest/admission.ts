// Admission control for pushes, checked before any work is done for them:
//   - backpressure: when the database falls behind (too many pushes in flight in this process,
//     or too many queries queued for a pool connection) a push gets 429 + Retry-After instead
//     of joining an unbounded queue; its collector keeps the batch spooled and retries;
//   - a per-collector token bucket, so one collector replaying a long spool, or a broken one
//     in a loop, cannot take the capacity of the others.
// Both are per backend process: with N backends behind a balancer the totals are N times these.
import type pg from 'pg';
import { HttpError } from '../errors.ts';

export interface AdmissionSettings {
  maxInFlight: number;
  maxPoolWaiting: number;
  /** Sustained pushes per second per collector, and how many may come at once. */
  ratePerSecond: number;
  burst: number;
  retryAfterSeconds: number;
}

interface Bucket { tokens: number; at: number }

export class Admission {
  inFlight = 0;
  private buckets = new Map<string, Bucket>();
  private lastSweep = Date.now();

  constructor(private readonly pool: Pick<pg.Pool, 'waitingCount'>, private readonly s: AdmissionSettings) {}

  /** Takes one token from the collector's bucket or throws 429 rate_limited. */
  takeToken(collectorId: string, now = Date.now()): void {
    if (this.s.ratePerSecond <= 0) return;
    const b = this.buckets.get(collectorId) ?? { tokens: this.s.burst, at: now };
    b.tokens = Math.min(this.s.burst, b.tokens + ((now - b.at) / 1000) * this.s.ratePerSecond);
    b.at = now;
    this.buckets.set(collectorId, b);
    this.sweep(now);
    if (b.tokens < 1) {
      const wait = Math.max(1, Math.ceil((1 - b.tokens) / this.s.ratePerSecond));
      throw new HttpError(429, 'rate_limited', `this collector pushes faster than ${this.s.ratePerSecond}/s`, undefined, { 'Retry-After': String(wait) });
    }
    b.tokens -= 1;
  }

  /** Enters the in-flight set or throws 429 overloaded; call leave() once the push is answered. */
  enter(): void {
    if (this.inFlight >= this.s.maxInFlight || this.pool.waitingCount > this.s.maxPoolWaiting) {
      throw new HttpError(429, 'overloaded', 'the backend is behind on writes; retry later', undefined,
        { 'Retry-After': String(this.s.retryAfterSeconds) });
    }
    this.inFlight++;
  }

  leave(): void { this.inFlight--; }

  /** Forgets buckets that have refilled completely: they hold no information. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    const full = (this.s.burst / this.s.ratePerSecond) * 1000;
    for (const [id, b] of this.buckets) if (now - b.at > full) this.buckets.delete(id);
  }
}
