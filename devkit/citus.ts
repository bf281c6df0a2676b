// The number of tasks a query's plan sends to the shards of a Citus cluster (bench:dashboards and
// the dashboards' Citus test).
import type pg from 'pg';

/** The Task Count of every distributed step of a query's plan (the main job and each subplan
 *  Citus planned apart), from EXPLAIN (FORMAT JSON) on the coordinator: one task is a router
 *  query, run on the one node that holds the shard. Empty when nothing is distributed. */
export async function citusTaskCounts(db: pg.Client, sql: string): Promise<number[]> {
  const plan = (await db.query(`EXPLAIN (FORMAT JSON) ${sql}`)).rows[0]['QUERY PLAN'];
  const counts: number[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) for (const n of node) walk(n);
    else if (typeof node === 'object' && node !== null) {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'Task Count') counts.push(Number(v));
        // A task's remote plan is the worker's own PostgreSQL plan: no further tasks in it.
        else if (k !== 'Remote Plan') walk(v);
      }
    }
  };
  walk(plan);
  return counts;
}
