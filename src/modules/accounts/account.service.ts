import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { RequestContext } from '../../common/context';
import { AppError, conflict, notFound } from '../../common/errors';
import { SsmError } from '../../ssm/client';
import { clientFor, loadSettings } from '../sync/sync-settings.service';
import { loadById, loadGroup } from '../../common/loaders';
import { parseIdArg, parseIdArgs, toGlobalId } from '../../common/global-id';
import { inScope } from '../../db/scope';
import { pgArray, sql } from '../../db/sql';
import { recordAudit } from '../audit/audit.service';
import { requireTenantScope, resolveTenantScope } from '../tenants/tenant.service';
import {
  accountIdChangeWithLicenses,
  duplicateVirtualAccount,
  invalidAccountField,
  virtualAccountsNotFound,
} from './account.errors';
import {
  SmartAccount,
  VirtualAccount,
  type ConfigureSmartAccountInput,
  type SetManagedVirtualAccountsInput,
  type SmartAccountRow,
  type VirtualAccountRow,
} from './account.types';

const DOMAIN_RE = /^(?=.{3,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
const EXTERNAL_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const MAX_VIRTUAL_ACCOUNTS = 1000;
const SA_COLUMNS = `id, tenant_id, domain, name, external_id,
  to_json(created_at) #>> '{}' as created_at, to_json(updated_at) #>> '{}' as updated_at`;
const VA_COLUMNS = 'id, tenant_id, smart_account_id, external_id, name, managed';
const VA_BY_ID = Symbol('virtual-account-by-id');
const VA_BY_ACCOUNT = Symbol('virtual-accounts-by-smart-account');

function checkName(field: string, value: string): string {
  const trimmed = value.trim();
  if (trimmed.length < 1 || trimmed.length > 200) throw invalidAccountField(field, value, 'must be 1 to 200 characters');
  return trimmed;
}

/** The account as the configured license server describes it (online and on-prem modes). */
async function fromServer(ctx: RequestContext, input: ConfigureSmartAccountInput): Promise<ConfigureSmartAccountInput> {
  if (!EXTERNAL_ID_RE.test(input.accountId)) {
    throw invalidAccountField('accountId', input.accountId, 'must be 1 to 64 of A-Z a-z 0-9 . _ : -');
  }
  const client = clientFor(ctx, await loadSettings(ctx));
  try {
    const remote = await client.getSmartAccount(input.accountId);
    return {
      ...input,
      domain: remote.domain.toLowerCase(),
      name: remote.name,
      virtualAccounts: remote.virtualAccounts.map((v) => ({ externalId: v.id, name: v.name })),
    };
  } catch (err) {
    if (err instanceof SsmError) {
      if (err.code === 'NOT_FOUND') throw notFound(`the license server knows no smart account ${input.accountId}`);
      throw new AppError('BAD_USER_INPUT', `the license server could not be asked (${err.code.toLowerCase()}): ${err.message}`);
    }
    throw err;
  } finally {
    await client.close();
  }
}

function validate(input: ConfigureSmartAccountInput): void {
  const domain = input.domain ?? '';
  if (!DOMAIN_RE.test(domain)) {
    throw invalidAccountField('domain', domain, 'is not a lowercase domain such as acme.example');
  }
  if (!EXTERNAL_ID_RE.test(input.accountId)) {
    throw invalidAccountField('accountId', input.accountId, 'must be 1 to 64 of A-Z a-z 0-9 . _ : -');
  }
  const vas = input.virtualAccounts ?? [];
  if (vas.length > MAX_VIRTUAL_ACCOUNTS) {
    throw invalidAccountField('virtualAccounts', `${vas.length} entries`, `exceeds ${MAX_VIRTUAL_ACCOUNTS}`);
  }
  const seen = new Set<string>();
  for (const [i, va] of vas.entries()) {
    if (!EXTERNAL_ID_RE.test(va.externalId)) {
      throw invalidAccountField(`virtualAccounts[${i}].externalId`, va.externalId, 'must be 1 to 64 of A-Z a-z 0-9 . _ : -');
    }
    if (seen.has(va.externalId)) throw duplicateVirtualAccount(va.externalId);
    seen.add(va.externalId);
    checkName(`virtualAccounts[${i}].name`, va.name);
  }
}

/**
 * Records the tenant's smart account (one per tenant) and the virtual accounts given. Replacing the
 * account by another account id is refused while license lines of the old one exist.
 */
export async function configureSmartAccount(ctx: RequestContext, given: ConfigureSmartAccountInput): Promise<SmartAccount> {
  const tenantId = await requireTenantScope(ctx, given.tenantId);
  const input = given.fetchFromServer ? await fromServer(ctx, given) : given;
  validate(input);
  const name = checkName('name', input.name ?? '');
  const vas = (input.virtualAccounts ?? []).map((va) => ({ external_id: va.externalId, name: va.name.trim() }));
  const row = await inScope(ctx, async (em) => {
    // One configuration per tenant at a time (the first one has no row to lock yet), and the
    // tenant's virtual accounts locked before their license lines are counted, so a line added
    // concurrently is either counted or waits: it is never deleted with its virtual account.
    await sql(em, "select pg_advisory_xact_lock(hashtext('smart_account:' || ?))", [tenantId]);
    await sql(em, 'select id from virtual_account where tenant_id = ? order by id for update', [tenantId]);
    const [existing] = await sql<SmartAccountRow & { lines: number }>(
      em,
      `select ${SA_COLUMNS},
              (select count(*)::int from license l where l.tenant_id = sa.tenant_id
                  and l.virtual_account_id in (select id from virtual_account v where v.tenant_id = sa.tenant_id and v.smart_account_id = sa.id)) as lines
         from smart_account sa where tenant_id = ? for update`,
      [tenantId],
    );
    if (existing && existing.external_id !== input.accountId) {
      if (existing.lines > 0) throw accountIdChangeWithLicenses(existing.external_id, input.accountId, existing.lines);
      // A different account with nothing bought yet: its virtual accounts belonged to the old one.
      await sql(em, 'delete from virtual_account where tenant_id = ? and smart_account_id = ?', [tenantId, existing.id]);
    }
    const [account] = await sql<SmartAccountRow>(
      em,
      `insert into smart_account (tenant_id, domain, name, external_id) values (?, ?, ?, ?)
       on conflict (tenant_id) do update set domain = excluded.domain, name = excluded.name,
         external_id = excluded.external_id, updated_at = app_now()
       returning ${SA_COLUMNS}`,
      [tenantId, input.domain as string, name, input.accountId],
    );
    if (vas.length > 0) {
      await sql(
        em,
        `insert into virtual_account (tenant_id, smart_account_id, external_id, name)
         select ?, ?, r.external_id, r.name from jsonb_to_recordset(?::jsonb) as r(external_id text, name text)
         on conflict (tenant_id, smart_account_id, external_id) do update set name = excluded.name, updated_at = app_now()`,
        [tenantId, account.id, JSON.stringify(vas)],
      );
    }
    await recordAudit(ctx, em, {
      tenantId,
      action: 'accounts.smart_account_configured',
      targetType: 'SmartAccount',
      targetIds: [account.id],
      details: { domain: input.domain, accountId: input.accountId, virtualAccounts: vas.map((v) => v.external_id) },
    });
    return account;
  }).catch((err: unknown) => claimedElsewhere(err, input.accountId));
  return SmartAccount.from(row);
}

/** A smart account id is unique across tenants: another tenant's is CONFLICT, naming only the id given. */
function claimedElsewhere(err: unknown, accountId: string): never {
  if (err instanceof UniqueConstraintViolationException) {
    throw conflict(`smart account ${accountId} is already configured for another tenant`, { field: 'accountId' });
  }
  throw err;
}

/** Sets exactly which virtual accounts are managed here; all others of the tenant become unmanaged. */
export async function setManagedVirtualAccounts(
  ctx: RequestContext,
  input: SetManagedVirtualAccountsInput,
): Promise<VirtualAccount[]> {
  const ids = [...new Set(parseIdArgs(input.virtualAccountIds, 'VirtualAccount', 'virtualAccountIds'))];
  const tenantId = await requireTenantScope(ctx, input.tenantId);
  const rows = await inScope(ctx, async (em) => {
    const found = await sql<{ id: string }>(em, 'select id from virtual_account where tenant_id = ? and id = any(?::uuid[])', [
      tenantId,
      pgArray(ids),
    ]);
    const missing = ids.filter((id) => !found.some((f) => f.id === id));
    // Another tenant's virtual account is reported exactly like one that does not exist.
    if (missing.length > 0) throw virtualAccountsNotFound(missing.map((id) => toGlobalId('VirtualAccount', id)));
    const changed = await sql<{ id: string; managed: boolean }>(
      em,
      `update virtual_account set managed = (id = any(?::uuid[])), updated_at = app_now()
        where tenant_id = ? and managed is distinct from (id = any(?::uuid[])) returning id, managed`,
      [pgArray(ids), tenantId, pgArray(ids)],
    );
    if (changed.length > 0) {
      const gid = (id: string): string => toGlobalId('VirtualAccount', id);
      await recordAudit(ctx, em, {
        tenantId,
        action: 'accounts.managed_virtual_accounts_set',
        targetType: 'VirtualAccount',
        targetIds: changed.map((c) => c.id),
        details: {
          nowManaged: changed.filter((c) => c.managed).map((c) => gid(c.id)),
          nowUnmanaged: changed.filter((c) => !c.managed).map((c) => gid(c.id)),
        },
      });
    }
    const all = await sql<VirtualAccountRow>(em, `select ${VA_COLUMNS} from virtual_account where tenant_id = ?`, [tenantId]);
    return all.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  });
  return rows.map(VirtualAccount.from);
}

export async function listSmartAccounts(ctx: RequestContext, tenantIdArg?: string | null): Promise<SmartAccount[]> {
  const tenantId = await resolveTenantScope(ctx, tenantIdArg);
  const rows = await inScope(ctx, (em) =>
    sql<SmartAccountRow>(
      em,
      `select ${SA_COLUMNS} from smart_account ${tenantId ? 'where tenant_id = ?' : ''} order by domain, id`,
      tenantId ? [tenantId] : [],
    ),
  );
  return rows.map(SmartAccount.from);
}

function scopeClause(ctx: RequestContext): [string, unknown[]] {
  return ctx.viewer.tenantId ? [' and tenant_id = ?', [ctx.viewer.tenantId]] : ['', []];
}

export function loadVirtualAccount(ctx: RequestContext, id: string): Promise<VirtualAccount | null> {
  const [scope, params] = scopeClause(ctx);
  return loadById(
    ctx,
    VA_BY_ID,
    id,
    (ids) =>
      inScope(ctx, (em) =>
        sql<VirtualAccountRow>(em, `select ${VA_COLUMNS} from virtual_account where id = any(?::uuid[])${scope}`, [pgArray(ids), ...params]),
      ),
    (r) => r.id,
    VirtualAccount.from,
  );
}

export function loadVirtualAccountsOf(ctx: RequestContext, smartAccountId: string): Promise<VirtualAccount[]> {
  const [scope, params] = scopeClause(ctx);
  return loadGroup(
    ctx,
    VA_BY_ACCOUNT,
    smartAccountId,
    (ids) =>
      inScope(ctx, (em) =>
        sql<VirtualAccountRow>(
          em,
          `select ${VA_COLUMNS} from virtual_account where smart_account_id = any(?::uuid[])${scope} order by name, id`,
          [pgArray(ids), ...params],
        ),
      ),
    (r) => r.smart_account_id,
    VirtualAccount.from,
  );
}

const SA_BY_ID = Symbol('smart-account-by-id');

/** A smart account the viewer can see, or null; batched per request. */
export function loadSmartAccount(ctx: RequestContext, id: string): Promise<SmartAccount | null> {
  const [scope, params] = scopeClause(ctx);
  return loadById(
    ctx,
    SA_BY_ID,
    id,
    (ids) =>
      inScope(ctx, (em) =>
        sql<SmartAccountRow>(em, `select ${SA_COLUMNS} from smart_account where id = any(?::uuid[])${scope}`, [pgArray(ids), ...params]),
      ),
    (r) => r.id,
    SmartAccount.from,
  );
}

export function findSmartAccount(ctx: RequestContext, idArg: string): Promise<SmartAccount | null> {
  return loadSmartAccount(ctx, parseIdArg(idArg, 'SmartAccount', 'id'));
}
