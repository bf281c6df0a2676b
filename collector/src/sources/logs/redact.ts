// Privacy on the collector: statements can hold customer data in their literals and passwords
// in ALTER/CREATE ROLE. Passwords never leave the host (redacted whatever the config says);
// literals are replaced by "?" unless the config turns that off.

const PASSWORD_HINT = /password/i;
// PASSWORD '…' / PASSWORD E'…' / PASSWORD $tag$…$tag$ / password=… (conninfo strings); an
// unterminated literal (a truncated statement) is redacted to the end. Only a literal is masked,
// never the word: a bare word after "password " is SQL or prose ("password authentication
// failed for user …"), so an unquoted value counts only after "=", as in a conninfo string.
const PASSWORD =
  /(\bpassword)(\s+|\s*=\s*)(?:E?'(?:[^'\\]|''|\\.)*(?:'|$)|\$([A-Za-z_]\w*)?\$[\s\S]*?(?:\$\3\$|$)|(?<==\s*)(?!null\b|\$\d)(?![^\s,;()'"]*\()[^\s,;()'"]+)/gi;

export const REDACTED_PASSWORD = "'********'";

export function redactPasswords(text: string): string {
  if (!PASSWORD_HINT.test(text)) return text;
  return text.replace(PASSWORD, (_m, word: string, sep: string) => `${word}${sep}${REDACTED_PASSWORD}`);
}

const isIdentChar = (c: number): boolean =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 36 || c > 127;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/**
 * Replaces string, dollar-quoted, bit/hex and numeric literals in SQL by "?". Identifiers
 * (also quoted ones), parameters ($1) and comments are kept, so the statement keeps its shape.
 */
export function redactLiterals(sql: string): string {
  let out = '';
  let last = 0;
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === 39 /* ' */) {
      // E'', B'', X'', U&'' prefixes belong to the literal.
      let start = i;
      const p = sql.charCodeAt(i - 1) | 0x20;
      if (i > 0 && (p === 101 || p === 98 || p === 120) && !isIdentChar(sql.charCodeAt(i - 2))) start = i - 1;
      else if (i > 1 && sql.charCodeAt(i - 1) === 38 && (sql.charCodeAt(i - 2) | 0x20) === 117) start = i - 2;
      const escapes = start === i - 1 && p === 101;
      let j = i + 1;
      for (;;) {
        const q = sql.indexOf("'", j);
        if (q < 0) {
          j = n;
          break;
        }
        if (escapes) {
          let bs = 0;
          for (let k = q - 1; k > i && sql.charCodeAt(k) === 92; k--) bs++;
          if (bs % 2 === 1) {
            j = q + 1;
            continue;
          }
        }
        if (sql.charCodeAt(q + 1) === 39) {
          j = q + 2;
          continue;
        }
        j = q + 1;
        break;
      }
      out += `${sql.slice(last, start)}?`;
      last = i = j;
      continue;
    }
    if (c === 34 /* " */) {
      const q = sql.indexOf('"', i + 1);
      i = q < 0 ? n : q + 1;
      continue;
    }
    if (c === 36 /* $ */ && !isIdentChar(sql.charCodeAt(i - 1))) {
      const next = sql.charCodeAt(i + 1);
      if (isDigit(next)) {
        i += 2;
        while (isDigit(sql.charCodeAt(i))) i++;
        continue;
      } // a parameter
      let j = i + 1;
      while (j < n && isIdentChar(sql.charCodeAt(j)) && sql.charCodeAt(j) !== 36) j++;
      if (sql.charCodeAt(j) === 36) {
        const tag = sql.slice(i, j + 1);
        const close = sql.indexOf(tag, j + 1);
        const end = close < 0 ? n : close + tag.length;
        out += `${sql.slice(last, i)}?`;
        last = i = end;
        continue;
      }
      i++;
      continue;
    }
    if (c === 45 && sql.charCodeAt(i + 1) === 45) {
      const e = sql.indexOf('\n', i);
      i = e < 0 ? n : e;
      continue;
    }
    if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      const e = sql.indexOf('*/', i + 2);
      i = e < 0 ? n : e + 2;
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(sql.charCodeAt(i + 1)))) {
      if (i > 0 && isIdentChar(sql.charCodeAt(i - 1))) {
        i++;
        while (i < n && isIdentChar(sql.charCodeAt(i))) i++;
        continue;
      }
      let j = i + 1;
      for (;;) {
        const d = sql.charCodeAt(j);
        if (isDigit(d) || d === 46 || d === 95 || ((d | 0x20) >= 97 && (d | 0x20) <= 122 && (d | 0x20) !== 32)) j++;
        else if ((d === 43 || d === 45) && (sql.charCodeAt(j - 1) | 0x20) === 101) j++;
        else break;
      }
      out += `${sql.slice(last, i)}?`;
      last = i = j;
      continue;
    }
    if (isIdentChar(c)) {
      i++;
      while (i < n && isIdentChar(sql.charCodeAt(i))) i++;
      continue;
    }
    i++;
  }
  return last === 0 ? sql : out + sql.slice(last);
}
