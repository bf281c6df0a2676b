// A worker thread that checks a large batch before the event loop parses it: the scan,
// JSON.parse, the protocol version and validation run here, so a large batch that will be
// refused (a bomb that passed the scan, megabytes of oversized jsonb) costs the event loop
// nothing. A batch that passes is parsed again on the event loop (structured-cloning the parsed
// batch back would cost about as much), so only valid batches, held to their collector's byte
// rate, cost the loop their parse. See preCheck() in decode.ts.
import { parentPort } from 'node:worker_threads';
import { PROTOCOL_VERSION, ROWS_PROTOCOL_VERSION } from '../../../protocol/index.ts';
import { HttpError } from '../errors.ts';
import { parseBatch } from './decode.ts';
import { createBatchValidator } from './validate-batch.ts';

/** What the worker answers: nothing wrong, or the refusal the event loop would have made. */
export type PreCheck =
  | { id: number; ok: true }
  | { id: number; ok: false; status: number; code: string; message: string; details?: string[]; families?: string[] };

const validate = createBatchValidator();

parentPort?.on('message', ({ id, raw }: { id: number; raw: Uint8Array }) => {
  let answer: PreCheck;
  try {
    const json = parseBatch(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
    const version = (json as { protocol_version?: unknown } | null)?.protocol_version;
    if (version !== PROTOCOL_VERSION && version !== ROWS_PROTOCOL_VERSION)
      answer = { id, ok: true }; // the loop answers 426 itself
    else {
      const v = validate(json);
      answer = v.ok
        ? { id, ok: true }
        : {
            id,
            ok: false,
            status: 400,
            code: 'schema_violation',
            message: 'batch does not match the protocol schema',
            details: v.problems,
            families: v.families,
          };
    }
  } catch (err) {
    answer =
      err instanceof HttpError
        ? { id, ok: false, status: err.status, code: err.code, message: err.message }
        : { id, ok: false, status: 400, code: 'invalid_json', message: 'batch is not valid JSON' };
  }
  parentPort!.postMessage(answer);
});
