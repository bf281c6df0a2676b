// Request validation with zod: a body, query string or path parameters that do not match
// their schema become a 400 naming each problem, before any SQL runs.
import { z } from 'zod';
import { HttpError } from '../errors.ts';

export function parseWith<T>(schema: z.ZodType<T>, value: unknown, where: 'body' | 'query' | 'path'): T {
  const res = schema.safeParse(value);
  if (!res.success) {
    const problems = res.error.issues.slice(0, 10).map((i) => `${i.path.join('.') || `(${where})`}: ${i.message}`);
    // The message names the first problem: clients (the collector's CLI) print only the message.
    const more = res.error.issues.length > 1 ? ` (and ${res.error.issues.length - 1} more)` : '';
    throw new HttpError(
      400,
      where === 'body' ? 'invalid_request' : `invalid_${where}`,
      `request ${where} is not valid: ${problems[0]}${more}`,
      problems,
    );
  }
  return res.data;
}

/** An integer in a path or query string: decimal digits only. Number() would also take "1e0",
 *  " 1", "0x2" and "1.0", so one id would have many spellings (and caches and logs disagree). */
export const intString = (min: number, max: number) =>
  z
    .string()
    .regex(/^(0|[1-9][0-9]{0,15})$/, 'must be a decimal integer without sign, spaces, exponent or fraction')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** Path parameter schemas shared by the routes. */
export const idParam = z.strictObject({ id: intString(1, 2 ** 31 - 1) });
export const uuidParam = z.strictObject({ id: z.uuid() });
