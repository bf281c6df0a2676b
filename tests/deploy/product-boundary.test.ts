// What ships holds no lab: backend/, collector/, grafana/src, protocol/ and common/ import nothing
// from devkit/ (throwaway servers, the macro expander, workloads) or tests/, except from their
// own *.test.ts files. The collector tarball and the backend image carry only these folders.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');
const PRODUCT = ['backend', 'collector', 'grafana/src', 'protocol', 'common'];
const LAB = ['devkit', 'tests', 'bench', 'scripts'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

test('shipped code imports nothing from devkit/, tests/, bench/ or scripts/', { timeout: 30_000 }, () => {
  const bad: string[] = [];
  let files = 0;
  for (const top of PRODUCT) {
    for (const f of sources(join(ROOT, top))) {
      files++;
      for (const m of readFileSync(f, 'utf8').matchAll(/(?:\bfrom\s+|\bimport\s*\(?)\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
        const target = relative(ROOT, resolve(join(f, '..'), m[1]!));
        if (LAB.some((l) => target === l || target.startsWith(`${l}/`))) bad.push(`${relative(ROOT, f)} → ${target}`);
      }
    }
  }
  assert.ok(files > 100, `read only ${files} files`);
  assert.deepEqual(bad, []);
});
