// Every read of a metric table filters by its owner in the table's own alias, subqueries and
// rollup watermarks too: on Citus (every metric table distributed by server) that is what makes a
// read one shard's rather than every shard's (issue 22). devkit/citus-plannable.ts checks it.

/** The selected server's rows of a host table aliased `alias`. */
export const ofServer = (alias: string): string => `${alias}.server_id IN (\${server:sqlstring})`;
/** The selected instances' rows of an instance-level table aliased `alias`: by server first
 *  (every instance-level table has the server of its instance, sql/130), then by instance. */
export const ofInstances = (alias: string): string => `${ofServer(alias)} AND ${alias}.instance_id IN (\${instance:sqlstring})`;

const OWNER_PREDICATE = /\bm\.(?:server_id|instance_id) IN \(\$\{(?:server|instance):sqlstring\}\)/g;

/** The owner predicates of a filter on alias m, re-aliased (for a subquery over the same family);
 *  '' when it has none (fleet-wide panels read every server). */
export function ownerOf(where: string, alias: string): string {
  return (where.match(OWNER_PREDICATE) ?? []).map((p) => `${alias}.${p.slice(2)}`).join(' AND ');
}
