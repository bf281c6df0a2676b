// The login throttle's counts for the whole fleet, in PostgreSQL (sql/110_login_throttle.sql).
// The in-memory throttle (login-throttle.ts) refuses a blocked guesser before any query; an
// attempt it lets through reads the fleet's counts of its two keys, and a checked failure is
// counted there, and what the fleet counted is adopted into memory. The cost is bounded by the
// login path's hashing slots: these queries run inside a slot, next to the user lookup and the
// scrypt hash they precede (one indexed read, and one upsert of two rows per failure).
import type pg from 'pg';
import { sha256Hex } from './hash.ts';
import type { FleetCount, LoginBlock, LoginThrottle, ThrottleSettings } from './login-throttle.ts';

/** Forgotten keys are deleted at most this often, by whichever backend counts a failure then. */
const SWEEP_MS = 60_000;

export class LoginThrottleStore {
  private lastSweep = 0;

  constructor(
    private readonly db: Pick<pg.Pool, 'query'>,
    private readonly throttle: LoginThrottle,
  ) {}

  /** The keys of an attempt, each with its settings and stored name, in a fixed order (rows are
   *  locked in that order, so two backends counting the same pair cannot deadlock). */
  private keys(username: string, address: string): { key: string; hash: string; s: ThrottleSettings }[] {
    return [
      { key: `user:${username}`, s: this.throttle.userSettings },
      { key: `addr:${address}`, s: this.throttle.addressSettings },
    ]
      .map((k) => ({ ...k, hash: sha256Hex(k.key) }))
      .sort((a, b) => a.hash.localeCompare(b.hash));
  }

  /** Adopts the fleet's counts for this attempt; the block that refuses it, if the fleet has one. */
  async check(username: string, address: string, now = Date.now()): Promise<LoginBlock | undefined> {
    const keys = this.keys(username, address);
    const rows = (
      await this.db.query<{ key_hash: string; failures: number; blocked_ms: number }>(
        `SELECT key_hash, failures, (extract(epoch FROM blocked_until) * 1000)::float8 AS blocked_ms FROM login_throttle
        WHERE key_hash = ANY($1) AND (blocked_until > now() OR last_failure > now() - make_interval(secs => $2))`,
        [keys.map((k) => k.hash), Math.max(...keys.map((k) => k.s.resetAfterMs)) / 1000],
      )
    ).rows;
    if (rows.length === 0) return undefined;
    const counts = this.counts(keys, rows);
    this.throttle.adopt(counts, now);
    return counts.some((c) => c.blockedUntil > now) ? this.throttle.check(username, address, now) : undefined;
  }

  /** Counts a checked failure for the fleet; returns what the fleet has counted, for adopt() once
   *  this process has counted the failure itself. */
  async fail(username: string, address: string): Promise<FleetCount[]> {
    const keys = this.keys(username, address);
    const rows = (
      await this.db.query<{ key_hash: string; failures: number; blocked_ms: number }>(
        `SELECT k.key_hash, f.failures, (extract(epoch FROM f.blocked_until) * 1000)::float8 AS blocked_ms
         FROM unnest($1::text[], $2::int[], $3::float8[], $4::float8[], $5::float8[]) WITH ORDINALITY AS k(key_hash, free, base_s, max_s, reset_s, n),
              LATERAL login_throttle_fail(k.key_hash, k.free, k.base_s, k.max_s, k.reset_s) f
        ORDER BY k.n`,
        [
          keys.map((k) => k.hash),
          keys.map((k) => k.s.freeFailures),
          keys.map((k) => k.s.baseDelayMs / 1000),
          keys.map((k) => k.s.maxDelayMs / 1000),
          keys.map((k) => k.s.resetAfterMs / 1000),
        ],
      )
    ).rows;
    await this.sweep();
    return this.counts(keys, rows);
  }

  /** A successful login clears its username for the fleet, as it does in memory. */
  async succeed(username: string): Promise<void> {
    await this.db.query('DELETE FROM login_throttle WHERE key_hash = $1', [sha256Hex(`user:${username}`)]);
  }

  private counts(keys: { key: string; hash: string }[], rows: { key_hash: string; failures: number; blocked_ms: number }[]): FleetCount[] {
    const byHash = new Map(keys.map((k) => [k.hash, k.key]));
    // -infinity (never blocked) reads as -Infinity ms.
    return rows.map((r) => ({ key: byHash.get(r.key_hash)!, failures: r.failures, blockedUntil: r.blocked_ms }));
  }

  private async sweep(now = Date.now()): Promise<void> {
    if (now - this.lastSweep < SWEEP_MS) return;
    this.lastSweep = now;
    const resetS = Math.max(this.throttle.userSettings.resetAfterMs, this.throttle.addressSettings.resetAfterMs) / 1000;
    await this.db.query('DELETE FROM login_throttle WHERE last_failure < now() - make_interval(secs => $1) AND blocked_until < now()', [
      resetS,
    ]);
  }
}
