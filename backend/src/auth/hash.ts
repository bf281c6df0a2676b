// Tokens (enrolment, refresh, API) are stored only as their SHA-256: a database leak reveals none.
import { createHash } from 'node:crypto';

export const sha256Hex = (s: string): string => createHash('sha256').update(s).digest('hex');
