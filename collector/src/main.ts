// pgAnalytics collector CLI.
//   collector register --token TOKEN [--config PATH]   enrol with the backend (key and CSR made here)
//   collector run [--config PATH]                      collect, spool and push until stopped
//   collector once [--config PATH] [--json] [--wait S] collect one cycle and print it; sends nothing;
//                                                      exits 1 when an instance is down
//   collector parse-log [--format F] [--prefix P] FILE…  parse PostgreSQL logs, one JSON record per line
//   collector status [--config PATH]                   registration, last push, spool depth, config version
//
// Each command loads only the modules it uses (the daemon's memory is what a DBA sees in top):
// `once` and `status` never load the HTTP client; node-forge loads only when a key is made;
// `parse-log` loads neither the config (zod, TOML) nor anything of the daemon (the packaged
// bundle is split into chunks along these imports).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { LocalConfig } from './config.ts';
import { errorMessage } from '../../common/errors.ts';

const USAGE = 'usage: collector <register|run|once|parse-log|status> [--config PATH] …';

export async function main(argv: string[]): Promise<number> {
  const command = argv[0];
  const rest = argv.slice(1);
  if (command === 'parse-log') {
    const { parseLogCommand } = await import('./commands/parse-log.ts');
    return parseLogCommand(rest);
  }
  const { DEFAULT_CONFIG_PATH, loadLocalConfig } = await import('./config.ts');
  const { isRegistered } = await import('./credentials.ts');
  const { values } = parseArgs({
    args: rest,
    allowPositionals: false,
    options: {
      config: { type: 'string', default: process.env.PGA_COLLECTOR_CONFIG ?? DEFAULT_CONFIG_PATH },
      token: { type: 'string' },
      json: { type: 'boolean', default: false },
      wait: { type: 'string', default: '1' },
    },
  });
  const local: LocalConfig = loadLocalConfig(values.config);
  switch (command) {
    case 'register': {
      const token = values.token ?? process.env.PGA_ENROLMENT_TOKEN;
      if (!token) {
        console.error('collector register needs --token (or PGA_ENROLMENT_TOKEN)');
        return 2;
      }
      if (!local.backend.ca_file) {
        console.error('collector register needs [backend] ca_file: the backend CA certificate to trust');
        return 2;
      }
      if (isRegistered(local.collector.state_dir)) {
        console.error(`already registered (credentials in ${local.collector.state_dir})`);
        return 1;
      }
      const { register } = await import('./sender/backend-client.ts');
      const { COLLECTOR_VERSION } = await import('./agent.ts');
      const creds = await register({
        backendUrl: local.backend.url,
        caPem: readFileSync(local.backend.ca_file, 'utf8'),
        enrolmentToken: token,
        hostname: local.collector.hostname,
        stateDir: local.collector.state_dir,
        collectorVersion: COLLECTOR_VERSION,
      });
      console.log(`registered as collector ${creds.collectorId}; credentials in ${local.collector.state_dir}`);
      return 0;
    }
    case 'run': {
      const { Runner } = await import('./runner.ts');
      const { createLogger } = await import('../../common/log.ts');
      const log = createLogger('collector');
      const runner = new Runner(local, log);
      await runner.start();
      log.info('collector running', { collector_id: runner.status.collector_id, instances: local.instances.map((i) => i.name) });
      const stop = async (): Promise<void> => {
        log.info('stopping: finishing the current cycle');
        await runner.stop();
        process.exit(0);
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      process.on('SIGHUP', () => {
        log.info('SIGHUP: reloading');
        try {
          void runner.reload(loadLocalConfig(values.config));
        } catch (err) {
          log.error('reload refused: local config is not valid; keeping the running one', { error: errorMessage(err) });
        }
      });
      return -1;
    }
    case 'once': {
      // Two samples a moment apart, so counters show deltas and rates.
      const { Agent, cycleRows } = await import('./agent.ts');
      const { formatCycle } = await import('./commands/format-cycle.ts');
      const agent = new Agent(local, '00000000-0000-0000-0000-000000000000');
      const first = await agent.collect(new Date());
      agent.schedule.allDue();
      for (const p of agent.postgres) p.state.forgetSent();
      await new Promise((r) => setTimeout(r, Number(values.wait) * 1000));
      const cycle = await agent.collect(new Date());
      await agent.close();
      // Problems reported once (a log that cannot be found) were reported by the first cycle.
      const seen = new Set(cycle.errors.map((e) => e.error));
      cycle.errors.unshift(...first.errors.filter((e) => !seen.has(e.error)));
      // Written and flushed before main returns: process.exit would cut a pipe's output short.
      // --json: the batch with its families as rows, a form easier to read than the wire's columns.
      const { protocol_version: _v, ...envelope } = cycle.batch;
      const text = values.json ? JSON.stringify({ ...envelope, families: cycleRows(cycle) }, null, 2) : formatCycle(cycle);
      await new Promise((resolve) => process.stdout.write(`${text}\n`, resolve));
      // A check: non-zero when an instance cannot be reached.
      return cycle.batch.instances.every((i) => i.up) ? 0 : 1;
    }
    case 'status': {
      const dir = local.collector.state_dir;
      const statusFile = join(dir, 'status.json');
      const status = {
        registered: isRegistered(dir),
        state_dir: dir,
        backend: local.backend.url,
        ...(existsSync(statusFile) ? JSON.parse(readFileSync(statusFile, 'utf8')) : { note: 'no run has written a status yet' }),
      };
      console.log(JSON.stringify(status, null, 2));
      return status.registered ? 0 : 1;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code >= 0) process.exit(code);
    },
    (err: Error) => {
      console.error(`collector: ${err.message}`);
      process.exit(1);
    },
  );
}
