import pino, { type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs; request-scoped children carry reqId, subject and tenant. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'sdwan-license-manager' },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
  });
}
