import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Role, Roles } from '../../auth/roles';
import { isProvider } from '../../auth/viewer';
import type { RequestContext } from '../../common/context';
import { reportingClock } from '../alerts/alert.service';
import { requireTenant } from '../tenants/tenant.service';
import { Tenant } from '../tenants/tenant.types';
import * as offline from './offline.service';
import { loadSettings, publicSettings, setLicenseSyncMode } from './sync-settings.service';
import * as sync from './sync.service';
import {
  GenerateUsageReportInput,
  LicenseSummaryUpload,
  LicenseSyncSettings,
  SetLicenseSyncModeInput,
  SynchronizeLicensesInput,
  SyncRun,
  SyncRunConnection,
  UploadFileInput,
  UsageReport,
  UsageReportConnection,
} from './sync.types';
import { COST, fixed, perUploadedByte } from '../../common/cost';

const SYNC_ROLES = [Role.PROVIDER_ADMIN, Role.PROVIDER_OPERATOR, Role.TENANT_ADMIN];

async function withRuns(ctx: RequestContext, settings: LicenseSyncSettings): Promise<LicenseSyncSettings> {
  const { last, next } = await sync.lastRunAndNext(ctx);
  settings.lastSync = last;
  settings.nextSyncAt = next;
  settings.reportingClock = ctx.viewer.tenantId ? await reportingClock(ctx, ctx.viewer.tenantId) : null;
  return settings;
}

@Resolver(() => SyncRun)
export class SyncResolver {
  @Authorized(Roles.anyone)
  @Query(() => LicenseSyncSettings, { description: 'Mode, server, proxy and keys (no secrets), last and next sync.' })
  async licenseSyncSettings(@Ctx() ctx: RequestContext): Promise<LicenseSyncSettings> {
    return withRuns(ctx, publicSettings(await loadSettings(ctx), isProvider(ctx.viewer)));
  }

  @Authorized(Roles.providerAdmin)
  @Mutation(() => LicenseSyncSettings, { description: 'How this instance talks to the license server.' })
  async setLicenseSyncMode(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => SetLicenseSyncModeInput) input: SetLicenseSyncModeInput,
  ): Promise<LicenseSyncSettings> {
    return withRuns(ctx, publicSettings(await setLicenseSyncMode(ctx, input), true));
  }

  @Authorized(SYNC_ROLES)
  @Mutation(() => SyncRun, {
    description: 'Online/on-prem: sync now. A sync already running for the tenant is returned instead.',
    complexity: fixed(COST.licenseSync),
  })
  synchronizeLicenses(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => SynchronizeLicensesInput, { nullable: true }) input?: SynchronizeLicensesInput,
  ): Promise<SyncRun> {
    return sync.synchronizeLicenses(ctx, input?.tenantId);
  }

  @Authorized(Roles.anyone)
  @Query(() => SyncRunConnection, { description: 'Sync runs, newest first.' })
  syncRuns(
    @Ctx() ctx: RequestContext,
    @Arg('tenantId', () => ID, { nullable: true }) tenantId?: string,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<SyncRunConnection> {
    return sync.listSyncRuns(ctx, { tenantId, first, after });
  }

  @Authorized(Roles.admins)
  @Mutation(() => LicenseSummaryUpload, { description: 'Offline: the signed license summary file from the license server.', complexity: perUploadedByte() })
  uploadLicenseSummary(@Ctx() ctx: RequestContext, @Arg('input', () => UploadFileInput) input: UploadFileInput): Promise<LicenseSummaryUpload> {
    return offline.uploadLicenseSummary(ctx, input);
  }

  @Authorized(SYNC_ROLES)
  @Mutation(() => UsageReport, { description: 'Offline: builds the usage report file to carry to the license server.', complexity: fixed(COST.usageReport) })
  generateUsageReport(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => GenerateUsageReportInput) input: GenerateUsageReportInput,
  ): Promise<UsageReport> {
    return offline.generateUsageReport(ctx, input);
  }

  @Authorized(Roles.admins)
  @Mutation(() => UsageReport, { description: 'Offline: the acknowledgement file the license server returned.', complexity: perUploadedByte() })
  uploadAcknowledgement(@Ctx() ctx: RequestContext, @Arg('input', () => UploadFileInput) input: UploadFileInput): Promise<UsageReport> {
    return offline.uploadAcknowledgement(ctx, input);
  }

  @Authorized(Roles.anyone)
  @Query(() => UsageReportConnection, { description: 'Usage reports, newest first.' })
  usageReports(
    @Ctx() ctx: RequestContext,
    @Arg('tenantId', () => ID, { nullable: true }) tenantId?: string,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ): Promise<UsageReportConnection> {
    return offline.listUsageReports(ctx, { tenantId, first, after });
  }

  @FieldResolver(() => Tenant)
  tenant(@Root() run: SyncRun, @Ctx() ctx: RequestContext): Promise<Tenant> {
    return requireTenant(ctx, run.tenantId);
  }
}

@Resolver(() => UsageReport)
export class UsageReportResolver {
  @FieldResolver(() => Tenant)
  tenant(@Root() report: UsageReport, @Ctx() ctx: RequestContext): Promise<Tenant> {
    return requireTenant(ctx, report.tenantId);
  }
}
