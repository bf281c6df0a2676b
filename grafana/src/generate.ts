// Writes every dashboard to grafana/dashboards/<uid>.json and the alert rules to
// grafana/provisioning/alerting/pganalytics.yaml (npm run grafana:generate). Both are committed:
// Grafana's file providers read them, and a test fails when they are out of date.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DASHBOARDS } from './dashboards/index.ts';
import { renderAlertYaml } from './alerts/provisioning.ts';

export const DASHBOARDS_DIR = join(import.meta.dirname, '..', 'dashboards');
export const ALERTS_FILE = join(import.meta.dirname, '..', 'provisioning', 'alerting', 'pganalytics.yaml');

/** File name → content, computed in memory (the up-to-date test compares these with the files). */
export function renderDashboards(): Map<string, string> {
  const files = new Map<string, string>();
  for (const make of DASHBOARDS) {
    const d = make();
    if (!d.uid) throw new Error(`dashboard "${d.title}" has no uid`);
    if (files.has(`${d.uid}.json`)) throw new Error(`duplicate dashboard uid ${d.uid}`);
    files.set(`${d.uid}.json`, `${JSON.stringify(d, null, 2)}\n`);
  }
  return files;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  mkdirSync(DASHBOARDS_DIR, { recursive: true });
  for (const [name, content] of renderDashboards()) {
    writeFileSync(join(DASHBOARDS_DIR, name), content);
    console.log(`wrote grafana/dashboards/${name}`);
  }
  mkdirSync(dirname(ALERTS_FILE), { recursive: true });
  writeFileSync(ALERTS_FILE, renderAlertYaml());
  console.log('wrote grafana/provisioning/alerting/pganalytics.yaml');
}
