// Creating a user: shared by `backend create-user` (the first admin) and POST /api/v1/users.
import { z } from 'zod';
import type pg from 'pg';
import { HttpError } from '../errors.ts';
import { SQLSTATE, sqlState } from '../db/errors.ts';
import { hashPassword, type HashSlots } from './password.ts';
import { passwordProblem } from './password-policy.ts';
import { ROLES, type Role } from '../auth/roles.ts';

export const usernameSchema = z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'username: 1-64 letters, digits, . _ @ -');
export const passwordSchema = z
  .string()
  .min(12, 'password must be at least 12 characters')
  .max(1024)
  .superRefine((p, ctx) => {
    const problem = passwordProblem(p);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
export const roleSchema = z.enum(ROLES);

export async function createUser(
  pool: pg.Pool,
  input: { username: string; password: string; role: Role },
  slots?: HashSlots,
): Promise<number> {
  const username = usernameSchema.parse(input.username);
  const password = passwordSchema.parse(input.password);
  const role = roleSchema.parse(input.role);
  try {
    const res = await pool.query('INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3) RETURNING id', [
      username,
      await hashPassword(password, slots),
      role,
    ]);
    return res.rows[0].id;
  } catch (err) {
    if (sqlState(err) === SQLSTATE.uniqueViolation) throw new HttpError(409, 'user_exists', `user ${username} already exists`);
    throw err;
  }
}
