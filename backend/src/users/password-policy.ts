// What a password must not be: blank or whitespace only, one short pattern repeated, a run of
// consecutive characters, or one of the passwords guessers try first. The length rule (12 or
// more) is in the schema; the list holds only entries that pass it, compared case-insensitively.
const COMMON = new Set([
  '123456789012',
  '1234567890123',
  '12345678901234',
  '123456789012345',
  '1234567890qwerty',
  '0987654321qwerty',
  'password1234',
  'password12345',
  'password123456',
  'password123!',
  'password1234!',
  'passwordpassword',
  'p@ssw0rd1234',
  'p@ssword1234',
  'qwerty123456',
  'qwertyuiop12',
  'qwertyuiopas',
  'qwertyuiopasdf',
  'qwertyuiop123',
  'qwerty12345678',
  'asdfghjkl123',
  "asdfghjkl;'",
  '1q2w3e4r5t6y',
  '1q2w3e4r5t6y7u',
  '1qaz2wsx3edc',
  '1qaz2wsx3edc4rfv',
  'zaq12wsxcde3',
  'zaq1xsw2cde3',
  'q1w2e3r4t5y6',
  'iloveyou1234',
  'iloveyouiloveyou',
  'administrator',
  'administrator1',
  'administrator123',
  'admin1234567',
  'adminadmin12',
  'adminadmin123',
  'adminpassword',
  'admin@123456',
  'rootpassword',
  'rootroot1234',
  'changeme1234',
  'changemenow!',
  'changeme123!',
  'changethispassword',
  'welcome12345',
  'welcome123456',
  'welcome@1234',
  'letmein12345',
  'letmeinletmein',
  'trustno1trustno1',
  'superman1234',
  'football1234',
  'baseball1234',
  'monkey123456',
  'dragon123456',
  'sunshine1234',
  'princess1234',
  'starwars1234',
  'master123456',
  'whatever1234',
  'correcthorsebatterystaple',
  'correct horse battery staple',
  'postgres1234',
  'postgrespostgres',
  'postgresql123',
  'pganalytics1',
  'pganalytics123',
  'pganalytics2024',
  'pganalytics2025',
  'pganalytics2026',
  'grafana12345',
  'prometheus123',
  'secretpassword',
  'mysecretpassword',
  'mypassword123',
  'newpassword123',
  'defaultpassword',
  'temporarypassword',
  'testpassword',
  'testtesttest',
  'test12345678',
  'password2024',
  'password2025',
  'password2026',
  'summer2024!!',
  'winter2024!!',
  'spring2025!!',
  'autumn2025!!',
  'abcdefghijkl',
  'abc123abc123',
  'abcd1234abcd',
]);

/** Why `password` is refused, or undefined when it is acceptable. */
export function passwordProblem(password: string): string | undefined {
  if (password.trim() === '') return 'password must not be blank or whitespace only';
  const p = password.toLowerCase();
  if (COMMON.has(p)) return 'password is one of the most common passwords';
  // One unit of up to four characters repeated: "aaaaaaaaaaaa", "abcabcabcabc", "12121212…".
  if (/^(.{1,4})\1+$/su.test(p)) return 'password is one short pattern repeated';
  // A run of consecutive characters, up or down: "abcdefghijkl", "987654321098".
  const codes = [...p].map((c) => c.codePointAt(0)!);
  const step = codes[1] - codes[0];
  if (
    Math.abs(step) === 1 &&
    codes.every((c, i) => i === 0 || c - codes[i - 1] === step || (/\d/.test(p[i]) && Math.abs(c - codes[i - 1]) === 9))
  ) {
    return 'password is a run of consecutive characters';
  }
  return undefined;
}
