// A fresh database on an external Citus cluster, for the Citus test suite and benchmark. Citus
// keeps a maintenance daemon connected to every database with its extension, so a template
// cannot be cloned: the database is made on every node, with the extension, and the workers are
// registered on the coordinator, all in plain SQL from the coordinator's URL (PGA_CITUS_URL),
// whose database lists the workers (pg_dist_node). drop() removes it from every node,
// coordinator first, so that no node keeps its daemon and connections.
import pg from 'pg';

export interface CitusDatabase {
  url: string;
  drop(): Promise<void>;
}

async function onNode<T>(url: URL, database: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const u = new URL(url);
  u.pathname = `/${database}`;
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

/** Makes `name` (lower-case letters, digits, _) afresh on the coordinator `clusterUrl` names and every worker. */
export async function freshCitusDatabase(clusterUrl: string, name: string): Promise<CitusDatabase> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a database name: ${name}`);
  const coordinator = new URL(clusterUrl);
  const workers = await onNode(coordinator, coordinator.pathname.slice(1) || 'postgres', async (c) =>
    (await c.query("SELECT nodename, nodeport FROM pg_dist_node WHERE groupid <> 0 AND noderole = 'primary' ORDER BY groupid")).rows.map(
      (r) => {
        const u = new URL(coordinator);
        u.hostname = r.nodename;
        u.port = String(r.nodeport);
        return u;
      },
    ),
  );
  if (workers.length === 0) throw new Error(`${clusterUrl} lists no workers (pg_dist_node)`);
  const nodes = [coordinator, ...workers];
  const drop = async (): Promise<void> => {
    for (const node of nodes) await onNode(node, 'postgres', (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  };
  await drop();
  await Promise.all(
    nodes.map(async (node) => {
      await onNode(node, 'postgres', (c) => c.query(`CREATE DATABASE ${name}`));
      await onNode(node, name, (c) => c.query('CREATE EXTENSION citus'));
    }),
  );
  await onNode(coordinator, name, async (c) => {
    await c.query('CREATE EXTENSION citus_columnar');
    await c.query('SELECT citus_set_coordinator_host($1, $2)', [coordinator.hostname, Number(coordinator.port || 5432)]);
    for (const w of workers) await c.query('SELECT citus_add_node($1, $2)', [w.hostname, Number(w.port || 5432)]);
  });
  const url = new URL(coordinator);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop };
}
