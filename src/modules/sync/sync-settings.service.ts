import type { EntityManager } from '@mikro-orm/postgresql';
import type { RequestContext } from '../../common/context';
import { badInput } from '../../common/errors';
import { inScope } from '../../db/scope';
import { sql } from '../../db/sql';
import { SsmClient } from '../../ssm/client';
import { keyId, parsePublicKeyPem } from '../../ssm/files/signing';
import { recordAudit } from '../audit/audit.service';
import { SyncMode } from './sync.enums';
import { LicenseSyncSettings, type SetLicenseSyncModeInput } from './sync.types';

export interface SettingsRow {
  mode: SyncMode;
  server_url: string | null;
  client_id: string | null;
  client_secret_enc: string | null;
  proxy_url: string | null;
  proxy_username: string | null;
  proxy_password_enc: string | null;
  sync_interval_minutes: number;
  trusted_keys: { keyId: string; publicKey: string }[];
  sync_required_days: number;
  sync_due_soon_days: number;
  prepaid_report_months: number;
  postpaid_report_months: number;
  license_expiring_days: number;
}

const CLOCK_KNOBS = [
  ['syncRequiredDays', 'sync_required_days', 1, 3650],
  ['syncDueSoonDays', 'sync_due_soon_days', 0, 365],
  ['prepaidReportMonths', 'prepaid_report_months', 1, 36],
  ['postpaidReportMonths', 'postpaid_report_months', 1, 36],
  ['licenseExpiringDays', 'license_expiring_days', 1, 365],
] as const;

export async function readSettings(em: EntityManager): Promise<SettingsRow> {
  const [row] = await sql<SettingsRow>(em, 'select * from license_sync_settings');
  return row;
}

export function loadSettings(ctx: RequestContext): Promise<SettingsRow> {
  return inScope(ctx, (em) => readSettings(em));
}

/**
 * The settings as the API shows them: secrets only as flags. Tenant users see the mode and keys,
 * not where or as whom the instance connects (`forProvider` false).
 */
export function publicSettings(row: SettingsRow, forProvider: boolean): LicenseSyncSettings {
  const s = new LicenseSyncSettings();
  s.mode = row.mode;
  s.serverUrl = forProvider ? row.server_url : null;
  s.clientId = forProvider ? row.client_id : null;
  s.hasCredentials = row.client_secret_enc !== null;
  s.proxyUrl = forProvider ? row.proxy_url : null;
  s.hasProxyCredentials = row.proxy_password_enc !== null;
  s.syncIntervalMinutes = row.sync_interval_minutes;
  s.trustedSigningKeys = row.trusted_keys.map((k) => ({ keyId: k.keyId, publicKey: k.publicKey }));
  s.lastSync = null;
  s.nextSyncAt = null;
  s.reportingClock = null;
  s.syncRequiredDays = row.sync_required_days;
  s.prepaidReportMonths = row.prepaid_report_months;
  s.postpaidReportMonths = row.postpaid_report_months;
  return s;
}

function checkUrl(value: string, field: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badInput(`${field} ${JSON.stringify(value.slice(0, 200))} is not a URL`, { field });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw badInput(`${field} must be an http or https URL`, { field });
  if (url.username || url.password) throw badInput(`${field} must not carry credentials; use the credential fields`, { field });
  return url.toString().replace(/\/$/, '');
}

/** Provider admins choose how the instance talks to the license server. */
export async function setLicenseSyncMode(ctx: RequestContext, input: SetLicenseSyncModeInput): Promise<SettingsRow> {
  const { secrets } = ctx.app;
  return inScope(ctx, async (em) => {
    const current = await readSettings(em);
    const next: SettingsRow = { ...current, mode: input.mode };
    if (input.serverUrl !== undefined && input.serverUrl !== null) {
      next.server_url = checkUrl(input.serverUrl, 'serverUrl');
      // The stored secret is never sent to a server it was not entered for.
      if (next.server_url !== current.server_url && current.client_secret_enc && !input.clientSecret) {
        throw badInput('changing serverUrl needs the clientSecret again', { field: 'clientSecret' });
      }
    }
    if (input.clientId !== undefined && input.clientId !== null) {
      if (!/^[\x21-\x7e]{1,200}$/.test(input.clientId)) throw badInput('clientId must be 1 to 200 printable characters', { field: 'clientId' });
      next.client_id = input.clientId;
    }
    if (input.clientSecret) {
      if (input.clientSecret.length > 1000) throw badInput('clientSecret is longer than 1000 characters', { field: 'clientSecret' });
      next.client_secret_enc = secrets.seal(input.clientSecret);
    }
    if (input.proxyUrl !== undefined && input.proxyUrl !== null) {
      next.proxy_url = input.proxyUrl === '' ? null : checkUrl(input.proxyUrl, 'proxyUrl');
      if (input.proxyUrl === '') {
        next.proxy_username = null;
        next.proxy_password_enc = null;
      }
    }
    if (input.proxyUsername !== undefined && input.proxyUsername !== null) next.proxy_username = input.proxyUsername || null;
    if (input.proxyPassword) next.proxy_password_enc = secrets.seal(input.proxyPassword);
    if (input.syncIntervalMinutes !== undefined && input.syncIntervalMinutes !== null) {
      if (!Number.isInteger(input.syncIntervalMinutes) || input.syncIntervalMinutes < 5 || input.syncIntervalMinutes > 525_600) {
        throw badInput('syncIntervalMinutes must be 5 to 525600 (one year)', { field: 'syncIntervalMinutes' });
      }
      next.sync_interval_minutes = input.syncIntervalMinutes;
    }
    if (input.trustedSigningKeys) {
      next.trusted_keys = input.trustedSigningKeys.map((pem, i) => {
        try {
          parsePublicKeyPem(pem);
        } catch {
          throw badInput(`trustedSigningKeys[${i}] is not an Ed25519 public key in PEM form`, { field: 'trustedSigningKeys' });
        }
        return { keyId: keyId(pem), publicKey: pem.trim() };
      });
    }
    for (const [field, column, min, max] of CLOCK_KNOBS) {
      const value = input[field];
      if (value === undefined || value === null) continue;
      if (!Number.isInteger(value) || value < min || value > max) throw badInput(`${field} must be ${min} to ${max}`, { field });
      next[column] = value;
    }
    if (next.mode !== SyncMode.OFFLINE && (!next.server_url || !next.client_id || !next.client_secret_enc)) {
      throw badInput(`${next.mode} needs serverUrl, clientId and clientSecret`, { field: 'mode' });
    }
    await sql(
      em,
      `update license_sync_settings set mode = ?, server_url = ?, client_id = ?, client_secret_enc = ?, proxy_url = ?,
         proxy_username = ?, proxy_password_enc = ?, sync_interval_minutes = ?, trusted_keys = ?::jsonb,
         sync_required_days = ?, sync_due_soon_days = ?, prepaid_report_months = ?, postpaid_report_months = ?,
         license_expiring_days = ?, updated_at = app_now(), updated_by = ?`,
      [
        next.mode, next.server_url, next.client_id, next.client_secret_enc, next.proxy_url, next.proxy_username,
        next.proxy_password_enc, next.sync_interval_minutes, JSON.stringify(next.trusted_keys),
        next.sync_required_days, next.sync_due_soon_days, next.prepaid_report_months, next.postpaid_report_months,
        next.license_expiring_days, ctx.viewer.subject,
      ],
    );
    await recordAudit(ctx, em, {
      tenantId: null,
      action: 'sync.settings_changed',
      targetType: 'Tenant',
      targetIds: [],
      details: {
        mode: next.mode,
        serverUrl: next.server_url,
        proxyUrl: next.proxy_url,
        credentialsChanged: Boolean(input.clientSecret),
        syncIntervalMinutes: next.sync_interval_minutes,
        trustedKeys: next.trusted_keys.map((k) => k.keyId),
      },
    });
    return next;
  });
}

/** A client for the configured license server (online or on-prem), secrets decrypted only here. */
export function clientFor(ctx: RequestContext, settings: SettingsRow): SsmClient {
  if (settings.mode === SyncMode.OFFLINE || !settings.server_url || !settings.client_id || !settings.client_secret_enc) {
    throw badInput('the instance is in OFFLINE mode: upload a license summary file instead');
  }
  let proxyUrl: string | undefined;
  if (settings.proxy_url) {
    const url = new URL(settings.proxy_url);
    if (settings.proxy_username) url.username = encodeURIComponent(settings.proxy_username);
    if (settings.proxy_password_enc) url.password = encodeURIComponent(ctx.app.secrets.open(settings.proxy_password_enc));
    proxyUrl = url.toString();
  }
  return new SsmClient({
    baseUrl: settings.server_url,
    clientId: settings.client_id,
    clientSecret: ctx.app.secrets.open(settings.client_secret_enc),
    proxyUrl,
    extraCa: ctx.app.config.ssmCaCert?.certificates,
    timeoutMs: ctx.app.config.ssmTimeoutMs,
    retries: ctx.app.config.ssmRetries,
    logger: ctx.log,
  });
}
