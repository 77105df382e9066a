import 'reflect-metadata';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../config';
import { ensureEmbeddedPostgres } from '../db/embedded';
import { createLogger } from '../logger';
import { resolveJwtKey } from './keys';
import { mintToken } from './jwt';
import { isProviderRole, isRole, ALL_ROLES } from './roles';

const USAGE = `usage: npm run token -- --role ROLE [--tenant <uuid|slug>] [--subject NAME] [--expires 1h]
  ROLE: ${ALL_ROLES.join(' | ')}
  --tenant is required for tenant roles; a slug is looked up in the database.`;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Mints a development token with the configured key (or the generated development secret). */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      tenant: { type: 'string' },
      subject: { type: 'string' },
      expires: { type: 'string', default: '1h' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || !values.role) fail(USAGE);
  const role = values.role.toUpperCase();
  if (!isRole(role)) fail(`unknown role ${values.role}\n${USAGE}`);
  if (!isProviderRole(role) && !values.tenant) fail(`role ${role} needs --tenant\n${USAGE}`);
  if (isProviderRole(role) && values.tenant) fail(`role ${role} is provider-wide and takes no --tenant`);
  const expiresInSec = parseDuration(values.expires);

  const config = loadConfig();
  const tenantId = values.tenant ? await resolveTenant(values.tenant, config) : undefined;
  const token = mintToken({
    key: resolveJwtKey(config),
    subject: values.subject ?? `dev-${role.toLowerCase()}`,
    role,
    tenantId,
    expiresInSec,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    claimsNamespace: config.jwt.claimsNamespace,
  });
  process.stdout.write(`${token}\n`);
}

function parseDuration(text: string): number {
  const match = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  if (!match) fail(`--expires ${text} is not a duration such as 30m, 1h or 7d`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  const seconds = Number(match[1]) * unit;
  if (seconds < 1) fail('--expires must be at least one second');
  return seconds;
}

async function resolveTenant(value: string, config: ReturnType<typeof loadConfig>): Promise<string> {
  if (UUID_RE.test(value)) return value.toLowerCase();
  const log = createLogger('warn');
  const embedded = config.databaseUrl
    ? undefined
    : await ensureEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPostgresPort, log });
  const client = new pg.Client({ connectionString: config.databaseUrl ?? embedded?.url });
  try {
    await client.connect();
    // The owner connection: the CLI is an operator tool, run where the database credentials are.
    const { rows } = await client.query<{ id: string }>('select id from tenant where slug = $1', [value]);
    if (rows.length === 0) fail(`no tenant with slug ${value}`);
    return rows[0].id;
  } finally {
    await client.end().catch(() => undefined);
    await embedded?.stop();
  }
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

main().catch((err: unknown) => {
  process.stderr.write(`token: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
