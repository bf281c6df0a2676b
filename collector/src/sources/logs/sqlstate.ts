// SQLSTATEs for logs whose format does not carry one (stderr without %e, syslog): inferred
// from the primary message of the most common errors; and the names of SQLSTATE classes.

/**
 * [message test, SQLSTATE], from the errmsg/errcode pairs of PostgreSQL's sources (13–18) for
 * the errors a DBA meets most; the first match wins, so the narrower wordings come first.
 * tests/logs/sqlstate-inference.test.ts proves each against a real server's csvlog.
 */
const BY_MESSAGE: ReadonlyArray<readonly [RegExp, string]> = [
  // 42601 syntax_error
  [/^syntax error at (?:or near|end of input)/, '42601'],
  [
    /^unterminated (?:quoted string|quoted identifier|dollar-quoted string|\/\* comment|bit string literal|hexadecimal string literal)/,
    '42601',
  ],
  [
    /^(?:INSERT has more (?:expressions than target columns|target columns than expressions)|subquery has too (?:many|few) columns|subquery in FROM must have an alias|zero-length delimited identifier)/,
    '42601',
  ],
  [/^(?:too many column aliases specified for function|each UNION query must have the same number of columns)/, '42601'],
  // 42P01/42703/42883/42704 undefined objects
  [/^(?:relation|table|view|materialized view|index|sequence|foreign table) "[^"]*" does not exist/, '42P01'],
  [/^missing FROM-clause entry for table/, '42P01'],
  [/^column .* does not exist/, '42703'],
  [/^(?:function|procedure|aggregate|routine) .* does not exist/, '42883'],
  [/^operator does not exist/, '42883'],
  [/^could not identify an (?:equality|ordering) operator/, '42883'],
  [
    /^(?:role|type|collation|constraint|trigger|rule|policy|extension|text search \w+|conversion|cast from .*|access method|operator class|operator family|event trigger|publication|subscription|server|user mapping for .*|foreign-data wrapper|large object \d+|statistics object|window|tablespace|language|transform for .*|prepared transaction with identifier) .*(?:does not exist|not found)/,
    '42704',
  ],
  [/^unrecognized configuration parameter/, '42704'],
  [/^schema "[^"]*" does not exist/, '3F000'], // invalid_schema_name
  [/^no schema has been selected to create in/, '3F000'],
  [/^database "[^"]*" does not exist/, '3D000'], // invalid_catalog_name
  [/^prepared statement "[^"]*" does not exist/, '26000'],
  [/^cursor "[^"]*" does not exist/, '34000'],
  [/^savepoint "[^"]*" does not exist/, '3B001'], // s_e_invalid_specification
  [/^(?:ROLLBACK TO SAVEPOINT|RELEASE SAVEPOINT|no such savepoint)/, '3B001'],
  // 42P07/42710/42723/42701/42P04/42P06/42P05/42712 duplicate objects
  [/^relation "[^"]*" already exists/, '42P07'],
  [/^(?:function|procedure|aggregate) .* already exists with same argument types/, '42723'],
  [/^column "[^"]*"(?: of relation "[^"]*")? already exists|^column "[^"]*" specified more than once/, '42701'],
  [/^database "[^"]*" already exists/, '42P04'],
  [/^schema "[^"]*" already exists/, '42P06'],
  [/^prepared statement "[^"]*" already exists/, '42P05'],
  [/^cursor "[^"]*" already exists/, '42P03'],
  [/^table name "[^"]*" specified more than once/, '42712'],
  [
    /^(?:role|type|constraint|trigger|rule|policy|extension|collation|publication|subscription|server|event trigger|tablespace|language|operator|cast from .*|user mapping for .*|foreign-data wrapper|text search \w+|statistics object|access method|operator class|operator family|conversion) .*already exists/,
    '42710',
  ],
  // 42809 wrong_object_type
  [
    /^"[^"]*" is not a (?:table|view|sequence|composite type|materialized view|index|foreign table|partitioned table|table or view|table, view|type|domain|function)/,
    '42809',
  ],
  [
    /^(?:window function .* requires an OVER clause|op ANY\/ALL \(array\) requires array on right side|cannot (?:change|alter) .* because it is a)/,
    '42809',
  ],
  [/^.* is (?:not a procedure|a procedure|an aggregate function)/, '42809'],
  [/^cannot open relation "[^"]*"/, '42809'], // PG 18: nextval() on a table
  // 42501 insufficient_privilege
  [/^permission denied/, '42501'],
  [/^must be (?:owner|superuser|a superuser|a member|able to SET ROLE)/, '42501'],
  [/^new row violates row-level security policy/, '42501'],
  [
    /^(?:only superuser|must have (?:CREATEROLE|CREATEDB|admin option|privileges)|query would be affected by row-level security policy)/,
    '42501',
  ],
  // 42803 grouping_error, 42702 ambiguous, 42804 datatype_mismatch, 42P10 invalid_column_reference, 42846 cannot_coerce, 42P18/42P08 indeterminate
  [
    /must appear in the GROUP BY clause or be used in an aggregate function|^aggregate function calls cannot (?:be nested|contain)|^aggregate functions are not allowed in|^window functions are not allowed in/,
    '42803',
  ],
  [/^column reference "[^"]*" is ambiguous|^(?:function|operator) .* is not unique|^table reference "[^"]*" is ambiguous/, '42702'],
  [
    /^(?:UNION|INTERSECT|EXCEPT|CASE|COALESCE|ARRAY|VALUES|IN) types .* cannot be matched|^column "[^"]*" is of type .* but expression is of type|^column "[^"]*" cannot be cast automatically to type|^argument of (?:WHERE|HAVING|AND|OR|NOT|JOIN\/ON|CHECK|LIMIT|OFFSET) must be type|^foreign key constraint "[^"]*" cannot be implemented|^subquery has too many columns/,
    '42804',
  ],
  [
    /^(?:ORDER BY|GROUP BY) position \d+ is not in select list|^there is no unique or exclusion constraint matching the ON CONFLICT specification|^for SELECT DISTINCT, ORDER BY expressions must appear in select list/,
    '42P10',
  ],
  [/^there is no unique constraint matching given keys for referenced table/, '42830'],
  [/^cannot cast type .* to /, '42846'],
  [/^could not determine data type of parameter/, '42P18'],
  [/^invalid reference to FROM-clause entry for table/, '42P01'],
  // 2BP01 dependent_objects_still_exist, 0A000 feature_not_supported
  [/^cannot drop .* because other objects depend on it/, '2BP01'],
  [
    /^cannot truncate a table referenced in a foreign key constraint|^cannot convert (?:NaN|infinity) to|^unsupported frontend protocol|^cannot use subquery in|^FOR UPDATE is not allowed with|^.* is not supported/,
    '0A000',
  ],
  // 23xxx integrity_constraint_violation
  [/^duplicate key value violates unique constraint/, '23505'],
  [/violates foreign key constraint/, '23503'],
  [/violates not-null constraint/, '23502'],
  [/violates check constraint/, '23514'],
  [/^conflicting key value violates exclusion constraint/, '23P01'],
  [/^new row violates check option for view/, '44000'], // with_check_option_violation
  [/^could not create unique index/, '23505'],
  // 22xxx data_exception
  [/^division by zero/, '22012'],
  [/^invalid input syntax for type (?:date|time|timestamp|interval)/, '22007'], // invalid_datetime_format
  [/^invalid hexadecimal (?:digit|data)/, '22023'], // bytea and encode(): invalid_parameter_value
  [
    /^invalid input syntax|^malformed (?:array|record|range|multirange) literal|^invalid (?:input|byte) .* for type|^".*" is not a valid (?:binary|hexadecimal) digit/,
    '22P02',
  ],
  [/^invalid byte sequence for encoding|^character with byte sequence .* has no equivalent in encoding/, '22021'],
  [
    /^invalid value ".*" for ".*"|^date\/time value ".*" is no longer supported|^conflicting values for ".*" field in formatting string/,
    '22007',
  ],
  [
    /^(?:date\/time field value out of range|time zone displacement out of range|timestamp out of range|date out of range|interval out of range|date field value out of range)/,
    '22008',
  ],
  [
    /^(?:smallint|integer|bigint|value) out of range|^numeric field overflow|^value ".*" is out of range for type|^setval: value -?\d+ is out of bounds|^(?:input|result) is out of range|out of range for type double precision|^value out of range: (?:overflow|underflow)/,
    '22003',
  ],
  [/^value too long for type/, '22001'],
  [/^invalid regular expression/, '2201B'],
  [
    /^cannot take square root of a negative number|^a negative number raised to a non-integer power yields a complex result|^zero raised to a negative power is undefined/,
    '2201F',
  ],
  [/^cannot take logarithm of (?:zero|a negative number)/, '2201E'],
  [/^negative substring length not allowed/, '22011'],
  [/^LIMIT must not be negative/, '2201W'],
  [/^OFFSET must not be negative/, '2201X'],
  [/^(?:nextval|setval): reached (?:maximum|minimum) value of sequence/, '2200H'],
  [/^invalid escape string|^invalid use of escape character/, '22025'],
  [/^(?:array subscript out of range|array size exceeds|number of array dimensions .* exceeds)/, '2202E'],
  [/^invalid value for parameter|^parameter "[^"]*" requires a|^invalid (?:parameter|value) /, '22023'],
  [/^null character not permitted/, '54000'], // chr(0): program_limit_exceeded
  [/^null value not allowed/, '22004'],
  [/^cannot (?:AND|OR|XOR) bit strings of different sizes|^bit string length \d+ does not match type/, '22026'], // string_data_length_mismatch
  [/^more than one row returned by a subquery used as an expression/, '21000'],
  [/^requested (?:length|character) too large/, '54000'],
  // 25xxx transaction states, 40xxx rollbacks
  [/^current transaction is aborted/, '25P02'],
  [
    /cannot run inside a transaction block$|^SET TRANSACTION ISOLATION LEVEL must be called before any query|^cannot execute .* in a read-only transaction/,
    '25001',
  ],
  [/^cannot execute .* in a read-only transaction/, '25006'],
  [/can only be used in transaction blocks$/, '25P01'],
  [/^terminating connection due to idle-in-transaction timeout/, '25P03'],
  [/^could not serialize access/, '40001'], // serialization_failure
  [/^deadlock detected/, '40P01'],
  // 55xxx object state, 57xxx operator intervention
  [/^could not obtain lock on (?:relation|row)/, '55P03'],
  [/^canceling statement due to (?:statement timeout|user request)/, '57014'], // query_canceled
  [/^canceling statement due to lock timeout/, '55P03'],
  [/^canceling statement due to conflict with recovery/, '40001'],
  [/^cannot drop the currently open database|^database "[^"]*" is being accessed by other users/, '55006'],
  [
    /^currval of sequence "[^"]*" is not yet defined in this session|^lastval is not yet defined in this session|^database "[^"]*" is not currently accepting connections/,
    '55000',
  ],
  [
    /^terminating connection due to administrator command|^terminating (?:autovacuum process|walsender process|background worker) .*due to administrator command/,
    '57P01',
  ],
  [/^terminating connection because of crash of another server process/, '57P02'],
  [
    /^the database system is (?:starting up|shutting down|in recovery mode|not yet accepting connections|not accepting connections)/,
    '57P03',
  ],
  // 53xxx resources, 54xxx limits
  [/^out of memory/, '53200'],
  [/^sorry, too many clients already/, '53300'],
  [/^remaining connection slots are reserved/, '53300'],
  [/^too many connections for /, '53300'],
  [/^could not extend file|^could not write to file .*No space left on device/, '53100'], // disk_full (usually)
  [/^database is not accepting commands/, '54000'],
  [/^stack depth limit exceeded/, '54001'],
  [/^(?:target lists|index row size|row is too big|cannot pass more than \d+ arguments)/, '54000'],
  // 08xxx connection, 28xxx auth
  [
    /^invalid frontend message type|^incomplete (?:startup packet|message from client)|^invalid length of startup packet|^could not accept SSL connection/,
    '08P01',
  ],
  [/^could not (?:receive data from|send data to) client|^connection to client lost/, '08006'],
  [/password authentication failed/, '28P01'],
  [/authentication failed/, '28000'],
  [/pg_hba\.conf/, '28000'],
  [/^role "[^"]*" is not permitted to log in/, '28000'],
  // 58xxx system errors, XX internal
  [/^could not (?:open|stat) file .*No such file or directory|^requested WAL segment \S+ has already been removed/, '58P01'],
  [/^could not (?:open|read|write|stat|create|remove) (?:file|directory)/, '58030'],
  [/^invalid page in block/, 'XX001'], // data_corrupted
  [/^could not read block \d+ in file/, 'XX001'],
];

/** A FATAL `role "x" does not exist` is a login refused (28000); at ERROR it is an undefined object (42704). */
const FATAL_ONLY: ReadonlyArray<readonly [RegExp, string]> = [[/^role "[^"]*" does not exist/, '28000']];

export function inferSqlstate(message: string, severity?: string): string | null {
  if (severity === 'FATAL') for (const [re, code] of FATAL_ONLY) if (re.test(message)) return code;
  for (const [re, code] of BY_MESSAGE) if (re.test(message)) return code;
  return null;
}

const CLASS_NAMES: Readonly<Record<string, string>> = {
  '00': 'successful_completion',
  '01': 'warning',
  '02': 'no_data',
  '03': 'sql_statement_not_yet_complete',
  '08': 'connection_exception',
  '09': 'triggered_action_exception',
  '0A': 'feature_not_supported',
  '0B': 'invalid_transaction_initiation',
  '0F': 'locator_exception',
  '0L': 'invalid_grantor',
  '0P': 'invalid_role_specification',
  '0Z': 'diagnostics_exception',
  '20': 'case_not_found',
  '21': 'cardinality_violation',
  '22': 'data_exception',
  '23': 'integrity_constraint_violation',
  '24': 'invalid_cursor_state',
  '25': 'invalid_transaction_state',
  '26': 'invalid_sql_statement_name',
  '27': 'triggered_data_change_violation',
  '28': 'invalid_authorization_specification',
  '2B': 'dependent_privilege_descriptors_still_exist',
  '2D': 'invalid_transaction_termination',
  '2F': 'sql_routine_exception',
  '34': 'invalid_cursor_name',
  '38': 'external_routine_exception',
  '39': 'external_routine_invocation_exception',
  '3B': 'savepoint_exception',
  '3D': 'invalid_catalog_name',
  '3F': 'invalid_schema_name',
  '40': 'transaction_rollback',
  '42': 'syntax_error_or_access_rule_violation',
  '44': 'with_check_option_violation',
  '53': 'insufficient_resources',
  '54': 'program_limit_exceeded',
  '55': 'object_not_in_prerequisite_state',
  '57': 'operator_intervention',
  '58': 'system_error',
  '72': 'snapshot_too_old',
  F0: 'config_file_error',
  HV: 'fdw_error',
  P0: 'plpgsql_error',
  XX: 'internal_error',
};

export function sqlstateClassName(sqlstate: string): string {
  return CLASS_NAMES[sqlstate.slice(0, 2)] ?? 'unknown';
}
