// Records as PostgreSQL writes them (lc_messages=C) and what they must be classified as.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classify } from './classify.ts';
import { emptyRecord } from './log-record.ts';
import type { Severity } from './event-kinds.ts';

const kindOf = (severity: Severity, message: string) => classify(emptyRecord(severity, message)).kind;

test('only real wraparound warnings are wraparound_warning', () => {
  assert.equal(kindOf('LOG', 'MultiXact member wraparound protections are now enabled'), 'other');
  assert.equal(kindOf('LOG', 'MultiXact member wraparound protections are disabled because oldest checkpointed MultiXact 1 does not exist on disk'), 'other');
  assert.equal(kindOf('WARNING', 'database "app" must be vacuumed within 9999999 transactions'), 'wraparound_warning');
  assert.equal(kindOf('WARNING', 'database with OID 16384 must be vacuumed before 1000 more MultiXactIds are used'), 'wraparound_warning');
  const refused = classify(emptyRecord('ERROR', 'database is not accepting commands to avoid wraparound data loss in database "app"'));
  assert.equal(refused.kind, 'wraparound_warning');
  assert.equal(refused.details.target_database, 'app');
  assert.equal(refused.details.refusing, true);
  assert.equal(kindOf('ERROR', 'database is not accepting commands that assign new transaction IDs to avoid wraparound data loss in database "app"'), 'wraparound_warning');
});
