// Password hashing with scrypt (node:crypto). The parameters travel with the hash, so they can
// be raised later without invalidating stored passwords:  scrypt$N$r$p$salt$hash (base64url).
// scrypt runs on libuv's small thread pool (4 threads by default), which gunzip and file I/O
// share: hashing takes at most `concurrency` of those threads, and at most `queue` more hashes
// wait; beyond that a login is refused at once (429), so an unauthenticated login flood cannot
// take the threads a push's gunzip needs.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { HttpError } from '../errors.ts';

// N = 2^15, r = 8: ~32 MiB and tens of milliseconds per hash, a cost a login can afford and a
// guesser cannot; p = 1 because the backend runs on few cores.
const DEFAULTS = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

/** At most `concurrency` hashes run at once and `queue` wait; more are refused with 429. */
export class HashSlots {
  private running = 0;
  private waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly queue: number,
  ) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= Math.max(1, this.concurrency)) {
      if (this.waiting.length >= this.queue) {
        throw new HttpError(429, 'too_many_logins', 'too many password checks in progress; retry shortly', undefined, {
          'Retry-After': '1',
        });
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await fn();
    } finally {
      // The slot passes straight to the next waiter, or is given back.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

/** For the CLI and wherever no backend's own slots are given. */
const defaultSlots = new HashSlots(2, 16);
/** For a caller that already holds a slot of its own (login holds one for its whole check). */
export const SLOT_HELD = new HashSlots(Infinity, 0);

function scryptAsync(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  // maxmem must exceed 128 * N * r; the default (32 MiB) sits exactly at the limit of N = 2^15.
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_LENGTH, { ...opts, maxmem: 256 * 128 * (opts.N ?? 1) * (opts.r ?? 1) }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string, slots = defaultSlots): Promise<string> {
  const salt = randomBytes(16);
  const key = await slots.run(() => scryptAsync(password, salt, DEFAULTS));
  return ['scrypt', DEFAULTS.N, DEFAULTS.r, DEFAULTS.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Constant-time check; a malformed stored hash verifies nothing. */
export async function verifyPassword(password: string, stored: string, slots = defaultSlots): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const expected = Buffer.from(parts[5], 'base64url');
  if (![N, r, p].every(Number.isSafeInteger) || expected.length !== KEY_LENGTH) return false;
  const key = await slots.run(() => scryptAsync(password, Buffer.from(parts[4], 'base64url'), { N, r, p }));
  return timingSafeEqual(key, expected);
}

/** A hash of a random password: login runs scrypt against it for unknown users, so timing
 *  does not tell which usernames exist. */
export const DUMMY_HASH_PROMISE: Promise<string> = hashPassword(randomBytes(16).toString('hex'));
