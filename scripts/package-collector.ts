// `npm run package:collector`: one self-contained tarball for database servers,
//   dist/pganalytics-collector-<version>.tar.gz
// holding the collector bundled into ES modules (collector.mjs and the chunks in lib/ it loads:
// its code, protocol/, common/ and the npm packages it uses; only Node ≥ 20 is needed on the
// host), the systemd unit, the example config and install.sh. Options: --out DIR (default dist/).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { COLLECTOR_VERSION } from '../collector/src/agent.ts';

const root = resolve(import.meta.dirname, '..');

/** The chunks beside collector.mjs, content-hashed. */
export const CHUNK_DIR = 'lib';

/**
 * The collector as the ES module `outfile` (bench:collector runs this same file) and the chunks
 * it imports, in lib/ beside it. Each command loads only its own chunks: in one module, V8
 * compiled the whole 1.26 MB (zod, node-forge, pg, winston, …) and Node loaded every built-in
 * any of it imports before `parse-log` read a byte, 0.13 s of CPU and 18 MiB of RSS that a
 * bundle of the parser alone did without (on a 200 KB log, bench:logs' machine under load).
 */
export async function buildCollectorBundle(outfile: string): Promise<void> {
  const outdir = dirname(outfile);
  rmSync(join(outdir, CHUNK_DIR), { recursive: true, force: true });
  await build({
    entryPoints: { [basename(outfile, '.mjs')]: join(root, 'collector/src/main.ts') },
    outdir,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: `${CHUNK_DIR}/[name]-[hash]`,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // pg's optional native binding is never used; the rest is pure JavaScript.
    external: ['pg-native'],
    // CommonJS packages in the bundle (winston, pg, …) call require() for Node built-ins; the
    // banner heads every chunk.
    banner: {
      js: "import { createRequire as __pgaCreateRequire } from 'node:module';\nconst require = __pgaCreateRequire(import.meta.url);",
    },
    // Minified, the source V8 parses and keeps is half the size (1.7 MB instead of 3.5 MB) and
    // has no comments outside Latin-1 (one such comment made V8 hold the whole source as UTF-16).
    minify: true,
    legalComments: 'eof',
    logLevel: 'warning',
  });
}

export async function packageCollector(outDir = join(root, 'dist')): Promise<string> {
  const name = `pganalytics-collector-${COLLECTOR_VERSION}`;
  const stage = join(outDir, name);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });

  await buildCollectorBundle(join(stage, 'collector.mjs'));
  copyFileSync(join(root, 'deploy/pganalytics-collector.service'), join(stage, 'pganalytics-collector.service'));
  copyFileSync(join(root, 'deploy/collector.toml'), join(stage, 'collector.toml.example'));
  copyFileSync(join(root, 'deploy/install-collector.sh'), join(stage, 'install.sh'));
  chmodSync(join(stage, 'install.sh'), 0o755);
  writeFileSync(join(stage, 'VERSION'), `${COLLECTOR_VERSION}\n`);
  writeFileSync(
    join(stage, 'README'),
    `pgAnalytics collector ${COLLECTOR_VERSION}

Requires Node.js 20 or newer (node on PATH); everything else is in collector.mjs and lib/.

  sudo ./install.sh          # user pganalytics, /opt/pganalytics-collector, /etc/pganalytics,
                             # /var/lib/pganalytics, the systemd unit
  node collector.mjs once --config collector.toml.example   # try it without installing

See DEPLOYMENT.md in the pgAnalytics repository for registration and operation.
`,
  );

  const tarball = join(outDir, `${name}.tar.gz`);
  // Owner and group are zeroed so the archive does not carry the build machine's accounts.
  const tar = spawnSync('tar', ['-czf', tarball, '--owner=0', '--group=0', '-C', outDir, name], { encoding: 'utf8' });
  if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`);
  rmSync(stage, { recursive: true, force: true });
  return tarball;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  packageCollector(values.out ? resolve(values.out) : undefined).then(
    (t) => console.log(t),
    (err: Error) => {
      console.error(`package-collector: ${err.message}`);
      process.exit(1);
    },
  );
}
