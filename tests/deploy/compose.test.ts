// docker-compose.yml cannot run here (no Docker engine), so it is checked as data against the
// repository: every mounted path and referenced file exists, every image is pinned, no secret is
// written inline, the backend is built from deploy/Dockerfile as a non-root user, every service
// that stays up has a health check, and the files the containers read (Prometheus config, the
// demo collector's TOML, Grafana provisioning) agree with the paths and ports compose gives them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parse } from 'yaml';
import { parseLocalConfig, localConfigSchema } from '../../collector/src/config.ts';

const root = join(import.meta.dirname, '..', '..');
const read = (p: string): string => readFileSync(join(root, p), 'utf8');
/** YAML without its comment lines, where examples like ${VAR} are prose, not references. */
const withoutComments = (text: string): string => text.replace(/^\s*#.*$/gm, '');

interface Healthcheck {
  test: string[] | string;
}
interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  env_file?: string[];
  volumes?: string[];
  ports?: string[];
  healthcheck?: Healthcheck;
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
  read_only?: boolean;
  user?: string;
  profiles?: string[];
}
interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

// Compose honours YAML merge keys (<<), which the yaml package resolves only when asked.
const compose = parse(read('docker-compose.yml'), { merge: true }) as Compose;
const services = Object.entries(compose.services);

interface Mount {
  source: string;
  target: string;
  bind: boolean;
  readOnly: boolean;
}
function mounts(s: Service): Mount[] {
  return (s.volumes ?? []).map((v) => {
    const [source, target, opts] = v.split(':');
    return { source, target, bind: source.startsWith('.') || source.startsWith('/'), readOnly: opts === 'ro' };
  });
}

/** The mount holding `path` inside a container, deepest first. */
function mountFor(s: Service, path: string): Mount | undefined {
  return mounts(s)
    .filter((m) => path === m.target || path.startsWith(`${m.target}/`))
    .sort((a, b) => b.target.length - a.target.length)[0];
}

test('the five components and the init step are there; profile citus adds a coordinator, two workers and their setup', () => {
  const inProfile = (p?: string) => services.filter(([, s]) => s.profiles?.[0] === p).map(([name]) => name);
  assert.deepEqual(inProfile(undefined).sort(), ['backend', 'collector', 'grafana', 'init', 'prometheus', 'timescaledb']);
  assert.match(compose.services.timescaledb.image ?? '', /^timescale\/timescaledb(-ha)?:[\w.]+-pg1[5-9]$/);
  assert.deepEqual(inProfile('citus').sort(), ['citus-coordinator', 'citus-setup', 'citus-worker-1', 'citus-worker-2']);
  for (const name of inProfile('citus')) assert.match(compose.services[name].image ?? '', /^citusdata\/citus:\d+\.\d+\.\d+$/);
  const sh = spawnSync('sh', ['-n', join(root, 'deploy/compose/citus-setup.sh')], { encoding: 'utf8' });
  assert.equal(sh.status, 0, sh.stderr);
});

test('every image is pinned: a tag that is not latest, or a digest', () => {
  const version = (JSON.parse(read('package.json')) as { version: string }).version;
  for (const [name, s] of services) {
    assert.ok(s.image, `${name} names its image`);
    const digest = /@sha256:[0-9a-f]{64}$/.test(s.image);
    const tag = /:([\w][\w.-]*)$/.exec(s.image.split('/').pop() ?? '')?.[1];
    assert.ok(digest || (tag && tag !== 'latest' && /\d/.test(tag)), `${name}: ${s.image} is not pinned`);
    if (s.build) assert.equal(s.image, `pganalytics:${version}`, `${name}: our image carries the package version`);
  }
  for (const line of read('deploy/Dockerfile')
    .split('\n')
    .filter((l) => /^FROM /i.test(l))) {
    assert.match(line, /^FROM [\w./-]+:[\w.-]*\d[\w.-]*( |$)|@sha256:/, `Dockerfile base image is pinned: ${line}`);
    assert.doesNotMatch(line, /:latest\b/);
  }
});

test('the backend is built from deploy/Dockerfile, runs as a non-root user and checks its health over HTTPS', () => {
  const dockerfile = read('deploy/Dockerfile').replace(/\\\n\s*/g, ' '); // join continued lines
  for (const name of ['backend', 'init', 'collector']) {
    const s = compose.services[name];
    assert.deepEqual(s.build, { context: '.', dockerfile: 'deploy/Dockerfile' }, name);
    assert.equal(s.read_only, true, `${name} has a read-only root filesystem`);
    assert.ok(s.user === undefined || !/^(root|0)(:|$)/.test(s.user), `${name} does not override the user to root`);
  }
  const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
  assert.ok(users.length > 0, 'Dockerfile sets USER');
  assert.doesNotMatch(users.at(-1)!, /^(root|0)(:|$)/, 'the last USER is not root');
  assert.match(dockerfile, /^HEALTHCHECK .*deploy\/healthcheck\.mjs/m);
  const probe = read('deploy/healthcheck.mjs');
  assert.match(probe, /node:https/);
  assert.match(probe, /\/api\/v1\/health/);
  assert.match(probe, /ca: readFileSync/);
  assert.match(compose.services.backend.healthcheck?.test.toString() ?? '', /deploy\/healthcheck\.mjs/);
  // Every COPY source exists in the build context.
  for (const m of dockerfile.matchAll(/^COPY\s+(?!--from)(.+)\s+\S+$/gm)) {
    for (const src of m[1].trim().split(/\s+/)) assert.ok(existsSync(join(root, src)), `Dockerfile COPY ${src} exists`);
  }
});

test('every long-running service has a health check and dependencies name real services and conditions', () => {
  for (const [name, s] of services) {
    if (s.restart === 'no') continue; // one-shot
    assert.ok(s.healthcheck?.test, `${name} has a healthcheck`);
    assert.ok(s.restart, `${name} restarts`);
  }
  for (const [name, s] of services) {
    for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
      assert.ok(compose.services[dep], `${name} depends on ${dep}, which exists`);
      assert.ok(['service_healthy', 'service_completed_successfully', 'service_started'].includes(condition));
      if (condition === 'service_healthy') assert.ok(compose.services[dep].healthcheck, `${dep} has the healthcheck ${name} waits for`);
    }
  }
});

test('every bind-mounted path and every referenced file exists; named volumes are declared', () => {
  for (const [name, s] of services) {
    for (const m of mounts(s)) {
      if (m.bind) assert.ok(existsSync(join(root, m.source)), `${name}: ${m.source} exists`);
      else assert.ok(m.source in compose.volumes, `${name}: volume ${m.source} is declared`);
      assert.ok(posix.isAbsolute(m.target), `${name}: mount target ${m.target} is absolute`);
    }
    // Files our image runs (WORKDIR is the repository root copied in).
    for (const arg of s.command ?? []) {
      if (/^[\w./-]+\.(ts|mjs|sh)$/.test(arg)) assert.ok(existsSync(join(root, arg)), `${name}: ${arg} exists`);
    }
  }
  const sh = spawnSync('sh', ['-n', join(root, 'deploy/compose/collector-entrypoint.sh')], { encoding: 'utf8' });
  assert.equal(sh.status, 0, sh.stderr);
});

test('no secret is written in the compose file: each comes from .env, which git ignores and the example documents', () => {
  const example = read('deploy/compose.env.example');
  const documented = new Set([...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
  const text = withoutComments(read('docker-compose.yml'));
  for (const m of text.matchAll(/\$\{([A-Z][A-Z0-9_]*)(:?[?-][^}]*)?\}/g)) {
    assert.ok(documented.has(m[1]), `${m[1]} is documented in deploy/compose.env.example`);
    assert.equal(m[2]?.startsWith(':?'), true, `${m[1]} fails loudly when unset`);
  }
  for (const [name, s] of services) {
    for (const [k, v] of Object.entries(s.environment ?? {})) {
      if (/PASSWORD|SECRET|TOKEN|_KEY$/.test(k)) assert.match(String(v), /^\$\{[A-Z0-9_]+:\?[^}]*\}$/, `${name}: ${k} is a reference`);
      // A URL carrying a password carries only a reference.
      const userinfo = /^\w+:\/\/[^/@:]*:([^@]*)@/.exec(String(v));
      if (userinfo) assert.match(userinfo[1], /^\$\{[A-Z0-9_]+(:\?[^}]*)?\}$/, `${name}: ${k} has no inline password`);
    }
    for (const f of s.env_file ?? []) assert.notEqual(f, 'deploy/compose.env.example', 'the example is not used as is');
  }
  assert.doesNotMatch(text, /password\s*[:=]\s*(?!\$\{)["']?\w/i, 'no literal password');
  const ignored = spawnSync('git', ['check-ignore', '-q', '.env'], { cwd: root });
  assert.equal(ignored.status, 0, '.env is ignored by git');
});

test('Grafana gets our provisioning at the paths its files expect, and every variable they read', () => {
  const g = compose.services.grafana;
  assert.match(g.image ?? '', /^grafana\/grafana(-oss)?:1[1-9]\.\d+\.\d+/);
  const provisioning = mountFor(g, '/etc/grafana/provisioning');
  assert.equal(provisioning?.source, './grafana/provisioning');
  const dir = join(root, 'grafana/provisioning');
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.ya?ml$/.test(f));
  assert.ok(files.length >= 2);
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    for (const m of withoutComments(text).matchAll(/\$\{?([A-Z][A-Z0-9_]*)\}?/g)) {
      assert.ok(g.environment && m[1] in g.environment, `grafana has ${m[1]} (read by ${f})`);
    }
    const doc = parse(text) as { providers?: { options?: { path?: string } }[] };
    for (const p of doc.providers ?? []) {
      const path = p.options?.path;
      if (!path) continue;
      const mount = mountFor(g, path);
      assert.ok(mount?.bind, `dashboard path ${path} is a bind mount`);
      const hostDir = join(root, mount.source, path.slice(mount.target.length));
      assert.ok(
        readdirSync(hostDir).some((x) => x.endsWith('.json')),
        `${hostDir} holds dashboards`,
      );
    }
  }
});

test('Prometheus scrapes the backend over HTTPS with the CA, and the collector on its self-metrics port', () => {
  const p = compose.services.prometheus;
  const configMount = mounts(p).find((m) => m.target === '/etc/prometheus/prometheus.yml');
  assert.equal(configMount?.source, './deploy/prometheus.yml');
  interface Job {
    job_name: string;
    scheme?: string;
    tls_config?: { ca_file?: string; server_name?: string };
    static_configs: { targets: string[] }[];
  }
  const prom = parse(read('deploy/prometheus.yml')) as { scrape_configs: Job[] };
  const job = (target: string): Job | undefined =>
    prom.scrape_configs.find((j) => j.static_configs.some((s) => s.targets.some((t) => t.startsWith(target))));

  const backend = job('backend:');
  assert.equal(backend?.scheme, 'https');
  const ca = backend?.tls_config?.ca_file ?? '';
  const caMount = mountFor(p, ca);
  assert.ok(caMount && !caMount.bind, `the CA ${ca} is on a volume`);
  // The init step publishes the CA to that same volume.
  const initMount = mounts(compose.services.init).find((m) => m.source === caMount.source);
  assert.ok(initMount, 'init writes the volume Prometheus reads the CA from');
  assert.match(read('deploy/compose/init.ts'), /'ca\.crt'/);
  const names = compose.services.backend.environment?.PGA_TLS_SERVER_NAMES?.split(',') ?? [];
  assert.ok(names.includes(backend?.tls_config?.server_name ?? ''), 'the server certificate lists the name Prometheus checks');

  const demo = parseLocalConfig(read('deploy/compose/collector.toml'), {});
  const port = demo.metrics.listen?.split(':').pop();
  assert.ok(port, 'the demo collector serves its metrics');
  assert.ok(job(`collector:${port}`), `Prometheus scrapes collector:${port}`);
});

test('the demo collector config is valid and every path it names is mounted into the collector', () => {
  const c = compose.services.collector;
  const configMount = mounts(c).find((m) => m.target === '/etc/pganalytics/collector.toml');
  assert.equal(configMount?.source, './deploy/compose/collector.toml');
  const demo = parseLocalConfig(read('deploy/compose/collector.toml'), {});
  assert.equal(new URL(demo.backend.url).hostname, 'backend');
  for (const path of [demo.collector.state_dir, demo.backend.ca_file!, ...demo.instances.map((i) => i.data_directory!)]) {
    assert.ok(mountFor(c, path), `${path} is mounted`);
  }
  assert.equal(mountFor(c, demo.collector.state_dir)?.readOnly, false, 'state is writable');
  for (const i of demo.instances) assert.doesNotMatch(i.url, /:\/\/[^/@]*:[^@]*@/, 'no password in the instance URL');
  assert.match(read('deploy/compose/collector-entrypoint.sh'), /PGPASSWORD=/);
});

// The zod schema is the truth; the example must show every key it accepts, set or commented.
function schemaKeys(schema: unknown, prefix = ''): string[] {
  interface Def {
    type: string;
    shape?: Record<string, unknown>;
    innerType?: unknown;
    element?: unknown;
  }
  const def = (schema as { def: Def }).def;
  if (def.type === 'default' || def.type === 'optional') return schemaKeys(def.innerType, prefix);
  if (def.type === 'array') return schemaKeys(def.element, prefix);
  if (def.type !== 'object' || !def.shape) return [prefix];
  return Object.entries(def.shape).flatMap(([k, v]) => schemaKeys(v, prefix ? `${prefix}.${k}` : k));
}

test('deploy/collector.toml is valid and documents every key the collector accepts', () => {
  const text = read('deploy/collector.toml');
  parseLocalConfig(text, {});
  const sections = new Map<string, string>();
  let section = '';
  for (const line of text.split('\n')) {
    const header = /^\s*\[\[?([\w.]+)\]\]?/.exec(line);
    if (header) {
      section = header[1];
      continue;
    }
    const key = /^\s*#?\s*([a-z_]+)\s*=/.exec(line);
    if (key) sections.set(`${section}.${key[1]}`, line);
  }
  for (const key of schemaKeys(localConfigSchema)) assert.ok(sections.has(key), `deploy/collector.toml documents ${key}`);
  for (const key of sections.keys()) assert.ok(schemaKeys(localConfigSchema).includes(key), `${key} is a real key`);
});
