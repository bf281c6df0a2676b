// Reads a push body and turns it into JSON within hard limits, each checked before the work it
// bounds is done:
//   - the upload must arrive within a deadline (408), and within the compressed size limit;
//   - gunzip stops at the decompressed limit (maxOutputLength stops a gzip bomb early), and the
//     bytes it produces are held against the process's memory budget (429 when it is spent);
//   - a scan of the raw bytes bounds nesting depth and the number of objects and arrays before
//     JSON.parse runs: JSON.parse cannot be interrupted, and 5 million nested `[` (9.8 KB of
//     gzip) kept it on the event loop for 2.7 s, 16 MiB of `{},` for 3.5 s; the scan refuses
//     either in microseconds to ~40 ms (~2 ns a byte), ~0.3 ms for a typical push.
// A batch inflating past 2 MiB is first checked by a worker thread (parse-worker.ts), so one
// that will be refused never costs the event loop its parse: a 15 MB batch of oversized jsonb
// took 0.3-0.45 s of the loop's CPU, which became seconds of stall on a loaded machine.
// A typical push (~25 KiB inflating to ~300 KiB) is inflated right here: that takes ~0.2 ms,
// less than handing it to libuv's thread pool and back costs the event loop. Anything that
// inflates past INLINE_MAX goes to the thread pool, so a large batch never blocks the loop.
import { gunzip, gunzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { Request } from 'express';
import { LIMITS } from '../../../protocol/index.ts';
import { HttpError } from '../errors.ts';
import type { PreCheck } from './parse-worker.ts';

const gunzipAsync = promisify(gunzip);

/** The body, or 413 past `maxBytes`, or 408 when it has not all arrived within `timeoutMs`
 *  (the connection is then closed: its unread rest is not waited for). */
export function readBody(req: Request, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  const tooLarge = (): HttpError =>
    new HttpError(413, 'body_too_large', `request body exceeds ${maxBytes} bytes`, undefined, { Connection: 'close' });
  if (declared > maxBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err?: Error): void => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', done).off('close', onClose);
      if (err) {
        req.pause();
        reject(err);
      } else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) done(tooLarge());
      else chunks.push(chunk);
    };
    const onEnd = (): void => done();
    const onClose = (): void => done(new HttpError(400, 'body_incomplete', 'the connection closed before the body was complete'));
    const timer = setTimeout(
      () =>
        done(
          new HttpError(408, 'body_timeout', `the body did not arrive within ${timeoutMs / 1000} s`, undefined, { Connection: 'close' }),
        ),
      timeoutMs,
    );
    req.on('data', onData).on('end', onEnd).on('error', done).on('close', onClose);
  });
}

const INLINE_MAX = 2 * 1024 * 1024;

/** What the inflated bytes may hold: a hold on the memory budget, released when the push is done. */
export interface MemoryBudget {
  roomBytes: number;
  holdBytes(n: number): () => void;
}

/** gunzip within `maxDecompressed`, holding what it produces against `budget`. */
export async function inflateBatch(
  body: Buffer,
  maxDecompressed: number,
  budget: MemoryBudget,
): Promise<{ raw: Buffer; release: () => void }> {
  const tooLarge = (): HttpError => new HttpError(413, 'decompressed_too_large', `batch inflates past ${maxDecompressed} bytes`);
  const invalid = (): HttpError => new HttpError(400, 'invalid_gzip', 'body is not valid gzip data');
  const code = (err: unknown): string | undefined => (err as NodeJS.ErrnoException).code;
  try {
    // Synchronous: nothing else runs between inflating and holding, so the hold is exact.
    const raw = gunzipSync(body, { maxOutputLength: Math.min(INLINE_MAX, maxDecompressed) });
    return { raw, release: budget.holdBytes(raw.length) };
  } catch (err) {
    if (err instanceof HttpError) throw err;
    if (code(err) !== 'ERR_BUFFER_TOO_LARGE') throw invalid();
    if (maxDecompressed <= INLINE_MAX) throw tooLarge();
  }
  // Other pushes run while the thread pool inflates: hold the most this one may produce first.
  let release = budget.holdBytes(maxDecompressed);
  try {
    // 1 MiB output chunks instead of zlib's 16 KiB: a large batch crosses from the thread pool
    // back to JavaScript a few times, not once per 16 KiB.
    const raw = await gunzipAsync(body, { maxOutputLength: maxDecompressed, chunkSize: 1024 * 1024 });
    release();
    release = budget.holdBytes(raw.length);
    return { raw, release };
  } catch (err) {
    release();
    throw code(err) === 'ERR_BUFFER_TOO_LARGE' ? tooLarge() : invalid();
  }
}

/** Nesting depth past `maxDepth`, or more than `maxContainers` objects and arrays, as a
 *  problem; undefined when within both. Brackets inside strings are skipped (escapes too).
 *  Malformed JSON may pass: JSON.parse refuses it next, at a cost the bounds now limit. */
export function jsonShapeProblem(raw: Uint8Array, maxDepth: number, maxContainers: number): string | undefined {
  let depth = 0;
  let containers = 0;
  const n = raw.length;
  for (let i = 0; i < n; i++) {
    const c = raw[i];
    if (c === 0x22) {
      // a string: find its closing quote, skipping escaped characters
      for (i++; i < n; i++) {
        const d = raw[i];
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return `JSON nests deeper than ${maxDepth} levels`;
      if (++containers > maxContainers) return `JSON holds more than ${maxContainers} objects and arrays`;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return undefined;
}

export function parseBatch(raw: Buffer): unknown {
  const shape = jsonShapeProblem(raw, LIMITS.maxJsonDepth, LIMITS.maxJsonContainers);
  if (shape) throw new HttpError(400, 'invalid_json', `batch is refused before parsing: ${shape}`);
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid_json', 'batch is not valid JSON');
  }
}

/** Batches inflating past this are checked in the worker first (parse-worker.ts). */
export const PRECHECK_MIN_BYTES = INLINE_MAX;

let worker: { w: Worker; pending: Map<number, (a: PreCheck) => void>; next: number } | undefined;

/** The worker's verdict on a large batch: ok, or the refusal (with the families it names). */
export function preCheck(raw: Buffer): Promise<PreCheck> {
  if (!worker) {
    // Loader hooks of `--import tsx` do not reach a worker on Node 20: it registers tsx itself.
    const url = new URL('./parse-worker.ts', import.meta.url).href;
    const w = new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url)}); })`, {
      eval: true,
      // An out-of-memory batch ends the worker, not the backend.
      resourceLimits: { maxOldGenerationSizeMb: 512 },
    });
    const state = { w, pending: new Map<number, (a: PreCheck) => void>(), next: 1 };
    w.on('message', (a: PreCheck) => {
      state.pending.get(a.id)?.(a);
      state.pending.delete(a.id);
      if (state.pending.size === 0) w.unref();
    });
    // A worker that died (out of memory on a hostile batch) fails its pending checks and is
    // replaced on the next use; those pushes get a retryable 503.
    const fail = (): void => {
      if (worker === state) worker = undefined;
      for (const [id, done] of state.pending)
        done({ id, ok: false, status: 503, code: 'precheck_failed', message: 'the batch could not be checked; retry later' });
      state.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', fail);
    worker = state;
  }
  const state = worker;
  const id = state.next++;
  // Referenced only while a check is pending: an idle worker never keeps the process alive.
  state.w.ref();
  return new Promise((resolve) => {
    state.pending.set(id, resolve);
    state.w.postMessage({ id, raw });
  });
}

/** Stops the worker (the backend's close()). */
export async function stopPreCheck(): Promise<void> {
  const w = worker?.w;
  worker = undefined;
  await w?.terminate();
}
