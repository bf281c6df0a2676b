// One transaction: BEGIN, the work, COMMIT; ROLLBACK when the work throws. A function that
// decides there is nothing to do simply returns: committing a transaction that wrote nothing
// is the same as rolling it back, and it releases transaction-level advisory locks alike.
import pg from 'pg';

/**
 * Runs `work` in a transaction on `db`: a client (the caller keeps its session, e.g. for a
 * session lock) or a pool (a connection is taken for the transaction and returned after).
 * The work's error is what the caller gets: a ROLLBACK that fails too (the session died, which
 * ended the transaction with it) is not allowed to hide it.
 */
export async function withTransaction<T>(db: pg.Pool | pg.ClientBase, work: (client: pg.ClientBase) => Promise<T>): Promise<T> {
  if (db instanceof pg.Pool) {
    const client = await db.connect();
    try {
      return await withTransaction(client, work);
    } finally {
      client.release();
    }
  }
  await db.query('BEGIN');
  try {
    const result = await work(db);
    await db.query('COMMIT');
    return result;
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
