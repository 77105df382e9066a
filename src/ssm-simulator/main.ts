/**
 * Runs the license server simulator as its own process:
 *
 *   npm run ssm-sim -- --port 8443 --seed demo [--lines 5000] [--accounts 2] [--host 127.0.0.1]
 *                      [--client-id ID --client-secret SECRET] [--log-level info]
 *
 * The start-up log line gives the URL, the OAuth client credentials and the signing public key
 * (the key the product must trust for offline files). Stop with Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { createLogger } from '../logger';
import { startSimulator } from './server';

function intOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new Error(`--${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8443' },
      host: { type: 'string', default: '127.0.0.1' },
      seed: { type: 'string', default: 'demo' },
      lines: { type: 'string' },
      accounts: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'log-level': { type: 'string', default: process.env.LOG_LEVEL ?? 'info' },
    },
    strict: true,
  });
  const log = createLogger(values['log-level'] ?? 'info');
  const sim = await startSimulator({
    port: intOption('port', values.port) ?? 8443,
    host: values.host,
    seed: values.seed ?? 'demo',
    lines: intOption('lines', values.lines),
    accounts: intOption('accounts', values.accounts),
    clientId: values['client-id'],
    clientSecret: values['client-secret'],
    logger: log,
  });
  log.info(
    {
      url: sim.url,
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      keyId: sim.keyId,
      publicKeyPem: sim.publicKeyPem,
      accounts: sim.state.accounts.map((a) => ({ accountId: a.accountId, domain: a.domain, virtualAccounts: a.virtualAccounts.map((v) => v.id) })),
    },
    'ssm simulator ready (demo credentials; trust publicKeyPem for offline files)',
  );
  const stop = (signal: string): void => {
    log.info({ signal }, 'ssm simulator stopping');
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  createLogger('error').fatal({ err }, 'ssm simulator failed to start');
  process.exit(1);
});
