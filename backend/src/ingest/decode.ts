// Reads a push body and gunzips it within hard limits; maxOutputLength stops a gzip bomb early.
// A typical push (~25 KiB inflating to ~300 KiB) is inflated right here: that takes ~0.2 ms,
// less than handing it to libuv's thread pool and back costs the event loop. Anything that
// inflates past INLINE_MAX goes to the thread pool, so a large batch never blocks the loop.
import { gunzip, gunzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import type { Request } from 'express';
import { HttpError } from '../errors.ts';

const gunzipAsync = promisify(gunzip);

export async function readBody(req: Request, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > maxBytes) throw new HttpError(413, 'body_too_large', `request body exceeds ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new HttpError(413, 'body_too_large', `request body exceeds ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}

const INLINE_MAX = 2 * 1024 * 1024;

async function inflate(body: Buffer, maxDecompressed: number): Promise<Buffer> {
  try {
    return gunzipSync(body, { maxOutputLength: Math.min(INLINE_MAX, maxDecompressed) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE' || maxDecompressed <= INLINE_MAX) throw err;
  }
  // 1 MiB output chunks instead of zlib's 16 KiB: a large batch crosses from the thread pool
  // back to JavaScript a few times, not once per 16 KiB.
  return gunzipAsync(body, { maxOutputLength: maxDecompressed, chunkSize: 1024 * 1024 });
}

export async function decodeBatch(body: Buffer, maxDecompressed: number): Promise<{ json: unknown; bytes: number }> {
  let raw: Buffer;
  try {
    raw = await inflate(body, maxDecompressed);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new HttpError(413, 'decompressed_too_large', `batch inflates past ${maxDecompressed} bytes`);
    }
    throw new HttpError(400, 'invalid_gzip', 'body is not valid gzip data');
  }
  try {
    return { json: JSON.parse(raw.toString('utf8')), bytes: raw.length };
  } catch {
    throw new HttpError(400, 'invalid_json', 'batch is not valid JSON');
  }
}
