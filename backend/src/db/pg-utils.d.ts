// pg converts query parameters with this function (arrays to array literals, dates, buffers);
// copyIn's statement uses it so its parameters read exactly as they would through pg's query().
declare module 'pg/lib/utils.js' {
  export function prepareValue(value: unknown): string | Buffer | null;
}
