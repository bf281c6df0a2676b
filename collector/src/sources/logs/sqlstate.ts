// SQLSTATEs for logs whose format does not carry one (stderr without %e, syslog): inferred
// from the primary message of the most common errors; and the names of SQLSTATE classes.

/** [message test, SQLSTATE]; the first match wins. */
const BY_MESSAGE: ReadonlyArray<readonly [RegExp, string]> = [
  [/^syntax error at or near/, '42601'],            // syntax_error
  [/^relation "[^"]*" does not exist/, '42P01'],     // undefined_table
  [/^column .* does not exist/, '42703'],            // undefined_column
  [/^function .* does not exist/, '42883'],          // undefined_function
  [/^operator does not exist/, '42883'],
  [/^permission denied/, '42501'],                   // insufficient_privilege
  [/^duplicate key value violates unique constraint/, '23505'], // unique_violation
  [/violates foreign key constraint/, '23503'],      // foreign_key_violation
  [/violates not-null constraint/, '23502'],         // not_null_violation
  [/violates check constraint/, '23514'],            // check_violation
  [/^division by zero/, '22012'],
  [/^invalid input syntax/, '22P02'],
  [/^value too long for type/, '22001'],
  [/^current transaction is aborted/, '25P02'],
  [/^could not serialize access/, '40001'],          // serialization_failure
  [/^deadlock detected/, '40P01'],
  [/^canceling statement due to (?:statement timeout|user request)/, '57014'], // query_canceled
  [/^canceling statement due to lock timeout/, '55P03'],
  [/^canceling statement due to conflict with recovery/, '40001'],
  [/^terminating connection due to administrator command/, '57P01'],
  [/^out of memory/, '53200'],
  [/^sorry, too many clients already/, '53300'],
  [/^remaining connection slots are reserved/, '53300'],
  [/^too many connections for /, '53300'],
  [/password authentication failed/, '28P01'],
  [/authentication failed/, '28000'],
  [/pg_hba\.conf/, '28000'],
  [/^role "[^"]*" does not exist/, '28000'],
  [/^database "[^"]*" does not exist/, '3D000'],
  [/^could not extend file/, '53100'],               // disk_full (usually)
  [/^database is not accepting commands/, '54000'],
  [/^invalid page in block/, 'XX001'],               // data_corrupted
];

export function inferSqlstate(message: string): string | null {
  for (const [re, code] of BY_MESSAGE) if (re.test(message)) return code;
  return null;
}

const CLASS_NAMES: Readonly<Record<string, string>> = {
  '00': 'successful_completion', '01': 'warning', '02': 'no_data', '03': 'sql_statement_not_yet_complete',
  '08': 'connection_exception', '09': 'triggered_action_exception', '0A': 'feature_not_supported',
  '0B': 'invalid_transaction_initiation', '0F': 'locator_exception', '0L': 'invalid_grantor', '0P': 'invalid_role_specification',
  '0Z': 'diagnostics_exception', '20': 'case_not_found', '21': 'cardinality_violation', '22': 'data_exception',
  '23': 'integrity_constraint_violation', '24': 'invalid_cursor_state', '25': 'invalid_transaction_state',
  '26': 'invalid_sql_statement_name', '27': 'triggered_data_change_violation', '28': 'invalid_authorization_specification',
  '2B': 'dependent_privilege_descriptors_still_exist', '2D': 'invalid_transaction_termination', '2F': 'sql_routine_exception',
  '34': 'invalid_cursor_name', '38': 'external_routine_exception', '39': 'external_routine_invocation_exception',
  '3B': 'savepoint_exception', '3D': 'invalid_catalog_name', '3F': 'invalid_schema_name', '40': 'transaction_rollback',
  '42': 'syntax_error_or_access_rule_violation', '44': 'with_check_option_violation', '53': 'insufficient_resources',
  '54': 'program_limit_exceeded', '55': 'object_not_in_prerequisite_state', '57': 'operator_intervention',
  '58': 'system_error', '72': 'snapshot_too_old', 'F0': 'config_file_error', 'HV': 'fdw_error', 'P0': 'plpgsql_error', 'XX': 'internal_error',
};

export function sqlstateClassName(sqlstate: string): string {
  return CLASS_NAMES[sqlstate.slice(0, 2)] ?? 'unknown';
}
