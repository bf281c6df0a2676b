// Structured JSON logs. Secrets never reach a log line: callers log ids and fingerprints, and
// this format also blanks any field whose name says it holds a secret, as a second guard.
import winston from 'winston';

const SECRET_KEY = /pass|secret|token|authorization|private|key$|csr|cookie/i;

const redact = winston.format((info) => {
  for (const k of Object.keys(info)) {
    if (k !== 'message' && k !== 'level' && SECRET_KEY.test(k)) info[k] = '[redacted]';
  }
  return info;
});

export function createLogger(component: string, level = process.env.PGA_LOG_LEVEL ?? 'info'): winston.Logger {
  return winston.createLogger({
    level,
    defaultMeta: { component },
    format: winston.format.combine(redact(), winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
}

export type Logger = winston.Logger;
