import { createHmac } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../logger';

export const DEFAULT_APP_ROLE = 'slm_app';

/** Tables the application may read but never change. */
const READ_ONLY_TABLES = ['mikro_orm_migrations'];
/** Tables the application may only read and add to (RLS limits what it may add). */
const APPEND_ONLY_TABLES = ['entitlement'];

/**
 * The application connects as a role that owns nothing, is not a superuser and cannot bypass RLS.
 * When DATABASE_APP_URL is unset, that role (`slm_app`) is created by the owner connection when the
 * owner may create roles; its password is derived from the owner's credentials, so every instance
 * sharing one DATABASE_URL derives the same one. Otherwise an operator creates it (see README).
 */
export async function provisionAppRole(opts: {
  ownerUrl: string;
  appUrl?: string;
  log: Logger;
}): Promise<string> {
  const owner = new pg.Client({ connectionString: opts.ownerUrl });
  await owner.connect();
  try {
    let appUrl: string;
    let appRole: string;
    if (opts.appUrl) {
      appUrl = opts.appUrl;
      appRole = decodeURIComponent(new URL(opts.appUrl).username);
    } else {
      appRole = DEFAULT_APP_ROLE;
      const password = derivePassword(opts.ownerUrl, appRole);
      await ensureLoginRole(owner, appRole, password, opts.log);
      const url = new URL(opts.ownerUrl);
      url.username = appRole;
      url.password = password;
      appUrl = url.toString();
    }
    // Instances starting together grant at the same moment; PostgreSQL may then answer
    // "tuple concurrently updated" (XX000) for one of them: the grants are idempotent, so retry.
    for (let attempt = 1; ; attempt++) {
      try {
        await grantAccess(owner, appRole);
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== 'XX000' || attempt >= 5) throw err;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
    return appUrl;
  } finally {
    await owner.end();
  }
}

function derivePassword(ownerUrl: string, role: string): string {
  const url = new URL(ownerUrl);
  // Not the database name: the role is cluster-wide and shared by every database on the server.
  const key = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return createHmac('sha256', key).update(`${role}@${url.hostname}:${url.port || '5432'}`).digest('base64url');
}

async function ensureLoginRole(owner: pg.Client, role: string, password: string, log: Logger): Promise<void> {
  const existing = await owner.query<{ rolsuper: boolean; rolbypassrls: boolean }>(
    'select rolsuper, rolbypassrls from pg_roles where rolname = $1',
    [role],
  );
  const { rows: me } = await owner.query<{ rolsuper: boolean; rolcreaterole: boolean }>(
    'select rolsuper, rolcreaterole from pg_roles where rolname = current_user',
  );
  const mayManageRoles = me[0].rolsuper || me[0].rolcreaterole;
  const quotedPassword = owner.escapeLiteral(password);
  const ident = owner.escapeIdentifier(role);
  if (existing.rowCount === 0) {
    if (!mayManageRoles) {
      throw new Error(
        `the application role "${role}" does not exist and the DATABASE_URL user may not create roles; create it (see README "Running against your own PostgreSQL") and set DATABASE_APP_URL`,
      );
    }
    try {
      await owner.query(
        `create role ${ident} login nosuperuser nocreatedb nocreaterole nobypassrls noinherit password ${quotedPassword}`,
      );
      log.info({ role }, 'created the application database role');
    } catch (err) {
      // Another instance (or test worker) created it at the same moment.
      const code = (err as { code?: string }).code;
      if (code !== '42710' && code !== '23505') throw err;
    }
  } else if (existing.rows[0].rolsuper || existing.rows[0].rolbypassrls) {
    throw new Error(`the application role "${role}" is a superuser or has BYPASSRLS; row-level security would not apply`);
  } else if (mayManageRoles) {
    // Keep the derived password in force (the role may predate it). Idempotent across instances.
    await owner.query(`alter role ${ident} password ${quotedPassword}`).catch((err: { code?: string }) => {
      if (err.code !== 'XX000') throw err; // "tuple concurrently updated": another instance set the same value
    });
  }
}

async function grantAccess(owner: pg.Client, role: string): Promise<void> {
  const ident = owner.escapeIdentifier(role);
  const { rows } = await owner.query<{ db: string }>('select current_database() as db');
  await owner.query(`grant connect on database ${owner.escapeIdentifier(rows[0].db)} to ${ident}`);
  await owner.query(`grant usage on schema public to ${ident}`);
  await owner.query(`grant select, insert, update, delete on all tables in schema public to ${ident}`);
  await owner.query(`grant usage, select on all sequences in schema public to ${ident}`);
  for (const table of READ_ONLY_TABLES) {
    await owner.query(`revoke insert, update, delete, truncate on ${owner.escapeIdentifier(table)} from ${ident}`);
  }
  for (const table of APPEND_ONLY_TABLES) {
    await owner.query(`revoke update, delete, truncate on ${owner.escapeIdentifier(table)} from ${ident}`);
  }
}
