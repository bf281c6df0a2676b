// Kubernetes manifests for the backend, linted as data: required fields, at least two replicas,
// HTTPS probes, resources, a non-root read-only container, pinned image, every Secret reference
// resolving to a Secret (and key) in the manifests, and PGA_TLS_* / the JWT key directory
// pointing at where those Secrets are mounted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

const dir = join(import.meta.dirname, '..', '..', 'deploy', 'k8s');

interface Meta {
  name: string;
  labels?: Record<string, string>;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Probe {
  httpGet?: { path: string; port: string | number; scheme?: string };
}
interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { secretRef?: { name: string } }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface Volume {
  name: string;
  secret?: { secretName: string; defaultMode?: number; items?: { key: string }[] };
  emptyDir?: object;
}
interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
  volumes?: Volume[];
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: Meta;
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> } | Record<string, string>;
    template?: { metadata: Meta; spec: PodSpec };
    ports?: { port: number; targetPort: string | number }[];
  };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
const manifests: Manifest[] = files.flatMap((f) =>
  parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => {
    assert.equal(d.errors.length, 0, `${f}: ${d.errors.join('; ')}`);
    return d.toJS() as Manifest;
  }),
);
const byKind = (kind: string): Manifest[] => manifests.filter((m) => m.kind === kind);
const secrets = new Map(byKind('Secret').map((s) => [s.metadata.name, new Set(Object.keys({ ...s.data, ...s.stringData }))]));
const deployment = byKind('Deployment').find((d) => d.metadata.name === 'pganalytics-backend')!;
const pod = deployment.spec!.template!;
const backend = pod.spec.containers[0];

test('every manifest has apiVersion, kind and a name; kustomization lists exactly the files here', () => {
  for (const m of manifests) {
    assert.ok(m.apiVersion && m.kind && m.metadata?.name, JSON.stringify(m).slice(0, 80));
  }
  const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
  for (const r of k.resources) assert.ok(existsSync(join(dir, r)), `${r} exists`);
  assert.deepEqual([...k.resources].sort(), [...files].sort());
});

test('the backend Deployment: 2+ replicas, selector matching its pods, pinned image, resources', () => {
  assert.ok(deployment, 'Deployment pganalytics-backend exists');
  assert.ok((deployment.spec!.replicas ?? 1) >= 2, 'at least two replicas');
  const selector = (deployment.spec!.selector as { matchLabels: Record<string, string> }).matchLabels;
  for (const [k, v] of Object.entries(selector)) assert.equal(pod.metadata.labels?.[k], v, `pod label ${k}`);
  for (const c of pod.spec.containers) {
    const tag = /:([\w][\w.-]*)$/.exec(c.image.split('/').pop() ?? '')?.[1];
    assert.ok(/@sha256:[0-9a-f]{64}$/.test(c.image) || (tag && tag !== 'latest'), `${c.name}: ${c.image} is pinned`);
    for (const kind of ['requests', 'limits'] as const) {
      assert.ok(c.resources?.[kind]?.cpu && c.resources[kind].memory, `${c.name}: ${kind} for cpu and memory`);
    }
  }
});

test('readiness and liveness probes are HTTPS and reach a declared container port', () => {
  for (const probe of [backend.readinessProbe, backend.livenessProbe]) {
    assert.equal(probe?.httpGet?.scheme, 'HTTPS');
    const port = probe.httpGet.port;
    assert.ok(
      backend.ports?.some((p) => p.name === port || p.containerPort === port),
      `probe port ${port} is declared`,
    );
  }
  assert.equal(backend.readinessProbe?.httpGet?.path, '/api/v1/health');
});

test('non-root, no privilege escalation, read-only root filesystem, all capabilities dropped', () => {
  const sc = backend.securityContext;
  assert.equal(sc?.readOnlyRootFilesystem, true);
  assert.equal(sc?.allowPrivilegeEscalation, false);
  assert.ok(sc?.runAsNonRoot ?? pod.spec.securityContext?.runAsNonRoot, 'runAsNonRoot');
  assert.notEqual(sc?.runAsUser ?? pod.spec.securityContext?.runAsUser, 0);
  assert.deepEqual(sc?.capabilities?.drop, ['ALL']);
  // A read-only root needs somewhere to write: tsx's cache in /tmp.
  const tmp = backend.volumeMounts?.find((m) => m.mountPath === '/tmp');
  assert.ok(pod.spec.volumes?.find((v) => v.name === tmp?.name)?.emptyDir, '/tmp is an emptyDir');
});

test('every Secret reference resolves to a Secret and key in the manifests', () => {
  let refs = 0;
  for (const c of pod.spec.containers) {
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (!ref) continue;
      refs++;
      assert.ok(secrets.get(ref.name)?.has(ref.key), `${e.name}: Secret ${ref.name} has key ${ref.key}`);
    }
    for (const e of c.envFrom ?? []) if (e.secretRef) assert.ok(secrets.has(e.secretRef.name), `envFrom Secret ${e.secretRef.name}`);
    for (const m of c.volumeMounts ?? []) {
      assert.ok(
        pod.spec.volumes?.some((v) => v.name === m.name),
        `volume ${m.name} is declared`,
      );
    }
  }
  for (const v of pod.spec.volumes ?? []) {
    if (!v.secret) continue;
    refs++;
    assert.ok(secrets.has(v.secret.secretName), `volume ${v.name}: Secret ${v.secret.secretName} exists`);
    for (const i of v.secret.items ?? []) assert.ok(secrets.get(v.secret.secretName)?.has(i.key));
    // Keys are private: owner and group only.
    assert.equal((v.secret.defaultMode ?? 0o644) & 0o007, 0, `${v.name}: not world-readable`);
  }
  assert.ok(refs >= 3, 'database URL, TLS and JWT keys come from Secrets');
});

/** The Secret file a path inside the container resolves to, through the volume mounted there. */
function secretFileAt(path: string): { secret: string; key: string } | undefined {
  for (const m of backend.volumeMounts ?? []) {
    if (posix.dirname(path) !== m.mountPath) continue;
    const v = pod.spec.volumes?.find((x) => x.name === m.name);
    if (v?.secret) return { secret: v.secret.secretName, key: posix.basename(path) };
  }
  return undefined;
}

test('PGA_TLS_* point at files of the TLS Secret and the JWT key directory is the JWT Secret', () => {
  const env = new Map((backend.env ?? []).map((e) => [e.name, e.value]));
  for (const name of ['PGA_TLS_CA_CERT', 'PGA_TLS_CA_KEY', 'PGA_TLS_SERVER_CERT', 'PGA_TLS_SERVER_KEY']) {
    const path = env.get(name);
    assert.ok(path, `${name} is set`);
    const file = secretFileAt(path);
    assert.ok(file && secrets.get(file.secret)?.has(file.key), `${name}=${path} is a key of a mounted Secret`);
  }
  const dataDir = env.get('PGA_DATA_DIR');
  assert.ok(dataDir, 'PGA_DATA_DIR is set');
  // backend/src/auth/jwt-keys.ts reads <data dir>/jwt/*.key.
  const jwtMount = backend.volumeMounts?.find((m) => m.mountPath === posix.join(dataDir, 'jwt'));
  const jwtVolume = pod.spec.volumes?.find((v) => v.name === jwtMount?.name);
  assert.ok(jwtVolume?.secret, `${dataDir}/jwt is a Secret volume`);
  assert.ok(
    [...secrets.get(jwtVolume.secret.secretName)!].some((k) => k.endsWith('.key')),
    'the JWT Secret holds *.key files',
  );
  assert.equal(jwtMount?.readOnly, true);
});

test('the Service selects the backend pods and targets the HTTPS port; the PDB selects them too', () => {
  const svc = byKind('Service').find((s) => s.metadata.name === 'pganalytics-backend')!;
  for (const [k, v] of Object.entries(svc.spec!.selector as Record<string, string>)) assert.equal(pod.metadata.labels?.[k], v);
  for (const p of svc.spec!.ports!) {
    assert.ok(
      backend.ports?.some((cp) => cp.name === p.targetPort || cp.containerPort === p.targetPort),
      `targetPort ${p.targetPort}`,
    );
  }
  const pdb = byKind('PodDisruptionBudget')[0];
  for (const [k, v] of Object.entries((pdb.spec!.selector as { matchLabels: Record<string, string> }).matchLabels)) {
    assert.equal(pod.metadata.labels?.[k], v);
  }
});
