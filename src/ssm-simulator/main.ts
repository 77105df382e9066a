/**
 * Runs the license server simulator as its own process:
 *
 *   npm run ssm-sim -- --port 8443 --seed demo [--lines 5000] [--accounts 2] [--host 127.0.0.1]
 *                      [--client-id ID --client-secret SECRET] [--log-level info]
 *                      [--tls [--tls-dir DIR] [--tls-name NAME ...] | --cert FILE --key FILE]
 *
 * The start-up log line gives the URL, the OAuth client credentials and the signing public key
 * (the key the product must trust for offline files). Stop with Ctrl-C.
 *
 * HTTPS: `--tls` makes a private CA and a server certificate for localhost, 127.0.0.1, ::1 and --host
 * (or each --tls-name) at start; the CA is logged as caPem and, with --tls-dir, written to DIR/ca.pem
 * for SSM_CA_CERT. `--cert/--key` serve a certificate (chain) and key of your own instead.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../logger';
import { type SimulatorOptions, startSimulator } from './server';

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
      tls: { type: 'boolean', default: false },
      'tls-dir': { type: 'string' },
      'tls-name': { type: 'string', multiple: true },
      cert: { type: 'string' },
      key: { type: 'string' },
    },
    strict: true,
  });
  const log = createLogger(values['log-level'] ?? 'info');
  const tls = tlsOption(values);
  const sim = await startSimulator({
    port: intOption('port', values.port) ?? 8443,
    host: values.host,
    seed: values.seed ?? 'demo',
    lines: intOption('lines', values.lines),
    accounts: intOption('accounts', values.accounts),
    clientId: values['client-id'],
    clientSecret: values['client-secret'],
    tls,
    logger: log,
  });
  let caFile: string | undefined;
  if (sim.caPem !== undefined && values['tls-dir'] !== undefined) {
    caFile = path.resolve(values['tls-dir'], 'ca.pem');
    mkdirSync(path.dirname(caFile), { recursive: true });
    writeFileSync(caFile, sim.caPem);
  }
  log.info(
    {
      url: sim.url,
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      keyId: sim.keyId,
      publicKeyPem: sim.publicKeyPem,
      ...(sim.caPem === undefined ? {} : { caPem: sim.caPem, caFile }),
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

/** --tls (generated certificate) or --cert/--key (given ones); undefined for plain HTTP. */
function tlsOption(values: { tls?: boolean; 'tls-dir'?: string; 'tls-name'?: string[]; cert?: string; key?: string }): SimulatorOptions['tls'] {
  const given = values.cert !== undefined || values.key !== undefined;
  if (given) {
    if (values.cert === undefined || values.key === undefined) throw new Error('--cert and --key go together');
    if (values['tls-dir'] !== undefined || values['tls-name'] !== undefined) throw new Error('--tls-dir and --tls-name are for a generated certificate (--tls), not --cert/--key');
    return { certPem: readFileSync(values.cert, 'utf8'), keyPem: readFileSync(values.key, 'utf8') };
  }
  if (!values.tls) {
    if (values['tls-dir'] !== undefined || values['tls-name'] !== undefined) throw new Error('--tls-dir and --tls-name need --tls');
    return undefined;
  }
  return { names: values['tls-name'] };
}

main().catch((err: unknown) => {
  createLogger('error').fatal({ err }, 'ssm simulator failed to start');
  process.exit(1);
});
