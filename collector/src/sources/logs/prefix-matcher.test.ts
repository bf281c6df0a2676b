import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePrefix, emptyPrefixFields } from './prefix-matcher.ts';
import { StderrParser } from './stderr-parser.ts';

const label = (s: string, end: number): boolean => /^[A-Z]+: {2}/.test(s.slice(end));

test('every escape, with padding', () => {
  const m = compilePrefix('%m|%n|%t|%s|%p|%P|%l|%c|%v|%x|%e|%Q|%-10u|%10d|%a|%r|%h|%b|%i|%%|');
  const line =
    '2024-05-01 10:00:00.123 CEST|1714550400.123|2024-05-01 10:00:00 CEST|2024-05-01 09:59:00 CEST|4242|4240|7|6631f1e0.1092|3/17|812|42P01|-123|bob       |     appdb|my app|10.0.0.1(5432)|10.0.0.1|client backend|SELECT|%|ERROR:  boom';
  const f = emptyPrefixFields();
  const end = m.match(line, f, label);
  assert.equal(line.slice(end), 'ERROR:  boom');
  assert.equal(f.time, '2024-05-01 10:00:00 CEST'); // the last time escape that sets the time wins
  assert.deepEqual(
    [f.pid, f.leaderPid, f.lineNum, f.sessionId, f.vxid, f.txid, f.sqlstate, f.queryId],
    [4242, 4240, 7, '6631f1e0.1092', '3/17', '812', '42P01', '-123'],
  );
  assert.deepEqual(
    [f.user, f.database, f.application, f.client, f.backendType, f.commandTag],
    ['bob', 'appdb', 'my app', '10.0.0.1', 'client backend', 'SELECT'],
  );
});

test('%q ends the prefix for background processes', () => {
  const p = new StderrParser({ prefix: '%m [%p] %q%u@%d ' });
  p.line('2024-05-01 10:00:00.123 UTC [10] LOG:  checkpoint starting: time', 0);
  p.line('2024-05-01 10:00:01.000 UTC [11] alice@shop ERROR:  division by zero', 70);
  p.line('2024-05-01 10:00:01.000 UTC [11] alice@shop STATEMENT:  select 1/0', 140);
  p.flush();
  const [a, b] = p.take();
  assert.equal(a.user, null);
  assert.equal(a.message, 'checkpoint starting: time');
  assert.equal(b.user, 'alice');
  assert.equal(b.database, 'shop');
  assert.equal(b.statement, 'select 1/0');
  assert.equal(p.parseErrors, 0);
});

test('a line with the wrong prefix is a parse error, not a record', () => {
  const p = new StderrParser({ prefix: '%m [%p] ' });
  p.line('2017-09-06 08:40:10 UTC [20]: [1-1] user=,db= LOG:  hello', 0);
  p.line('\u0000\u0001binary\uFFFD', 10);
  p.flush();
  assert.equal(p.take().length, 0);
  assert.equal(p.parseErrors, 2);
});

test('held record: a record stays held until the next one starts; heldFrom is its offset', () => {
  const p = new StderrParser({ prefix: '%m [%p] ' });
  p.line('2024-05-01 10:00:00.000 UTC [1] LOG:  duration: 1.000 ms  statement: select', 100);
  p.line('\t1', 160);
  assert.equal(p.take().length, 0);
  assert.equal(p.heldFrom(), 100);
  p.line('2024-05-01 10:00:00.000 UTC [1] LOG:  next', 163);
  const [r] = p.take();
  assert.equal(r.message, 'duration: 1.000 ms  statement: select\n1');
  assert.equal(p.heldFrom(), 163);
});
