// Password guessing is throttled per username and per source address, before any password
// hash is computed. Each key (`user:<name>`, `addr:<ip>`) may fail `freeFailures` times; every
// failure after that blocks the key for a delay that doubles (base, 2×base, 4×base, … up to
// maxDelay). While a key is blocked its attempts get 429 + Retry-After and cost no scrypt. A
// key is forgotten `resetAfter` after its last failure; a successful login clears its username.
// Attempts still being checked count against the free ones, so guesses sent in parallel get no
// more than sequential ones (the rest wait a second and see the outcome).
// The username key uses the name as submitted (known or not), so a throttled name does not tell
// whether the account exists. The counters live in this process, and the checked failures are
// also counted in PostgreSQL (login-throttle-store.ts), whose counts this process adopts: N
// backends behind a balancer give a guesser one budget, not N.
export interface ThrottleSettings {
  freeFailures: number;
  baseDelayMs: number;
  maxDelayMs: number;
  resetAfterMs: number;
  /** Keys remembered at most; the oldest are forgotten first when full. */
  maxKeys: number;
}

/** A throttled refusal is answered after this pause: a client looping on a connection then gets
 *  one refusal a second from it, not thousands. It holds a timer only, no slot, thread or
 *  database connection. */
export const REFUSAL_DELAY_MS = 1000;

export const USER_THROTTLE: ThrottleSettings = {
  freeFailures: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  resetAfterMs: 15 * 60_000,
  maxKeys: 50_000,
};
/** An address may be shared (NAT, a jump host): more free failures, the same doubling. */
export const ADDRESS_THROTTLE: ThrottleSettings = { ...USER_THROTTLE, freeFailures: 20 };

interface Entry {
  failures: number;
  /** Attempts let through and not yet decided. */
  pending: number;
  lastFailure: number;
  blockedUntil: number;
  /** This burst's throttling has been audited (once per burst). */
  audited: boolean;
}

export interface Blocked {
  key: string;
  retryAfterSeconds: number;
  failures: number;
  /** True the first time this burst is refused: the caller audits it then, and not again. */
  firstRefusal: boolean;
}

export class Throttle {
  private entries = new Map<string, Entry>();

  constructor(private readonly s: ThrottleSettings) {}

  /** The key's block, or undefined when an attempt may be checked now. */
  blocked(key: string, now = Date.now()): Blocked | undefined {
    const e = this.live(key, now);
    if (!e) return undefined;
    // The free failures may all be in flight: wait for their outcome.
    const busy = e.pending > 0 && e.failures + e.pending >= this.s.freeFailures;
    if (e.blockedUntil <= now && !busy) return undefined;
    const firstRefusal = !e.audited;
    e.audited = true;
    return { key, retryAfterSeconds: Math.max(1, Math.ceil((e.blockedUntil - now) / 1000)), failures: e.failures, firstRefusal };
  }

  /** An attempt is let through; end it with fail(), succeed() or abandon(). */
  begin(key: string, now = Date.now()): void {
    const e = this.live(key, now);
    if (e) {
      e.pending++;
      return;
    }
    if (this.entries.size >= this.s.maxKeys) this.evict(now);
    this.entries.set(key, { failures: 0, pending: 1, lastFailure: now, blockedUntil: 0, audited: false });
  }

  /** An attempt ended without an answer on the password (refused for load, a database error). */
  abandon(key: string): void {
    const e = this.entries.get(key);
    if (e) e.pending = Math.max(0, e.pending - 1);
  }

  /** Counts a checked failure; past the free ones it blocks the key for a doubling delay. */
  fail(key: string, now = Date.now()): void {
    const e = this.live(key, now) ?? { failures: 0, pending: 1, lastFailure: now, blockedUntil: 0, audited: false };
    e.pending = Math.max(0, e.pending - 1);
    e.failures++;
    e.lastFailure = now;
    const over = e.failures - this.s.freeFailures;
    if (over > 0) e.blockedUntil = now + Math.min(this.s.maxDelayMs, this.s.baseDelayMs * 2 ** Math.min(over - 1, 30));
    // Re-inserted at the end: the Map's order is then oldest failure first.
    this.entries.delete(key);
    if (this.entries.size >= this.s.maxKeys) this.evict(now);
    this.entries.set(key, e);
  }

  /** Takes a count kept elsewhere (the fleet's, in PostgreSQL) where it is ahead of this one. */
  adopt(key: string, failures: number, blockedUntil: number, now = Date.now()): void {
    const e = this.live(key, now);
    if (e) {
      e.failures = Math.max(e.failures, failures);
      e.blockedUntil = Math.max(e.blockedUntil, blockedUntil);
      e.lastFailure = now;
      return;
    }
    if (this.entries.size >= this.s.maxKeys) this.evict(now);
    this.entries.set(key, { failures, pending: 0, lastFailure: now, blockedUntil, audited: false });
  }

  succeed(key: string): void {
    const e = this.entries.get(key);
    // Others' attempts may still be in flight on this key: keep counting them.
    if (e && e.pending > 1) Object.assign(e, { failures: 0, pending: e.pending - 1, blockedUntil: 0, audited: false });
    else this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private live(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    if (e && e.pending === 0 && now - e.lastFailure > this.s.resetAfterMs && e.blockedUntil <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  /** Drops forgotten keys; if none, the oldest tenth (memory stays bounded under a flood of names). */
  private evict(now: number): void {
    for (const [k, e] of this.entries)
      if (e.pending === 0 && now - e.lastFailure > this.s.resetAfterMs && e.blockedUntil <= now) this.entries.delete(k);
    if (this.entries.size < this.s.maxKeys) return;
    let drop = Math.ceil(this.s.maxKeys / 10);
    for (const k of this.entries.keys()) {
      if (drop-- <= 0) break;
      this.entries.delete(k);
    }
  }
}

export type LoginBlock = Blocked & { by: 'address' | 'username' };

/** A key's failures and block (epoch ms) as the whole fleet counted them. */
export interface FleetCount {
  key: string;
  failures: number;
  blockedUntil: number;
}

/** Login throttles for usernames and addresses. */
export class LoginThrottle {
  readonly users: Throttle;
  readonly addresses: Throttle;

  constructor(
    readonly userSettings: ThrottleSettings = USER_THROTTLE,
    readonly addressSettings: ThrottleSettings = ADDRESS_THROTTLE,
  ) {
    this.users = new Throttle(userSettings);
    this.addresses = new Throttle(addressSettings);
  }

  /** The block that refuses this attempt, if any (the address first: it needs no lookup). */
  check(username: string, address: string, now = Date.now()): LoginBlock | undefined {
    const a = this.addresses.blocked(`addr:${address}`, now);
    if (a) return { ...a, by: 'address' };
    const u = this.users.blocked(`user:${username}`, now);
    return u ? { ...u, by: 'username' } : undefined;
  }

  /** Lets an attempt through (after check()); it must end in exactly one of the three below. */
  begin(username: string, address: string, now = Date.now()): void {
    this.addresses.begin(`addr:${address}`, now);
    this.users.begin(`user:${username}`, now);
  }

  fail(username: string, address: string, now = Date.now()): void {
    this.addresses.fail(`addr:${address}`, now);
    this.users.fail(`user:${username}`, now);
  }

  succeed(username: string, address: string): void {
    this.addresses.abandon(`addr:${address}`);
    this.users.succeed(`user:${username}`);
  }

  abandon(username: string, address: string): void {
    this.addresses.abandon(`addr:${address}`);
    this.users.abandon(`user:${username}`);
  }

  /** Adopts the fleet's counts of `user:` and `addr:` keys. */
  adopt(counts: readonly FleetCount[], now = Date.now()): void {
    for (const c of counts) (c.key.startsWith('addr:') ? this.addresses : this.users).adopt(c.key, c.failures, c.blockedUntil, now);
  }
}
