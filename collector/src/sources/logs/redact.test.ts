import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactLiterals, redactPasswords } from './redact.ts';
import { StderrParser } from './stderr-parser.ts';
import { toPgLogRow } from './to-row.ts';

test('literals become ?, identifiers and parameters stay', () => {
  assert.equal(
    redactLiterals(
      `SELECT "t1"."c2", t0_r1 FROM t WHERE a = 'x''y' AND b IN (1, 2.5e3, -3) AND c = E'\\'q' AND d = $1 AND e = $$dollar$$ AND f = $tag$x$tag$`,
    ),
    `SELECT "t1"."c2", t0_r1 FROM t WHERE a = ? AND b IN (?, ?, -?) AND c = ? AND d = $1 AND e = ? AND f = ?`,
  );
  assert.equal(redactLiterals("select X'1F', B'101', U&'d\\0061t'"), 'select ?, ?, ?');
});

test('passwords are redacted in every shape, also unterminated', () => {
  assert.equal(redactPasswords("ALTER ROLE bob PASSWORD 'hunter2'"), "ALTER ROLE bob PASSWORD '********'");
  assert.equal(
    redactPasswords("create user x with encrypted password 'a''b' valid until 'infinity'"),
    "create user x with encrypted password '********' valid until 'infinity'",
  );
  assert.equal(redactPasswords('ALTER USER bob PASSWORD $p$sec$p$'), "ALTER USER bob PASSWORD '********'");
  assert.equal(redactPasswords("ALTER ROLE bob PASSWORD 'cut-off"), "ALTER ROLE bob PASSWORD '********'");
  assert.equal(
    redactPasswords("select dblink_connect('host=h password=s3cret user=u')"),
    "select dblink_connect('host=h password='********' user=u')",
  );
  assert.equal(redactPasswords('ALTER ROLE bob PASSWORD NULL'), 'ALTER ROLE bob PASSWORD NULL');
});

test('a password never reaches a row, even with literal redaction off', () => {
  for (const literals of [false, true]) {
    const q = new StderrParser({ prefix: '%m [%p] ' });
    q.line("2024-05-01 10:00:00.000 UTC [1] LOG:  statement: ALTER ROLE app PASSWORD 'topsecret';", 0);
    q.line('2024-05-01 10:00:00.000 UTC [1] ERROR:  role "nobody" does not exist', 1);
    q.line("2024-05-01 10:00:00.000 UTC [1] STATEMENT:  CREATE ROLE nobody LOGIN PASSWORD 'alsosecret' IN ROLE x", 2);
    q.flush();
    const text = JSON.stringify(q.take().map((r) => toPgLogRow(r, { instance: 'i', redactLiterals: literals })));
    assert.ok(!text.includes('topsecret') && !text.includes('alsosecret'), text);
    assert.ok(text.includes(literals ? 'PASSWORD ?' : "PASSWORD '********'"), text);
  }
});

test('password masking masks the literal, never the word in a standard message', () => {
  for (const msg of [
    'password authentication failed for user "postgres"',
    'User "bob" has no password assigned.',
    'password = $1',
    'SELECT 1 FROM users WHERE password = crypt($1, password)',
    'ALTER ROLE bob PASSWORD NULL',
  ]) {
    assert.equal(redactPasswords(msg), msg);
  }
  assert.equal(redactPasswords('host=h password = s3cret port=5432'), "host=h password = '********' port=5432");
});
