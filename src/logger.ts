import pino, { type Logger, type TransportSingleOptions } from 'pino';

export type { Logger };

/**
 * Structured JSON logs; request-scoped children carry reqId, subject and tenant.
 *
 * `pretty` (main.ts sets it for NODE_ENV=development on a terminal) prints them readably through
 * pino-pretty, a devDependency: it is used only when installed, so a production install
 * (`npm ci --omit=dev`) or any output that is not a terminal (files, pipes, tests) stays JSON.
 */
export function createLogger(level: string, opts: { pretty?: boolean } = {}): Logger {
  const transport = opts.pretty ? prettyTransport() : undefined;
  return pino({
    level,
    base: { service: 'sdwan-license-manager' },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
    ...(transport ? { transport } : {}),
  });
}

function prettyTransport(): TransportSingleOptions | undefined {
  try {
    return { target: require.resolve('pino-pretty'), options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } };
  } catch {
    return undefined;
  }
}
