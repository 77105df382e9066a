import { createHash, randomUUID } from 'node:crypto';
import net from 'node:net';
import { isObjectType } from 'graphql';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { getSchema } from '../src/server/schema';
import {
  buildAck,
  buildLicenseSummary,
  parseUsageReport,
  type DeviceAck,
  type LicenseLine,
  type SmartAccountInfo,
  type SmartAccountRef,
  type VirtualAccountLicenses,
  type VirtualAccountRef,
} from '../src/ssm/files/formats';
import { keyPairFromSeed, publicKeyPem, type Ed25519KeyPair } from '../src/ssm/files/signing';
import { createTenant, deviceInput, registerDevices, REGISTER_DEVICES, type TenantFixture } from './support/fixtures';
import { startTestServer, type GraphQLResponse, type TestServer } from './support/harness';
import { uploadFile } from './support/upload-fixtures';

/**
 * The tenant wall, seen from outside: for every root operation of the schema, a user of tenant A
 * can neither read nor change tenant B's data, and another tenant's id is answered exactly as an id
 * that does not exist. Each operation also gets a positive control (B on its own data, or a provider)
 * so a "nothing visible" answer cannot pass because the operation is simply broken.
 *
 * `crossTenantSuites` is keyed by `<RootType>.<field>`; the last test walks the schema and fails when
 * an operation has no entry here, so a new operation cannot ship without its cross-tenant tests.
 */

const TENANT_ROLES = ['TENANT_ADMIN', 'TENANT_OPERATOR'] as const;
type TenantRole = (typeof TENANT_ROLES)[number];

const VIEWER = '{ viewer { subject role tenant { id slug name } } }';
const TENANTS = `query($first: Int, $after: String) {
  tenants(first: $first, after: $after) { totalCount edges { cursor node { id slug name } } pageInfo { hasNextPage endCursor } }
}`;
const TENANT = 'query($id: ID!) { tenant(id: $id) { id slug name } }';
const TENANT_PAIR = 'query($a: ID!, $b: ID!) { a: tenant(id: $a) { id slug } b: tenant(id: $b) { id slug } }';
const NODE = `query($id: ID!) {
  node(id: $id) { __typename id ... on Tenant { slug name } ... on Device { uuid hostname tenant { id slug } } }
}`;
const DEVICES = `query($tenantId: ID, $filter: DeviceFilter, $first: Int, $after: String) {
  devices(tenantId: $tenantId, filter: $filter, first: $first, after: $after) {
    totalCount
    edges { cursor node { id uuid hostname model kind mode tenant { id slug } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const CREATE_TENANT = 'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id slug } }';

// ---- License domain -------------------------------------------------------------------------

const DNA_T0_E = 'regid.2020-10.com.cisco.DSTACK_T0_E';
const DNA_T1_A = 'regid.2020-10.com.cisco.DSTACK_T1_A';
const DNA_T2_P = 'regid.2020-10.com.cisco.DSTACK_T2_P';
const HSEC_TAG = 'regid.2019-03.com.cisco.HSECK9';
/** Entitlements only B has license lines of (A holds DSTACK_T0_E, as does B's unmanaged lab VA). */
const B_ONLY_TAGS = [DNA_T1_A, DNA_T2_P, HSEC_TAG];

const SA_FIELDS = `id domain name accountId tenant { id }
  virtualAccounts { id externalId name managed smartAccount { id tenant { id } } }`;
const SMART_ACCOUNTS = `query($tenantId: ID) { smartAccounts(tenantId: $tenantId) { ${SA_FIELDS} } }`;
const CONFIGURE_SA = `mutation($input: ConfigureSmartAccountInput!) { configureSmartAccount(input: $input) { ${SA_FIELDS} } }`;
const VA_FIELDS = 'id externalId name managed smartAccount { id tenant { id } }';
const SET_MANAGED = `mutation($input: SetManagedVirtualAccountsInput!) { setManagedVirtualAccounts(input: $input) { ${VA_FIELDS} } }`;
const ENTITLEMENTS = `query($includeUnmanaged: Boolean!) {
  entitlements(includeUnmanaged: $includeUnmanaged) { id tag displayName category level tier managed obsolete assignable }
}`;
const LICENSE_FIELDS = 'id tenant { id } virtualAccount { id } entitlement { tag } billingType subscriptionId quantity inUse available endDate';
const LICENSES = `query($tenantId: ID, $virtualAccountId: ID, $entitlementTag: String, $billingType: BillingType, $first: Int, $after: String) {
  licenses(tenantId: $tenantId, virtualAccountId: $virtualAccountId, entitlementTag: $entitlementTag, billingType: $billingType,
           first: $first, after: $after) {
    totalCount
    edges { cursor node { ${LICENSE_FIELDS} } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const ADD_LICENSES = `mutation($input: AddLicensesInput!) { addLicenses(input: $input) { ${LICENSE_FIELDS} } }`;
const ASSIGNMENT_FIELDS = 'id status category device { id tenant { id } } license { id tenant { id } } entitlement { tag }';
const ASSIGN = `mutation($input: AssignLicensesInput!) {
  assignLicenses(input: $input) { assigned replaced unchanged pending replayed assignments { ${ASSIGNMENT_FIELDS} } }
}`;
const RELEASE = `mutation($input: ReleaseLicensesInput!) {
  releaseLicenses(input: $input) { released unchanged replayed releasedAssignments { ${ASSIGNMENT_FIELDS} } }
}`;
const RECONCILE = `mutation($input: ReconcileAssignmentsInput) {
  reconcileAssignments(input: $input) { reconciled stillPending reconciledAssignments { ${ASSIGNMENT_FIELDS} } }
}`;
const AUDIT_EVENTS = `query($tenantId: ID, $first: Int, $after: String) {
  auditEvents(tenantId: $tenantId, first: $first, after: $after) {
    totalCount
    edges { cursor node { id action actorSubject targetType targetIds details tenant { id } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const DASHBOARD = `query($tenantId: ID) { licenseDashboard(tenantId: $tenantId) { ...Figures tenants { ...Figures } } }
fragment Figures on LicenseDashboard {
  tenant { id slug }
  entitlements { entitlement { tag } billingType lines purchased inUse available }
  devices { total licensed unlicensed pendingReconciliation }
  compliance { compliant outOfCompliance reasons { reason devices } }
  expiring { within30Days within90Days expired }
}`;
const LICENSING_NODE = `query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on SmartAccount { domain name accountId tenant { id } }
    ... on VirtualAccount { externalId name managed }
    ... on License { subscriptionId quantity inUse tenant { id } }
    ... on LicenseAssignment { status device { id } }
    ... on AuditEvent { action targetIds eventTenant: tenant { id } }
    ... on Entitlement { tag displayName }
  }
}`;

interface IdRef {
  id: string;
}

// ---- License-server sync ----------------------------------------------------------------------

const SYNC_RUN_FIELDS = `id tenant { id } mode trigger status startedAt finishedAt requestedBy
  linesAdded linesChanged linesRemoved assignmentsPending assignmentsReconciled usageReported errorMessage`;
const REPORT_FIELDS = `id tenant { id } via status periodStart periodEnd generatedAt generatedBy measurements
  fileDigest fileSize downloadUrl ackId acknowledgedAt acknowledgedSmartAccount acknowledgedVirtualAccount`;
const SETTINGS_FIELDS = `mode serverUrl clientId hasCredentials proxyUrl hasProxyCredentials syncIntervalMinutes
  trustedSigningKeys { keyId publicKey } lastSync { ${SYNC_RUN_FIELDS} } nextSyncAt`;
const SYNC_SETTINGS = `{ licenseSyncSettings { ${SETTINGS_FIELDS} } }`;
const SET_SYNC_MODE = `mutation($input: SetLicenseSyncModeInput!) { setLicenseSyncMode(input: $input) { ${SETTINGS_FIELDS} } }`;
const SYNCHRONIZE = `mutation($input: SynchronizeLicensesInput) { synchronizeLicenses(input: $input) { ${SYNC_RUN_FIELDS} } }`;
const SYNC_RUNS = `query($tenantId: ID, $first: Int, $after: String) {
  syncRuns(tenantId: $tenantId, first: $first, after: $after) {
    totalCount
    edges { cursor node { ${SYNC_RUN_FIELDS} } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const USAGE_REPORTS = `query($tenantId: ID, $first: Int, $after: String) {
  usageReports(tenantId: $tenantId, first: $first, after: $after) {
    totalCount
    edges { cursor node { ${REPORT_FIELDS} } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const UPLOAD_SUMMARY = `mutation($input: UploadFileInput!) {
  uploadLicenseSummary(input: $input) { smartAccount { id accountId tenant { id } } serial generatedAt syncRun { ${SYNC_RUN_FIELDS} } }
}`;
const GENERATE_REPORT = `mutation($input: GenerateUsageReportInput!) { generateUsageReport(input: $input) { ${REPORT_FIELDS} } }`;
const UPLOAD_ACK = `mutation($input: UploadFileInput!) { uploadAcknowledgement(input: $input) { ${REPORT_FIELDS} } }`;
const SYNC_NODE = `query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on SyncRun { trigger runStatus: status runTenant: tenant { id } }
    ... on UsageReport { reportStatus: status fileDigest reportTenant: tenant { id } }
  }
}`;

// ---- Alerts and the reporting clock --------------------------------------------------------------

const ALERT_FIELDS = `id tenant { id slug } kind severity subjectType subjectId message details raisedAt
  acknowledgedAt acknowledgedBy resolvedAt active`;
const ALERTS = `query($tenantId: ID, $active: Boolean, $first: Int, $after: String) {
  alerts(tenantId: $tenantId, active: $active, first: $first, after: $after) {
    totalCount
    edges { cursor node { ${ALERT_FIELDS} } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const ACKNOWLEDGE_ALERT = `mutation($id: ID!) { acknowledgeAlert(id: $id) { ${ALERT_FIELDS} } }`;
const LICENSE_ALERTS = `subscription($tenantId: ID) { licenseAlerts(tenantId: $tenantId) { ${ALERT_FIELDS} } }`;
const ALERT_NODE = `query($id: ID!) {
  node(id: $id) { __typename id ... on Alert { kind message acknowledgedAt alertTenant: tenant { id } } }
}`;
const CLOCK_FIELDS = 'lastSyncAt syncDueAt lastPrepaidReportAt prepaidReportDueAt lastPostpaidReportAt postpaidReportDueAt';
const DASHBOARD_ALERTS = `query($tenantId: ID) { licenseDashboard(tenantId: $tenantId) { ...Alerting tenants { ...Alerting } } }
fragment Alerting on LicenseDashboard {
  tenant { id }
  alerts { active critical warning unacknowledged byKind { kind count } }
  reportingClock { ${CLOCK_FIELDS} }
}`;
const SETTINGS_CLOCK = `{ licenseSyncSettings { reportingClock { ${CLOCK_FIELDS} } } }`;

interface AlertNode {
  id: string;
  tenant: { id: string; slug: string } | null;
  kind: string;
  severity: string;
  subjectType: string;
  subjectId: string;
  message: string;
  details: Record<string, unknown>;
  raisedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  active: boolean;
}
interface AlertSummaryNode {
  active: number;
  critical: number;
  warning: number;
  unacknowledged: number;
  byKind: { kind: string; count: number }[];
}
interface ReportingClockNode {
  lastSyncAt: string | null;
  syncDueAt: string | null;
  lastPrepaidReportAt: string | null;
  prepaidReportDueAt: string | null;
  lastPostpaidReportAt: string | null;
  postpaidReportDueAt: string | null;
}
interface AlertingDashboard {
  tenant: IdRef | null;
  alerts: AlertSummaryNode;
  reportingClock: ReportingClockNode | null;
  tenants?: AlertingDashboard[] | null;
}
/** Everything one graphql-ws subscription delivered: results, a terminal error, completion. */
interface SubscriptionOutcome {
  results: FormattedExecutionResult<Record<string, unknown>, unknown>[];
  error: unknown;
  completed: boolean;
  /** Still open when we stopped waiting: the subscription was accepted. */
  stillOpen: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Seed of the license server's signing key in these tests; the provider trusts its public key. */
const LICENSE_SERVER_SEED = 'tenant-isolation-license-server';
/** Secrets a provider stores; no API answer may ever contain them. */
const CLIENT_SECRET = 'client-secret-7f3a-never-returned';
const PROXY_PASSWORD = 'proxy-password-91c2-never-returned';

const ALPHA_ACCOUNT: SmartAccountInfo = { accountId: 'ALPHA-SA-1', domain: 'alpha.example', name: 'Alpha SA' };
const BRAVO_ACCOUNT: SmartAccountInfo = { accountId: 'BRAVO-SA-1', domain: 'bravo-secret.example', name: 'Bravo Secret SA' };
const BRAVO_ACCOUNT_REF: SmartAccountRef = { accountId: BRAVO_ACCOUNT.accountId, name: BRAVO_ACCOUNT.name };
const BRAVO_PROD_VA: VirtualAccountRef = { id: 'VA-PROD-7731', name: 'Bravo Production' };
/** The license server's key pair; the provider trusts its public key for offline files. */
const SIGNER: Ed25519KeyPair = keyPairFromSeed(LICENSE_SERVER_SEED);
const TRUSTED_KEY = publicKeyPem(SIGNER.publicKey);

interface SyncRunNode {
  id: string;
  tenant: IdRef;
  mode: string;
  trigger: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  requestedBy: string;
  linesAdded: number;
  linesChanged: number;
  linesRemoved: number;
  assignmentsPending: number;
  assignmentsReconciled: number;
  usageReported: number;
  errorMessage: string | null;
}
interface UsageReportNode {
  id: string;
  tenant: IdRef;
  via: string;
  status: string;
  periodStart: string;
  periodEnd: string;
  generatedAt: string;
  generatedBy: string;
  measurements: number;
  fileDigest: string | null;
  fileSize: number | null;
  downloadUrl: string | null;
  ackId: string | null;
  acknowledgedAt: string | null;
  acknowledgedSmartAccount: string | null;
  acknowledgedVirtualAccount: string | null;
}
interface SyncSettingsNode {
  mode: string;
  serverUrl: string | null;
  clientId: string | null;
  hasCredentials: boolean;
  proxyUrl: string | null;
  hasProxyCredentials: boolean;
  syncIntervalMinutes: number;
  trustedSigningKeys: { keyId: string; publicKey: string }[];
  lastSync: SyncRunNode | null;
  nextSyncAt: string | null;
}
interface SummaryUploadNode {
  smartAccount: { id: string; accountId: string; tenant: IdRef };
  serial: number;
  generatedAt: string;
  syncRun: SyncRunNode;
}
interface SyncNodeData {
  node: {
    __typename: string;
    id: string;
    trigger?: string;
    runStatus?: string;
    reportStatus?: string;
    fileDigest?: string | null;
    runTenant?: IdRef;
    reportTenant?: IdRef;
  } | null;
}
/** A report file as the download route answered it. */
interface Download {
  status: number;
  contentType: string | null;
  body: Buffer;
}

/** One license line of a summary file, as the license server describes it. */
function fileLine(lineId: string, entitlementTag: string, subscriptionId: string, quantity: number): LicenseLine {
  return {
    lineId,
    entitlementTag,
    billingType: 'PREPAID',
    billingModel: 'A_LA_CARTE',
    subscriptionId,
    licenseType: 'TERM',
    quantity,
    inUse: 0,
    startDate: '2020-01-01',
    endDate: '2099-12-31',
  };
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** A TCP port on 127.0.0.1 that nothing listens on: a license server (and proxy) that cannot be reached. */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

interface VirtualAccountNode {
  id: string;
  externalId: string;
  name: string;
  managed: boolean;
  smartAccount: { id: string; tenant: IdRef };
}
interface SmartAccountNode {
  id: string;
  domain: string;
  name: string;
  accountId: string;
  tenant: IdRef;
  virtualAccounts: VirtualAccountNode[];
}
interface EntitlementNode {
  id: string;
  tag: string;
  displayName: string;
  category: string;
  level: string | null;
  tier: string | null;
  managed: boolean;
  obsolete: boolean;
  assignable: boolean;
}
interface LicenseNode {
  id: string;
  tenant: IdRef;
  virtualAccount: IdRef;
  entitlement: { tag: string };
  billingType: string;
  subscriptionId: string;
  quantity: number;
  inUse: number;
  available: number | null;
  endDate: string;
}
interface AssignmentNode {
  id: string;
  status: string;
  category: string;
  device: { id: string; tenant: IdRef };
  license: { id: string; tenant: IdRef } | null;
  entitlement: { tag: string };
}
interface AuditEventNode {
  id: string;
  action: string;
  actorSubject: string;
  targetType: string;
  targetIds: string[];
  details: Record<string, unknown>;
  tenant: IdRef;
}
interface Page<T> {
  totalCount: number;
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}
interface UsageFigure {
  tag: string;
  billingType: string;
  lines: number;
  purchased: number;
  inUse: number;
  available: number | null;
}
interface DashboardFigures {
  entitlements: UsageFigure[];
  devices: { total: number; licensed: number; unlicensed: number; pendingReconciliation: number };
  compliance: { compliant: number; outOfCompliance: number; reasons: { reason: string; devices: number }[] };
  expiring: { within30Days: number; within90Days: number; expired: number };
}
interface DashboardNode extends Omit<DashboardFigures, 'entitlements'> {
  tenant: { id: string; slug: string } | null;
  entitlements: { entitlement: { tag: string }; billingType: string; lines: number; purchased: number; inUse: number; available: number | null }[];
  tenants?: DashboardNode[] | null;
}
interface AssignPayload {
  assigned: number;
  replaced: number;
  unchanged: number;
  pending: number;
  replayed: boolean;
  assignments: AssignmentNode[];
}
interface ReleasePayload {
  released: number;
  unchanged: number;
  replayed: boolean;
  releasedAssignments: AssignmentNode[];
}
interface ReconcilePayload {
  reconciled: number;
  stillPending: number;
  reconciledAssignments: AssignmentNode[];
}
interface LicensingNodeData {
  node: ({ __typename: string; id: string } & Record<string, unknown>) | null;
}
interface LicenseLineInput {
  virtualAccountId: string;
  entitlementTag: string;
  billingType: 'PREPAID' | 'POSTPAID';
  billingModel: 'A_LA_CARTE' | 'ENTERPRISE_AGREEMENT' | 'MSLA_U' | 'MSLA_C';
  subscriptionId: string;
  licenseType: 'TERM' | 'DEMO';
  quantity: number;
  startDate: string;
  endDate: string;
}
interface AccountInput {
  tenantId?: string;
  domain: string;
  name: string;
  accountId: string;
  virtualAccounts?: { externalId: string; name: string }[];
}

type GlobalType =
  | 'Tenant'
  | 'Device'
  | 'Entitlement'
  | 'SmartAccount'
  | 'VirtualAccount'
  | 'License'
  | 'LicenseAssignment'
  | 'AuditEvent'
  | 'SyncRun'
  | 'UsageReport'
  | 'Alert';

/** The API's global id for a database uuid: base64url("<Type>:<uuid>"), as documented for node(id:). */
function globalIdOf(type: GlobalType, uuid: string): string {
  return Buffer.from(`${type}:${uuid}`, 'utf8').toString('base64url');
}

/** The uuid inside a global id. */
function uuidOf(globalId: string): string {
  return Buffer.from(globalId, 'base64url').toString('utf8').split(':')[1];
}

function licenseLine(virtualAccountId: string, entitlementTag: string, subscriptionId: string, quantity: number, overrides: Partial<LicenseLineInput> = {}): LicenseLineInput {
  return {
    virtualAccountId,
    entitlementTag,
    billingType: 'PREPAID',
    billingModel: 'A_LA_CARTE',
    subscriptionId,
    licenseType: 'TERM',
    quantity,
    startDate: '2020-01-01',
    endDate: '2099-12-31',
    ...overrides,
  };
}

/** A date `days` from today (UTC), as a LocalDate. */
function inDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

const sorted = (values: readonly string[]): string[] => [...values].sort();

/**
 * All errors (messages, paths and extensions) with each probed value replaced by a placeholder
 * naming its position: what is left must not depend on whose ids they were.
 */
function errorsWithout(res: GraphQLResponse<unknown>, probed: readonly string[]): unknown {
  let text = JSON.stringify(res.body.errors ?? []);
  probed.forEach((value, i) => {
    text = text.split(value).join(`<probe${i}>`);
  });
  return JSON.parse(text) as unknown;
}

interface TenantNode {
  id: string;
  slug: string;
  name?: string;
}
interface DeviceNode {
  id: string;
  uuid: string;
  hostname: string;
  model: string;
  kind: string;
  mode: string;
  tenant: TenantNode;
}
interface DevicesData {
  devices: {
    totalCount: number;
    edges: { cursor: string; node: DeviceNode }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}
interface NodeData {
  node: ({ __typename: string; id: string } & Partial<TenantNode> & Partial<DeviceNode>) | null;
}
interface RegisterData {
  registerDevices: { created: number; updated: number; devices: { id: string; uuid: string; hostname: string; tenant: TenantNode }[] };
}

interface AlphaWorld {
  smartAccountId: string;
  vaId: string;
  licenseId: string;
  /** Device global ids by chassis uuid. */
  devices: Record<string, string>;
  assignmentIds: string[];
}
interface BravoWorld {
  smartAccountId: string;
  /** Managed virtual account. */
  vaProdId: string;
  /** Unmanaged virtual account. */
  vaLabId: string;
  licenseIds: string[];
  devices: Record<string, string>;
  assignmentIds: string[];
}

/** A well-formed global id for something that does not exist (ids are otherwise taken from responses). */
function missingGlobalId(type: GlobalType): string {
  return Buffer.from(`${type}:${randomUUID()}`, 'utf8').toString('base64url');
}

/** Errors with the probed id blanked out: what is left must not depend on whose id it was. */
function errorShape(res: GraphQLResponse<unknown>, probedId: string) {
  return (res.body.errors ?? []).map((e) => ({
    code: e.extensions?.code,
    message: e.message.split(probedId).join('<id>'),
    path: e.path,
  }));
}

describe('tenant isolation', () => {
  let server: TestServer;
  let a: TenantFixture;
  let b: TenantFixture;
  /** B's device ids as the API returned them to B's admin. */
  let bDeviceIds: string[];
  /** A's and B's license worlds (smart/virtual accounts, license lines, assignments), built via the API. */
  let alpha: AlphaWorld;
  let bravo: BravoWorld;

  const tokenA = (role: TenantRole) => server.token(role, a.uuid, { sub: `alice-${role}` });
  const tokenB = (role: TenantRole) => server.token(role, b.uuid, { sub: `bob-${role}` });

  async function deviceRows(tenantUuid: string) {
    return server.sql<Record<string, unknown>>(
      `select id, uuid, hostname, system_ip, model, kind, mode, software_version, site_id, hsec_compatible, created_at, updated_at,
              decommissioned_at, decommissioned_by
         from device where tenant_id = $1 order by uuid, id`,
      [tenantUuid],
    );
  }
  async function hostnamesOf(tenantUuid: string): Promise<string[]> {
    const rows = await server.sql<{ hostname: string }>('select hostname from device where tenant_id = $1 order by hostname, id', [tenantUuid]);
    return rows.map((r) => r.hostname);
  }
  async function deviceCount(): Promise<number> {
    const [row] = await server.sql<{ n: number }>('select count(*)::int as n from device');
    return row.n;
  }

  /** Everything of one tenant's license domain, and its devices, as stored (read as the owner, bypassing RLS). */
  async function licensingRows(tenantUuid: string): Promise<Record<string, unknown[]>> {
    const out: Record<string, unknown[]> = { device: await deviceRows(tenantUuid) };
    for (const table of ['smart_account', 'virtual_account', 'license', 'assignment', 'idempotency_key', 'audit_event', 'sync_run', 'usage_report', 'usage_report_chunk', 'alert', 'license_usage_interval']) {
      const rows = await server.sql<{ row: unknown }>(
        `select to_jsonb(t) as row from ${table} t where tenant_id = $1 order by to_jsonb(t)::text`,
        [tenantUuid],
      );
      out[table] = rows.map((r) => r.row);
    }
    return out;
  }

  /** Runs `attempt` and checks that not one stored row of the given tenants changed. */
  async function expectUntouched<T>(tenants: readonly TenantFixture[], attempt: () => Promise<T>): Promise<T> {
    const before = await Promise.all(tenants.map((t) => licensingRows(t.uuid)));
    const result = await attempt();
    const after = await Promise.all(tenants.map((t) => licensingRows(t.uuid)));
    tenants.forEach((t, i) => expect({ tenant: t.slug, rows: after[i] }).toEqual({ tenant: t.slug, rows: before[i] }));
    return result;
  }

  async function count(text: string, params: unknown[] = []): Promise<number> {
    const [row] = await server.sql<{ n: number }>(text, params);
    return row.n;
  }

  async function idsOf(type: GlobalType, table: string, tenantUuid: string): Promise<string[]> {
    const rows = await server.sql<{ id: string }>(`select id from ${table} where tenant_id = $1`, [tenantUuid]);
    return sorted(rows.map((r) => globalIdOf(type, r.id)));
  }

  /** Global ids of a tenant's alerts (every tenant's for null), optionally only open or only resolved ones, from the table. */
  async function alertIdsOf(tenantUuid: string | null, active?: boolean): Promise<string[]> {
    const where = [
      tenantUuid ? 'tenant_id = $1' : 'true',
      active === undefined ? 'true' : active ? 'resolved_at is null' : 'resolved_at is not null',
    ].join(' and ');
    const rows = await server.sql<{ id: string }>(`select id from alert where ${where}`, tenantUuid ? [tenantUuid] : []);
    return sorted(rows.map((r) => globalIdOf('Alert', r.id)));
  }

  /** Global id of the oldest alert of a tenant of the given kind, from the table. */
  async function alertOf(t: TenantFixture, kind: string): Promise<string> {
    const rows = await server.sql<{ id: string }>('select id from alert where tenant_id = $1 and kind = $2 order by raised_at, id limit 1', [t.uuid, kind]);
    if (!rows[0]) throw new Error(`${t.slug} has no ${kind} alert`);
    return globalIdOf('Alert', rows[0].id);
  }

  /** The dashboard's alert summary computed here from the table (all tenants when `tenantUuid` is null), kinds sorted. */
  async function expectedAlertSummary(tenantUuid: string | null): Promise<AlertSummaryNode> {
    const where = `resolved_at is null ${tenantUuid ? 'and tenant_id = $1' : ''}`;
    const params = tenantUuid ? [tenantUuid] : [];
    const [totals] = await server.sql<{ active: number; critical: number; warning: number; unacknowledged: number }>(
      `select count(*)::int as active, count(*) filter (where severity = 'CRITICAL')::int as critical,
              count(*) filter (where severity = 'WARNING')::int as warning,
              count(*) filter (where acknowledged_at is null)::int as unacknowledged
         from alert where ${where}`,
      params,
    );
    const byKind = await server.sql<{ kind: string; count: number }>(
      `select kind, count(*)::int as count from alert where ${where} group by kind order by kind`,
      params,
    );
    return { ...totals, byKind };
  }

  /** An alert summary the API returned, kinds sorted as in expectedAlertSummary. */
  const summaryOf = (s: AlertSummaryNode): AlertSummaryNode => ({ ...s, byKind: [...s.byKind].sort((x, y) => x.kind.localeCompare(y.kind)) });

  /**
   * Last sync and sync deadline of a tenant computed here from its rows: the newest successful sync run
   * or acknowledged report, and from it (or, before any, from when the smart account was recorded) the
   * instance's required sync interval.
   */
  async function expectedSyncClock(tenantUuid: string): Promise<Pick<ReportingClockNode, 'lastSyncAt' | 'syncDueAt'>> {
    const [row] = await server.sql<{ last_sync: string | null; account_since: string | null; days: number }>(
      `select to_json(greatest((select max(finished_at) from sync_run where tenant_id = $1 and status = 'SUCCEEDED'),
                               (select max(acknowledged_at) from usage_report where tenant_id = $1 and status = 'ACKNOWLEDGED'))) #>> '{}' as last_sync,
              to_json((select created_at from smart_account where tenant_id = $1)) #>> '{}' as account_since,
              (select sync_required_days from license_sync_settings) as days`,
      [tenantUuid],
    );
    const base = row.last_sync ?? row.account_since;
    return {
      lastSyncAt: row.last_sync ? new Date(row.last_sync).toISOString() : null,
      syncDueAt: base ? new Date(new Date(base).getTime() + row.days * 86_400_000).toISOString() : null,
    };
  }

  // ---- graphql-ws subscriptions ---------------------------------------------------------------------

  /** Open graphql-ws clients; each suite that opens some disposes them after each test. */
  const wsClients: Client[] = [];
  function wsClient(token: string): Client {
    const client = createClient({
      url: server.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
    });
    wsClients.push(client);
    return client;
  }
  async function disposeWsClients(): Promise<void> {
    await Promise.all(wsClients.splice(0).map((c) => c.dispose()));
  }

  /** A live licenseAlerts subscription recording, in order, every alert it is sent and anything else that arrives. */
  interface AlertFeed {
    alerts: AlertNode[];
    /** Results with errors, a terminal error, or completion: nothing of the sort is expected of a live feed. */
    problems: unknown[];
  }
  function followAlerts(token: string, tenantId?: string): AlertFeed {
    const feed: AlertFeed = { alerts: [], problems: [] };
    wsClient(token).subscribe<{ licenseAlerts: AlertNode }>(
      { query: LICENSE_ALERTS, variables: { tenantId } },
      {
        next: (result) => {
          if (result.errors || !result.data) feed.problems.push(result);
          else feed.alerts.push(result.data.licenseAlerts);
        },
        error: (err) => feed.problems.push(err),
        complete: () => feed.problems.push('completed'),
      },
    );
    return feed;
  }

  /** What subscribing to licenseAlerts(tenantId) answers within `waitMs`: refused (results/error, then closed) or still open. */
  async function subscriptionOutcome(token: string, tenantId: string, waitMs: number): Promise<SubscriptionOutcome> {
    const outcome: SubscriptionOutcome = { results: [], error: null, completed: false, stillOpen: false };
    const client = wsClient(token);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        outcome.stillOpen = true;
        resolve();
      }, waitMs);
      client.subscribe(
        { query: LICENSE_ALERTS, variables: { tenantId } },
        {
          next: (result) => outcome.results.push(result),
          error: (err) => {
            outcome.error = err;
            clearTimeout(timer);
            resolve();
          },
          complete: () => {
            outcome.completed = true;
            clearTimeout(timer);
            resolve();
          },
        },
      );
    });
    return outcome;
  }

  /** The first GraphQL error of a subscription outcome, whether it came as a result or as the terminal error. */
  function firstErrorOf(outcome: SubscriptionOutcome): { message: string; extensions?: Record<string, unknown> } | undefined {
    const fromResult = outcome.results.find((r) => r.errors?.length)?.errors?.[0];
    if (fromResult) return fromResult;
    return Array.isArray(outcome.error) ? (outcome.error[0] as { message: string; extensions?: Record<string, unknown> }) : undefined;
  }

  /** A subscription outcome with each probed value replaced by a placeholder naming its position. */
  function outcomeWithout(outcome: SubscriptionOutcome, probed: readonly string[]): unknown {
    let text = JSON.stringify({ results: outcome.results, error: outcome.error, completed: outcome.completed, stillOpen: outcome.stillOpen });
    probed.forEach((value, i) => {
      text = text.split(value).join(`<probe${i}>`);
    });
    return JSON.parse(text) as unknown;
  }

  /** Waits until `done()`, calling `nudge` (if given) between checks; fails naming `what` after `ms`. */
  async function until(what: string, done: () => boolean, nudge?: () => Promise<unknown>, ms = 15_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      if (nudge) await nudge();
      await sleep(nudge ? 150 : 20);
    }
  }

  /** Data of a call that must succeed (world setup and positive controls). */
  async function ok<T>(query: string, variables: Record<string, unknown>, token: string): Promise<T> {
    const res = await server.graphql<T>(query, variables, token);
    if (res.body.errors || !res.body.data) throw new Error(`expected success, got ${JSON.stringify(res.body.errors)}`);
    return res.body.data;
  }

  /**
   * `query` with B's tenant id (global and bare-uuid spellings) is refused with `code`, and answered
   * exactly as the same call naming a tenant that does not exist; nothing of B shows.
   */
  async function expectTenantIdRefusedLikeMissing(
    query: string,
    variablesFor: (tenantId: string) => Record<string, unknown>,
    token: string,
    code: string,
  ): Promise<void> {
    for (const [bId, missing] of [
      [b.id, missingGlobalId('Tenant')],
      [b.uuid, randomUUID()],
    ]) {
      const forB = await server.graphql(query, variablesFor(bId), token);
      const forMissing = await server.graphql(query, variablesFor(missing), token);
      expect(forB.body.data ?? null).toBeNull();
      expect(forB.body.errors?.[0].extensions?.code).toBe(code);
      expect(errorsWithout(forB, [bId])).toEqual(errorsWithout(forMissing, [missing]));
      expect(JSON.stringify(forB.body)).not.toMatch(/bravo/i);
    }
  }

  /** Figures of the license dashboard computed here from the tables (all tenants when `tenantUuid` is null). */
  async function expectedDashboard(tenantUuid: string | null): Promise<DashboardFigures> {
    const params = tenantUuid ? [tenantUuid] : [];
    const usage = await server.sql<UsageFigure>(
      `select e.tag, l.billing_type as "billingType", count(*)::int as lines, sum(l.quantity)::int as purchased,
              sum(u.n)::int as "inUse",
              case when l.billing_type = 'PREPAID' then sum(greatest(l.quantity - u.n, 0))::int end as available
         from license l join entitlement e on e.id = l.entitlement_id
        cross join lateral (select count(*)::int as n from assignment a
                             where a.license_id = l.id and a.released_at is null) u
        where l.end_date >= current_date ${tenantUuid ? 'and l.tenant_id = $1' : ''}
        group by e.tag, l.billing_type`,
      params,
    );
    const [devices] = await server.sql<{ total: number; licensed: number; pending: number }>(
      `select count(*)::int as total,
              count(*) filter (where exists (select 1 from assignment a where a.device_id = d.id and a.category = 'DNA'
                                              and a.status = 'ACTIVE' and a.released_at is null))::int as licensed,
              count(*) filter (where exists (select 1 from assignment a where a.device_id = d.id
                                              and a.status = 'PENDING_RECONCILIATION' and a.released_at is null))::int as pending
         from device d ${tenantUuid ? 'where d.tenant_id = $1' : ''}`,
      params,
    );
    const [compliance] = await server.sql<{ compliant: number }>(
      `select count(*) filter (where cardinality(c.reasons) = 0)::int as compliant
         from device_compliance c ${tenantUuid ? 'where c.tenant_id = $1' : ''}`,
      params,
    );
    const reasons = await server.sql<{ reason: string; devices: number }>(
      `select r.reason, count(*)::int as devices from device_compliance c cross join lateral unnest(c.reasons) as r(reason)
         ${tenantUuid ? 'where c.tenant_id = $1' : ''} group by r.reason`,
      params,
    );
    const [expiring] = await server.sql<DashboardFigures['expiring']>(
      `select count(*) filter (where l.end_date >= current_date and l.end_date < current_date + 30)::int as "within30Days",
              count(*) filter (where l.end_date >= current_date and l.end_date < current_date + 90)::int as "within90Days",
              count(*) filter (where l.end_date < current_date)::int as expired
         from license l ${tenantUuid ? 'where l.tenant_id = $1' : ''}`,
      params,
    );
    return {
      entitlements: sortUsage(usage),
      devices: {
        total: devices.total,
        licensed: devices.licensed,
        unlicensed: devices.total - devices.licensed,
        pendingReconciliation: devices.pending,
      },
      compliance: {
        compliant: compliance.compliant,
        outOfCompliance: devices.total - compliance.compliant,
        reasons: [...reasons].sort((x, y) => x.reason.localeCompare(y.reason)),
      },
      expiring,
    };
  }

  function sortUsage(usage: UsageFigure[]): UsageFigure[] {
    return [...usage].sort((x, y) => x.tag.localeCompare(y.tag) || x.billingType.localeCompare(y.billingType));
  }

  /** The figures of a dashboard the API returned, in the shape of expectedDashboard. */
  function figuresOf(d: DashboardNode): DashboardFigures {
    return {
      entitlements: sortUsage(
        d.entitlements.map((e) => ({
          tag: e.entitlement.tag,
          billingType: e.billingType,
          lines: e.lines,
          purchased: e.purchased,
          inUse: e.inUse,
          available: e.available,
        })),
      ),
      devices: d.devices,
      compliance: { ...d.compliance, reasons: [...d.compliance.reasons].sort((x, y) => x.reason.localeCompare(y.reason)) },
      expiring: d.expiring,
    };
  }

  async function dashboardOf(token: string, tenantId?: string): Promise<DashboardNode> {
    return (await ok<{ licenseDashboard: DashboardNode }>(DASHBOARD, { tenantId }, token)).licenseDashboard;
  }

  async function assign(token: string, input: Record<string, unknown>): Promise<AssignPayload> {
    return (await ok<{ assignLicenses: AssignPayload }>(ASSIGN, { input }, token)).assignLicenses;
  }

  async function configureAccount(token: string, input: AccountInput): Promise<SmartAccountNode> {
    return (await ok<{ configureSmartAccount: SmartAccountNode }>(CONFIGURE_SA, { input }, token)).configureSmartAccount;
  }

  async function manage(token: string, virtualAccountIds: string[], tenantId?: string): Promise<VirtualAccountNode[]> {
    return (await ok<{ setManagedVirtualAccounts: VirtualAccountNode[] }>(SET_MANAGED, { input: { tenantId, virtualAccountIds } }, token))
      .setManagedVirtualAccounts;
  }

  async function addLines(tenant: TenantFixture, licenses: LicenseLineInput[]): Promise<LicenseNode[]> {
    return (await ok<{ addLicenses: LicenseNode[] }>(ADD_LICENSES, { input: { tenantId: tenant.id, licenses } }, server.token('PROVIDER_ADMIN')))
      .addLicenses;
  }

  // ---- License-server sync world ----------------------------------------------------------------

  interface SyncWorld {
    /** Where the configured license server and proxy would be: nothing listens there. */
    unreachablePort: number;
    /** B's accepted license summary file and the FILE run it made; A's likewise. */
    bSummaryFile: Buffer;
    aRun: SyncRunNode;
    bRun: SyncRunNode;
    /** One offline usage report each, still GENERATED, and its file as downloaded by its owner. */
    aReport: UsageReportNode;
    bReport: UsageReportNode;
    aReportFile: Buffer;
    bReportFile: Buffer;
  }
  let sw: SyncWorld;
  let syncWorldBuilt: Promise<SyncWorld> | undefined;
  /** Every summary file gets a serial above all earlier ones, so no file is a replay by accident. */
  let summarySerial = 0;

  const providerAdmin = () => server.token('PROVIDER_ADMIN', undefined, { sub: 'pat-PROVIDER_ADMIN' });

  function summaryFile(account: SmartAccountInfo, virtualAccounts: VirtualAccountLicenses[]): Promise<Buffer> {
    return buildLicenseSummary({ smartAccount: account, serial: ++summarySerial, virtualAccounts }, SIGNER.privateKey);
  }
  const alphaSummary = () =>
    summaryFile(ALPHA_ACCOUNT, [{ id: 'VA-ALPHA-MAIN', name: 'Alpha Main', licenses: [fileLine('ALPHA-LINE-1', DNA_T0_E, 'ALPHA-FILE-SUB-1', 2)] }]);
  const bravoSummary = () =>
    summaryFile(BRAVO_ACCOUNT, [{ ...BRAVO_PROD_VA, licenses: [fileLine('BRAVO-LINE-1', DNA_T1_A, 'BRAVO-FILE-SUB-1', 6)] }]);

  /** Variables of uploadLicenseSummary / uploadAcknowledgement for a file. */
  const upload = (file: Buffer, tenantId?: string) => ({ input: { tenantId, fileName: 'file.tar.gz', contentBase64: file.toString('base64') } });
  /** The same call with the file sent as a multipart upload (GraphQL multipart request spec, `input.file`). */
  const uploadAsFile = (query: string, file: Buffer, tenantId: string | undefined, token: string) =>
    uploadFile(server.url, token, query, { input: { tenantId, fileName: 'file.tar.gz', file: null } }, 'input.file', file);

  async function uploadSummary(token: string, file: Buffer, tenantId?: string): Promise<SummaryUploadNode> {
    return (await ok<{ uploadLicenseSummary: SummaryUploadNode }>(UPLOAD_SUMMARY, upload(file, tenantId), token)).uploadLicenseSummary;
  }

  async function generateReport(token: string, input: Record<string, unknown> = {}): Promise<UsageReportNode> {
    return (await ok<{ generateUsageReport: UsageReportNode }>(GENERATE_REPORT, { input }, token)).generateUsageReport;
  }

  async function download(id: string, token: string | null, method: 'GET' | 'HEAD' = 'GET'): Promise<Download> {
    const res = await fetch(`${server.origin}/files/usage-reports/${id}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, contentType: res.headers.get('content-type'), body: Buffer.from(await res.arrayBuffer()) };
  }

  /** A download answer with the probed id blanked out: what is left must not depend on whose id it was. */
  const downloadWithout = (res: Download, probedId: string) => ({
    status: res.status,
    contentType: res.contentType,
    body: res.body.toString('utf8').split(probedId).join('<id>'),
  });

  /** The report's file through its download URL, as `token` gets it. */
  async function reportFile(report: UsageReportNode, token: string): Promise<Buffer> {
    expect(report.downloadUrl).toBe(`/files/usage-reports/${report.id}`);
    const res = await download(report.id, token);
    if (res.status !== 200) throw new Error(`download of ${report.id} failed: ${res.status} ${res.body.toString('utf8')}`);
    return res.body;
  }

  /**
   * The signed ACK the license server returns for an imported report file: one device ack per device of
   * the file, the file's digest, and `reportId` (the report's own id, or another one to probe with).
   */
  async function ackFile(reportId: string, reportBytes: Buffer, account: SmartAccountRef, va: VirtualAccountRef): Promise<Buffer> {
    const { measurements } = await parseUsageReport(reportBytes);
    const devices = new Map<string, DeviceAck>();
    for (const m of measurements) {
      const device = devices.get(m.deviceUuid) ?? { deviceUuid: m.deviceUuid, hostname: m.hostname, measurements: 0, status: 'ACCEPTED' };
      device.measurements += 1;
      devices.set(m.deviceUuid, device);
    }
    return buildAck(
      {
        ackId: randomUUID(),
        reportId,
        reportDigest: sha256(reportBytes),
        acknowledgedAt: new Date().toISOString(),
        smartAccount: account,
        virtualAccount: va,
        measurements: measurements.length,
        devices: [...devices.values()],
      },
      SIGNER.privateKey,
    );
  }

  /** Fails when `body` contains a stored secret or its ciphertext (and when one is not stored: the check would be void). */
  async function expectNoSecretsIn(body: unknown): Promise<void> {
    const [row] = await server.sql<{ client_secret_enc: string | null; proxy_password_enc: string | null }>(
      'select client_secret_enc, proxy_password_enc from license_sync_settings',
    );
    expect({ clientSecretStored: row.client_secret_enc !== null, proxyPasswordStored: row.proxy_password_enc !== null }).toEqual({
      clientSecretStored: true,
      proxyPasswordStored: true,
    });
    const secrets = [CLIENT_SECRET, PROXY_PASSWORD, row.client_secret_enc ?? '', row.proxy_password_enc ?? ''];
    const text = JSON.stringify(body);
    expect({ leaked: secrets.filter((secret) => text.includes(secret)) }).toEqual({ leaked: [] });
  }

  /**
   * The sync settings and data both tenants' sync suites work on, built through the API: a provider
   * stores license-server credentials and a proxy password (ONLINE), then switches to OFFLINE trusting
   * the license server's key; A and then B upload a signed license summary (FILE runs, B's the newest)
   * and generate an offline usage report each. Built once, when the first sync suite starts: after the
   * license-domain suites above, whose figures and audit trails it would otherwise change.
   */
  async function buildSyncWorld(): Promise<SyncWorld> {
    const unreachablePort = await closedPort();
    await ok(
      SET_SYNC_MODE,
      {
        input: {
          mode: 'ONLINE',
          serverUrl: `http://127.0.0.1:${unreachablePort}`,
          clientId: 'slm-isolation-client',
          clientSecret: CLIENT_SECRET,
          proxyUrl: `http://127.0.0.1:${unreachablePort}`,
          proxyUsername: 'proxy-user',
          proxyPassword: PROXY_PASSWORD,
        },
      },
      providerAdmin(),
    );
    const offline = await ok<{ setLicenseSyncMode: SyncSettingsNode }>(
      SET_SYNC_MODE,
      { input: { mode: 'OFFLINE', trustedSigningKeys: [TRUSTED_KEY] } },
      providerAdmin(),
    );
    expect(offline.setLicenseSyncMode).toMatchObject({ mode: 'OFFLINE', hasCredentials: true, hasProxyCredentials: true });

    const aUpload = await uploadSummary(tokenA('TENANT_ADMIN'), await alphaSummary());
    const bSummaryFile = await bravoSummary();
    const bUpload = await uploadSummary(tokenB('TENANT_ADMIN'), bSummaryFile);
    expect([aUpload.syncRun, bUpload.syncRun]).toMatchObject([
      { tenant: { id: a.id }, mode: 'OFFLINE', trigger: 'FILE', status: 'SUCCEEDED' },
      { tenant: { id: b.id }, mode: 'OFFLINE', trigger: 'FILE', status: 'SUCCEEDED' },
    ]);
    const aReport = await generateReport(tokenA('TENANT_ADMIN'));
    const bReport = await generateReport(tokenB('TENANT_ADMIN'));
    expect([aReport, bReport]).toMatchObject([
      { tenant: { id: a.id }, via: 'OFFLINE', status: 'GENERATED' },
      { tenant: { id: b.id }, via: 'OFFLINE', status: 'GENERATED' },
    ]);
    expect(bReport.measurements).toBeGreaterThan(0);
    return {
      unreachablePort,
      bSummaryFile,
      aRun: aUpload.syncRun,
      bRun: bUpload.syncRun,
      aReport,
      bReport,
      aReportFile: await reportFile(aReport, tokenA('TENANT_ADMIN')),
      bReportFile: await reportFile(bReport, tokenB('TENANT_ADMIN')),
    };
  }

  /** For the sync suites: builds the sync world on first use, and makes it `sw`. */
  function useSyncWorld(): void {
    beforeAll(async () => {
      syncWorldBuilt ??= buildSyncWorld();
      sw = await syncWorldBuilt;
    });
  }

  /**
   * Both license worlds, built through the API the way customers and the provider would:
   * a trial assignment pending reconciliation, a smart account with virtual accounts (some managed),
   * license lines added by the provider, and assignments. B's differs from A's in every figure.
   */
  async function buildLicenseWorlds(aDevices: { id: string; uuid: string }[]): Promise<void> {
    const adminA = tokenA('TENANT_ADMIN');
    const adminB = tokenB('TENANT_ADMIN');
    // Devices of B's own for positive controls that change assignments (all run 17.9.3a, >= 17.3.2).
    const bExtra = await registerDevices(server, adminB, [5, 6, 7, 8].map((n) =>
      deviceInput(60 + n, { uuid: `BRAVO-LIC-${n}`, hostname: `bravo-lic-${n}.example`, hsecCompatible: true }),
    ));
    const aDevice = Object.fromEntries(aDevices.map((d) => [d.uuid, d.id]));
    const bAll = await server.sql<{ id: string; uuid: string }>('select id, uuid from device where tenant_id = $1', [b.uuid]);
    const bDevice = Object.fromEntries(bAll.map((d) => [d.uuid, globalIdOf('Device', d.id)]));
    expect(bExtra.map((d) => d.id)).toEqual([5, 6, 7, 8].map((n) => bDevice[`BRAVO-LIC-${n}`]));

    // Trial: before any smart account, default entitlements wait for reconciliation.
    const aPending = await assign(adminA, { deviceIds: [aDevice['ALPHA-0003']], level: 'ADVANTAGE', tier: 'T1' });
    const bPending = await assign(adminB, { deviceIds: [bDevice['BRAVO-0003']], level: 'ADVANTAGE', tier: 'T1' });
    expect([aPending.pending, bPending.pending]).toEqual([1, 1]);

    const aAccount = await configureAccount(adminA, {
      domain: 'alpha.example',
      name: 'Alpha SA',
      accountId: 'ALPHA-SA-1',
      virtualAccounts: [{ externalId: 'VA-ALPHA-MAIN', name: 'Alpha Main' }],
    });
    const bAccount = await configureAccount(adminB, {
      domain: 'bravo-secret.example',
      name: 'Bravo Secret SA',
      accountId: 'BRAVO-SA-1',
      virtualAccounts: [
        { externalId: 'VA-PROD-7731', name: 'Bravo Production' },
        { externalId: 'VA-LAB-7732', name: 'Bravo Lab' },
      ],
    });
    const vaOf = (account: SmartAccountNode, externalId: string): string =>
      account.virtualAccounts.find((v) => v.externalId === externalId)?.id ?? '';
    const aVa = vaOf(aAccount, 'VA-ALPHA-MAIN');
    const bProd = vaOf(bAccount, 'VA-PROD-7731');
    const bLab = vaOf(bAccount, 'VA-LAB-7732');
    await manage(adminA, [aVa]);
    await manage(adminB, [bProd]);

    const [aLine] = await addLines(a, [licenseLine(aVa, DNA_T0_E, 'ALPHA-SUB-1', 3)]);
    const bLines = await addLines(b, [
      licenseLine(bProd, DNA_T1_A, 'BRAVO-SUB-1', 8),
      licenseLine(bProd, HSEC_TAG, 'BRAVO-SUB-2', 3, { billingModel: 'ENTERPRISE_AGREEMENT' }),
      licenseLine(bProd, DNA_T2_P, 'BRAVO-MSLA-1', 0, { billingType: 'POSTPAID', billingModel: 'MSLA_U', endDate: inDays(20) }),
      // In the unmanaged VA: kept and shown, never offered for assignment.
      licenseLine(bLab, DNA_T0_E, 'BRAVO-SUB-LAB', 7),
    ]);

    const aActive = await assign(adminA, { deviceIds: [aDevice['ALPHA-0001']], level: 'ESSENTIALS', tier: 'T0' });
    const bActive = await assign(adminB, {
      deviceIds: [bDevice['BRAVO-0001'], bDevice['BRAVO-LIC-5']],
      level: 'ADVANTAGE',
      tier: 'T1',
      idempotencyKey: 'bravo-assign-1',
    });
    const bHsec = await assign(adminB, { deviceIds: [bDevice['BRAVO-SHARED']], hsec: true });
    expect([aActive.assigned, bActive.assigned, bHsec.assigned]).toEqual([1, 2, 1]);

    alpha = {
      smartAccountId: aAccount.id,
      vaId: aVa,
      licenseId: aLine.id,
      devices: aDevice,
      assignmentIds: [...aPending.assignments, ...aActive.assignments].map((x) => x.id),
    };
    bravo = {
      smartAccountId: bAccount.id,
      vaProdId: bProd,
      vaLabId: bLab,
      licenseIds: bLines.map((l) => l.id),
      devices: bDevice,
      assignmentIds: [...bPending.assignments, ...bActive.assignments, ...bHsec.assignments].map((x) => x.id),
    };
  }

  beforeAll(async () => {
    server = await startTestServer();
    a = await createTenant(server, 'iso-alpha', 'Alpha Networks');
    b = await createTenant(server, 'iso-bravo', 'Bravo Secret Corp');
    const aDevices = await registerDevices(server, server.token('TENANT_ADMIN', a.uuid), [
      deviceInput(1, { uuid: 'ALPHA-0001', hostname: 'alpha-edge-1.example' }),
      deviceInput(2, { uuid: 'ALPHA-0002', hostname: 'alpha-edge-2.example' }),
      deviceInput(3, { uuid: 'ALPHA-0003', hostname: 'alpha-edge-3.example' }),
    ]);
    // B's devices each have something A's lack: a model, a kind, a mode, a hostname word.
    const bDevices = await registerDevices(server, server.token('TENANT_ADMIN', b.uuid), [
      deviceInput(11, { uuid: 'BRAVO-0001', hostname: 'bravo-core-1.example', model: 'C8500-12X' }),
      deviceInput(12, { uuid: 'BRAVO-0002', hostname: 'bravo-vedge-2.example', model: 'vEdge-2000', kind: 'VEDGE', hsecCompatible: false }),
      deviceInput(13, { uuid: 'BRAVO-0003', hostname: 'bravo-auto-3.example', mode: 'AUTONOMOUS' }),
      deviceInput(14, { uuid: 'BRAVO-SHARED', hostname: 'bravo-shared.example' }),
    ]);
    bDeviceIds = bDevices.map((d) => d.id);
    await buildLicenseWorlds(aDevices);
  });
  afterAll(async () => {
    await disposeWsClients();
    await server?.close();
  });

  const crossTenantSuites: Record<string, () => void> = {
    'Query.viewer': () => {
      it.each(TENANT_ROLES)("shows a %s of A only A's tenant, and B's user only B's", async (role) => {
        const mine = await server.graphql<{ viewer: { role: string; tenant: TenantNode | null } }>(VIEWER, {}, tokenA(role));
        expect(mine.body.errors).toBeUndefined();
        expect(mine.body.data!.viewer).toMatchObject({ role, tenant: { id: a.id, slug: a.slug, name: 'Alpha Networks' } });
        const theirs = await server.graphql<{ viewer: { role: string; tenant: TenantNode | null } }>(VIEWER, {}, tokenB(role));
        expect(theirs.body.data!.viewer).toMatchObject({ role, tenant: { id: b.id, slug: b.slug } });
      });
    },

    'Query.tenants': () => {
      it.each(TENANT_ROLES)('lists only A for a %s of A, and only B for B', async (role) => {
        const mine = await server.graphql<{ tenants: { totalCount: number; edges: { node: TenantNode }[] } }>(TENANTS, { first: 100 }, tokenA(role));
        expect(mine.body.errors).toBeUndefined();
        expect(mine.body.data!.tenants.totalCount).toBe(1);
        expect(mine.body.data!.tenants.edges.map((e) => e.node.id)).toEqual([a.id]);
        const theirs = await server.graphql<{ tenants: { totalCount: number; edges: { node: TenantNode }[] } }>(TENANTS, { first: 100 }, tokenB(role));
        expect(theirs.body.data!.tenants.edges.map((e) => e.node.id)).toEqual([b.id]);
      });

      it("does not reveal B to A when A pages with a cursor positioned just before B's slug", async () => {
        const provider = await server.graphql<{ tenants: { edges: { cursor: string; node: TenantNode }[] } }>(
          TENANTS,
          { first: 100 },
          server.token('PROVIDER_OPERATOR'),
        );
        const edges = provider.body.data!.tenants.edges;
        const bIndex = edges.findIndex((e) => e.node.id === b.id);
        expect(bIndex).toBeGreaterThan(0);
        const cursorBeforeB = edges[bIndex - 1].cursor;
        // Control: the cursor does lead a provider to B.
        const providerNext = await server.graphql<{ tenants: { edges: { node: TenantNode }[] } }>(
          TENANTS,
          { first: 1, after: cursorBeforeB },
          server.token('PROVIDER_OPERATOR'),
        );
        expect(providerNext.body.data!.tenants.edges.map((e) => e.node.id)).toEqual([b.id]);
        for (const role of TENANT_ROLES) {
          const res = await server.graphql<{ tenants: { totalCount: number; edges: { node: TenantNode }[] } }>(
            TENANTS,
            { first: 100, after: cursorBeforeB },
            tokenA(role),
          );
          expect(res.body.errors).toBeUndefined();
          expect(res.body.data!.tenants.edges.map((e) => e.node.id)).not.toContain(b.id);
          expect(res.body.data!.tenants.totalCount).toBe(1);
        }
      });
    },

    'Query.tenant': () => {
      it.each(TENANT_ROLES)("answers a %s of A null for B's id, exactly as for a nonexistent id", async (role) => {
        const missing = missingGlobalId('Tenant');
        const forB = await server.graphql(TENANT, { id: b.id }, tokenA(role));
        const forMissing = await server.graphql(TENANT, { id: missing }, tokenA(role));
        expect(forB.body).toEqual({ data: { tenant: null } });
        expect(forMissing.body).toEqual({ data: { tenant: null } });
        // The bare uuid form is accepted as an id too; it must not be a way around the wall.
        expect((await server.graphql(TENANT, { id: b.uuid }, tokenA(role))).body).toEqual({ data: { tenant: null } });
        const own = await server.graphql<{ tenant: TenantNode | null }>(TENANT, { id: a.id }, tokenA(role));
        expect(own.body.data!.tenant).toMatchObject({ id: a.id, slug: a.slug });
      });

      it.each(TENANT_ROLES)('lets a %s of B read B by id', async (role) => {
        const res = await server.graphql<{ tenant: TenantNode | null }>(TENANT, { id: b.id }, tokenB(role));
        expect(res.body.data!.tenant).toEqual({ id: b.id, slug: b.slug, name: 'Bravo Secret Corp' });
      });

      it('answers A and B in one batched request per tenant: A gets its own tenant and null for B', async () => {
        const res = await server.graphql<{ a: TenantNode | null; b: TenantNode | null }>(
          TENANT_PAIR,
          { a: a.id, b: b.id },
          tokenA('TENANT_OPERATOR'),
        );
        expect(res.body.errors).toBeUndefined();
        expect(res.body.data).toEqual({ a: { id: a.id, slug: a.slug }, b: null });
        const provider = await server.graphql<{ a: TenantNode | null; b: TenantNode | null }>(
          TENANT_PAIR,
          { a: a.id, b: b.id },
          server.token('PROVIDER_OPERATOR'),
        );
        expect(provider.body.data).toEqual({ a: { id: a.id, slug: a.slug }, b: { id: b.id, slug: b.slug } });
      });
    },

    'Query.node': () => {
      it.each(TENANT_ROLES)("answers a %s of A null for B's tenant and B's devices, exactly as for nonexistent ids", async (role) => {
        const token = tokenA(role);
        const missingTenant = await server.graphql(NODE, { id: missingGlobalId('Tenant') }, token);
        const missingDevice = await server.graphql(NODE, { id: missingGlobalId('Device') }, token);
        expect(missingTenant.body).toEqual({ data: { node: null } });
        expect(missingDevice.body).toEqual({ data: { node: null } });
        expect((await server.graphql(NODE, { id: b.id }, token)).body).toEqual(missingTenant.body);
        for (const id of bDeviceIds) {
          expect((await server.graphql(NODE, { id }, token)).body).toEqual(missingDevice.body);
        }
      });

      it.each(TENANT_ROLES)("lets a %s of B fetch B's tenant and devices by id", async (role) => {
        const tenant = await server.graphql<NodeData>(NODE, { id: b.id }, tokenB(role));
        expect(tenant.body.data!.node).toMatchObject({ __typename: 'Tenant', id: b.id, slug: b.slug });
        for (const id of bDeviceIds) {
          const device = await server.graphql<NodeData>(NODE, { id }, tokenB(role));
          expect(device.body.errors).toBeUndefined();
          expect(device.body.data!.node).toMatchObject({ __typename: 'Device', id, tenant: { id: b.id } });
        }
      });

      it("lets a provider fetch B's devices by the same ids that A cannot see", async () => {
        const res = await server.graphql<NodeData>(NODE, { id: bDeviceIds[0] }, server.token('PROVIDER_OPERATOR'));
        expect(res.body.data!.node).toMatchObject({ __typename: 'Device', uuid: 'BRAVO-0001', tenant: { id: b.id } });
      });

      /** Every object of B's license domain, by type, with its global id as the API hands it out. */
      const bLicensingObjects = async (): Promise<[GlobalType, string][]> => [
        ['SmartAccount', bravo.smartAccountId],
        ['VirtualAccount', bravo.vaProdId],
        ['VirtualAccount', bravo.vaLabId],
        ...bravo.licenseIds.map((id): [GlobalType, string] => ['License', id]),
        ...bravo.assignmentIds.map((id): [GlobalType, string] => ['LicenseAssignment', id]),
        ...(await idsOf('AuditEvent', 'audit_event', b.uuid)).map((id): [GlobalType, string] => ['AuditEvent', id]),
      ];

      it.each(TENANT_ROLES)(
        "answers a %s of A null for each of B's smart account, virtual accounts, licenses, assignments and audit events, exactly as for a random id of the type",
        async (role) => {
          const token = tokenA(role);
          const objects = await bLicensingObjects();
          expect(objects.filter(([type]) => type === 'AuditEvent').length).toBeGreaterThan(0);
          for (const [type, id] of objects) {
            const forMissing = await server.graphql(LICENSING_NODE, { id: missingGlobalId(type) }, token);
            const forB = await server.graphql(LICENSING_NODE, { id }, token);
            expect(forMissing.body).toEqual({ data: { node: null } });
            expect({ type, id, body: forB.body }).toEqual({ type, id, body: forMissing.body });
          }
        },
      );

      it.each(TENANT_ROLES)("lets a %s of B fetch each of B's license-domain objects by the ids A got null for", async (role) => {
        for (const [type, id] of await bLicensingObjects()) {
          const res = await server.graphql<LicensingNodeData>(LICENSING_NODE, { id }, tokenB(role));
          expect(res.body.errors).toBeUndefined();
          expect({ type, node: res.body.data!.node }).toMatchObject({ type, node: { __typename: type, id } });
        }
      });

      it.each(TENANT_ROLES)("lets a %s of A fetch A's own smart account, virtual account, license and assignments", async (role) => {
        const own: [GlobalType, string][] = [
          ['SmartAccount', alpha.smartAccountId],
          ['VirtualAccount', alpha.vaId],
          ['License', alpha.licenseId],
          ...alpha.assignmentIds.map((id): [GlobalType, string] => ['LicenseAssignment', id]),
        ];
        for (const [type, id] of own) {
          const res = await server.graphql<LicensingNodeData>(LICENSING_NODE, { id }, tokenA(role));
          expect({ type, node: res.body.data!.node }).toMatchObject({ type, node: { __typename: type, id } });
        }
      });

      it("lets a provider fetch B's license-domain objects by the same ids that A cannot see", async () => {
        for (const [type, id] of await bLicensingObjects()) {
          const res = await server.graphql<LicensingNodeData>(LICENSING_NODE, { id }, server.token('PROVIDER_OPERATOR'));
          expect({ type, node: res.body.data!.node }).toMatchObject({ type, node: { __typename: type, id } });
        }
      });

      it.each(TENANT_ROLES)("answers a %s of A null for each of B's alerts, exactly as for a random Alert id, under any spelling of the id", async (role) => {
        const ids = await alertIdsOf(b.uuid);
        // B's world raised alerts of its own: devices out of compliance, a pending assignment, a line near its end.
        expect(ids.length).toBeGreaterThanOrEqual(3);
        const forMissing = await server.graphql(ALERT_NODE, { id: missingGlobalId('Alert') }, tokenA(role));
        expect(forMissing.body).toEqual({ data: { node: null } });
        for (const id of ids) {
          for (const spelling of [id, globalIdOf('Alert', uuidOf(id).toUpperCase()), Buffer.from(`Alert:${uuidOf(id)}`).toString('base64')]) {
            const forB = await server.graphql(ALERT_NODE, { id: spelling }, tokenA(role));
            expect({ spelling, body: forB.body }).toEqual({ spelling, body: forMissing.body });
          }
        }
      });

      it.each(TENANT_ROLES)("lets a %s of B fetch each of B's alerts by the ids A got null for, and A its own", async (role) => {
        for (const [t, token] of [
          [b, tokenB(role)],
          [a, tokenA(role)],
        ] as const) {
          const ids = await alertIdsOf(t.uuid);
          expect(ids.length).toBeGreaterThan(0);
          for (const id of ids) {
            const res = await server.graphql<LicensingNodeData>(ALERT_NODE, { id }, token);
            expect(res.body.errors).toBeUndefined();
            expect(res.body.data!.node).toMatchObject({ __typename: 'Alert', id, alertTenant: { id: t.id } });
          }
        }
      });

      it("lets a provider fetch B's alerts by the same ids that A cannot see", async () => {
        for (const id of await alertIdsOf(b.uuid)) {
          const res = await server.graphql<LicensingNodeData>(ALERT_NODE, { id }, server.token('PROVIDER_OPERATOR'));
          expect(res.body.data!.node).toMatchObject({ __typename: 'Alert', id, alertTenant: { id: b.id } });
        }
      });

      it('resolves an entitlement of the global catalog by id to the same node for A, B and a provider', async () => {
        // Entitlements are global reference data, not tenant-owned: the one B bought is visible to A too.
        const catalog = (await ok<{ entitlements: EntitlementNode[] }>(ENTITLEMENTS, { includeUnmanaged: true }, tokenB('TENANT_OPERATOR')))
          .entitlements;
        const bought = catalog.find((e) => e.tag === DNA_T1_A);
        expect(bought).toBeDefined();
        const answers = [];
        for (const token of [tokenA('TENANT_OPERATOR'), tokenA('TENANT_ADMIN'), tokenB('TENANT_OPERATOR'), server.token('PROVIDER_OPERATOR')]) {
          answers.push((await server.graphql<LicensingNodeData>(LICENSING_NODE, { id: bought!.id }, token)).body);
        }
        expect(answers[0]).toEqual({
          data: { node: { __typename: 'Entitlement', id: bought!.id, tag: DNA_T1_A, displayName: 'Routing DNA Advantage: Tier 1' } },
        });
        for (const other of answers.slice(1)) expect(other).toEqual(answers[0]);
      });
    },

    'Query.devices': () => {
      it.each(TENANT_ROLES)(
        'answers a %s of A NOT_FOUND for devices(tenantId: B), worded exactly as for a nonexistent tenant',
        async (role) => {
          const token = tokenA(role);
          const missing = missingGlobalId('Tenant');
          const forMissing = await server.graphql(DEVICES, { tenantId: missing }, token);
          const forB = await server.graphql(DEVICES, { tenantId: b.id }, token);
          expect(forB.body.data ?? null).toBeNull();
          expect(forB.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
          expect(errorShape(forB, b.id)).toEqual(errorShape(forMissing, missing));
          expect(JSON.stringify(forB.body)).not.toMatch(/bravo/i);
          // Same for the bare-uuid spelling of the id.
          const missingUuid = randomUUID();
          const forBUuid = await server.graphql(DEVICES, { tenantId: b.uuid }, token);
          const forMissingUuid = await server.graphql(DEVICES, { tenantId: missingUuid }, token);
          expect(forBUuid.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
          expect(errorShape(forBUuid, b.uuid)).toEqual(errorShape(forMissingUuid, missingUuid));
        },
      );

      it.each(TENANT_ROLES)('lists only its own devices for a %s of A and of B, with or without its own tenantId', async (role) => {
        for (const [t, token] of [
          [a, tokenA(role)],
          [b, tokenB(role)],
        ] as const) {
          const expected = await hostnamesOf(t.uuid);
          for (const tenantId of [undefined, t.id]) {
            const res = await server.graphql<DevicesData>(DEVICES, { tenantId, first: 100 }, token);
            expect(res.body.errors).toBeUndefined();
            const conn = res.body.data!.devices;
            expect(conn.totalCount).toBe(expected.length);
            expect(conn.edges.map((e) => e.node.hostname)).toEqual(expected);
            expect(new Set(conn.edges.map((e) => e.node.tenant.id))).toEqual(new Set([t.id]));
          }
        }
      });

      it.each([
        ['search on a hostname word only B uses', { search: 'bravo' }],
        ['search on one of B hostnames, in other case', { search: 'BRAVO-CORE-1' }],
        ['a model only B has', { model: 'C8500-12X' }],
        ['a kind only B has', { kind: 'VEDGE' }],
        ['a mode only B has', { mode: 'AUTONOMOUS' }],
      ])("gives A an empty list for a filter matching only B's devices: %s", async (_label, filter) => {
        // Control: B finds its devices with the same filter.
        const forB = await server.graphql<DevicesData>(DEVICES, { filter, first: 100 }, tokenB('TENANT_OPERATOR'));
        expect(forB.body.data!.devices.totalCount).toBeGreaterThan(0);
        for (const role of TENANT_ROLES) {
          const res = await server.graphql<DevicesData>(DEVICES, { filter, first: 100 }, tokenA(role));
          expect(res.body.errors).toBeUndefined();
          expect(res.body.data!.devices).toEqual({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
        }
      });

      it("never shows B's devices to A when A pages with a cursor taken from B's list", async () => {
        const bPage = await server.graphql<DevicesData>(DEVICES, { first: 1 }, tokenB('TENANT_OPERATOR'));
        const cursor = bPage.body.data!.devices.pageInfo.endCursor;
        expect(cursor).toEqual(expect.any(String));
        const res = await server.graphql<DevicesData>(DEVICES, { first: 100, after: cursor }, tokenA('TENANT_OPERATOR'));
        expect(res.body.errors).toBeUndefined();
        expect(res.body.data!.devices.edges.every((e) => e.node.tenant.id === a.id)).toBe(true);
        expect(res.body.data!.devices.totalCount).toBe((await hostnamesOf(a.uuid)).length);
      });

      it('answers BAD_USER_INPUT, not an internal error, for a forged devices cursor', async () => {
        // Cursors are opaque, but nothing stops a client from crafting one; a crafted cursor must be
        // refused as input like any other, never reach SQL as a value of the wrong type.
        const forged = Buffer.from(JSON.stringify(['bravo-core-1.example', 'not-a-uuid']), 'utf8').toString('base64url');
        const res = await server.graphql(DEVICES, { first: 10, after: forged }, tokenA('TENANT_OPERATOR'));
        expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
        expect(res.body.errors?.[0].message).toContain('after');
      });

      it('shows providers both tenants without tenantId, and exactly one tenant with it', async () => {
        for (const role of ['PROVIDER_ADMIN', 'PROVIDER_OPERATOR'] as const) {
          const token = server.token(role);
          const all = await server.graphql<DevicesData>(DEVICES, { first: 100 }, token);
          expect(all.body.errors).toBeUndefined();
          expect(all.body.data!.devices.totalCount).toBe(await deviceCount());
          expect(new Set(all.body.data!.devices.edges.map((e) => e.node.tenant.id))).toEqual(new Set([a.id, b.id]));
          for (const t of [a, b]) {
            const one = await server.graphql<DevicesData>(DEVICES, { tenantId: t.id, first: 100 }, token);
            expect(one.body.errors).toBeUndefined();
            expect(one.body.data!.devices.edges.map((e) => e.node.hostname)).toEqual(await hostnamesOf(t.uuid));
            expect(new Set(one.body.data!.devices.edges.map((e) => e.node.tenant.id))).toEqual(new Set([t.id]));
          }
          const missing = await server.graphql(DEVICES, { tenantId: missingGlobalId('Tenant') }, token);
          expect(missing.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
        }
      });
    },

    'Mutation.registerDevices': () => {
      it.each(TENANT_ROLES)(
        "refuses a %s of A registering into B exactly as into a nonexistent tenant, and leaves B's rows unchanged",
        async (role) => {
          const before = await deviceRows(b.uuid);
          const totalBefore = await deviceCount();
          // One row would update B's existing device, one would create a new one.
          const devices = [
            deviceInput(21, { uuid: 'BRAVO-0001', hostname: 'hijacked.example' }),
            deviceInput(22, { uuid: 'PLANTED-0001', hostname: 'planted.example' }),
          ];
          const missing = missingGlobalId('Tenant');
          const forB = await server.graphql(REGISTER_DEVICES, { input: { tenantId: b.id, devices } }, tokenA(role));
          const forMissing = await server.graphql(REGISTER_DEVICES, { input: { tenantId: missing, devices } }, tokenA(role));
          expect(forB.body.data ?? null).toBeNull();
          expect(forB.body.errors?.[0].extensions?.code).toBe(role === 'TENANT_ADMIN' ? 'NOT_FOUND' : 'FORBIDDEN');
          expect(errorShape(forB, b.id)).toEqual(errorShape(forMissing, missing));
          expect(await deviceRows(b.uuid)).toEqual(before);
          expect(await deviceCount()).toBe(totalBefore);
          expect(await server.sql('select 1 from device where hostname in ($1, $2)', ['hijacked.example', 'planted.example'])).toEqual([]);
        },
      );

      it("creates A's own device when A registers a uuid that B already uses, and leaves B's device untouched", async () => {
        const before = await deviceRows(b.uuid);
        const res = await server.graphql<RegisterData>(
          REGISTER_DEVICES,
          { input: { devices: [deviceInput(31, { uuid: 'BRAVO-SHARED', hostname: 'alpha-shared.example' })] } },
          tokenA('TENANT_ADMIN'),
        );
        expect(res.body.errors).toBeUndefined();
        const payload = res.body.data!.registerDevices;
        expect(payload).toMatchObject({ created: 1, updated: 0 });
        expect(payload.devices[0]).toMatchObject({ uuid: 'BRAVO-SHARED', hostname: 'alpha-shared.example', tenant: { id: a.id } });
        expect(bDeviceIds).not.toContain(payload.devices[0].id);
        expect(await deviceRows(b.uuid)).toEqual(before);
        const rows = await server.sql<{ tenant_id: string; hostname: string }>(
          'select tenant_id, hostname from device where uuid = $1 order by hostname',
          ['BRAVO-SHARED'],
        );
        expect(rows).toEqual([
          { tenant_id: a.uuid, hostname: 'alpha-shared.example' },
          { tenant_id: b.uuid, hostname: 'bravo-shared.example' },
        ]);
        // Each tenant sees its own device under that uuid, and only that one.
        for (const [token, hostname] of [
          [tokenA('TENANT_OPERATOR'), 'alpha-shared.example'],
          [tokenB('TENANT_OPERATOR'), 'bravo-shared.example'],
        ] as const) {
          const list = await server.graphql<DevicesData>(DEVICES, { filter: { search: 'shared' } }, token);
          expect(list.body.data!.devices.edges.map((e) => e.node.hostname)).toEqual([hostname]);
        }
      });

      it('refuses, without an internal error and without writing, a tenant token naming a tenant that does not exist', async () => {
        // e.g. a token still valid for a tenant that was deleted: it belongs to no tenant, so it may
        // write nowhere, and the refusal is a client error the frontend can act on.
        const totalBefore = await deviceCount();
        const ghost = server.token('TENANT_ADMIN', randomUUID());
        const res = await server.graphql(
          REGISTER_DEVICES,
          { input: { devices: [deviceInput(51, { uuid: 'GHOST-0001', hostname: 'ghost.example' })] } },
          ghost,
        );
        expect(res.body.data ?? null).toBeNull();
        expect(res.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
        expect(await deviceCount()).toBe(totalBefore);
        // Reads by such a token see nothing at all.
        const read = await server.graphql<{ viewer: { tenant: TenantNode | null }; devices: { totalCount: number } }>(
          '{ viewer { tenant { id } } devices { totalCount } }',
          {},
          ghost,
        );
        expect(read.body.data).toEqual({ viewer: { tenant: null }, devices: { totalCount: 0 } });
      });

      it("lets B's admin register and then update B's own devices", async () => {
        const token = tokenB('TENANT_ADMIN');
        const first = await server.graphql<RegisterData>(
          REGISTER_DEVICES,
          { input: { tenantId: b.id, devices: [deviceInput(41, { uuid: 'BRAVO-SELF-1', hostname: 'bravo-self-1.example' })] } },
          token,
        );
        expect(first.body.errors).toBeUndefined();
        expect(first.body.data!.registerDevices).toMatchObject({ created: 1, updated: 0 });
        const second = await server.graphql<RegisterData>(
          REGISTER_DEVICES,
          { input: { devices: [deviceInput(41, { uuid: 'BRAVO-SELF-1', hostname: 'bravo-self-renamed.example' })] } },
          token,
        );
        expect(second.body.data!.registerDevices).toMatchObject({ created: 0, updated: 1 });
        expect(second.body.data!.registerDevices.devices[0].tenant.id).toBe(b.id);
        expect(await server.sql('select tenant_id, hostname from device where uuid = $1', ['BRAVO-SELF-1'])).toEqual([
          { tenant_id: b.uuid, hostname: 'bravo-self-renamed.example' },
        ]);
      });
    },

    'Mutation.createTenant': () => {
      it.each(TENANT_ROLES)(
        "answers a %s of A FORBIDDEN whether or not the slug is B's, so tenant slugs cannot be probed",
        async (role) => {
          const taken = await server.graphql(CREATE_TENANT, { input: { name: 'Probe', slug: b.slug } }, tokenA(role));
          const free = await server.graphql(CREATE_TENANT, { input: { name: 'Probe', slug: 'probe-free-slug' } }, tokenA(role));
          expect(taken.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
          expect(errorShape(taken, b.slug)).toEqual(errorShape(free, 'probe-free-slug'));
          expect(await server.sql('select slug, name from tenant where slug in ($1, $2) order by slug', [b.slug, 'probe-free-slug'])).toEqual([
            { slug: b.slug, name: 'Bravo Secret Corp' },
          ]);
        },
      );

      it('does not make a tenant created by a provider visible to A', async () => {
        const created = await server.graphql<{ createTenant: TenantNode }>(
          CREATE_TENANT,
          { input: { name: 'Charlie', slug: 'iso-charlie' } },
          server.token('PROVIDER_ADMIN'),
        );
        expect(created.body.errors).toBeUndefined();
        const c = created.body.data!.createTenant;
        expect((await server.graphql(TENANT, { id: c.id }, tokenA('TENANT_ADMIN'))).body).toEqual({ data: { tenant: null } });
        const list = await server.graphql<{ tenants: { edges: { node: TenantNode }[] } }>(TENANTS, { first: 100 }, tokenA('TENANT_ADMIN'));
        expect(list.body.data!.tenants.edges.map((e) => e.node.id)).toEqual([a.id]);
      });
    },

    'Query.entitlements': () => {
      // The entitlement catalog is global reference data seeded by a migration, not tenant-owned: every
      // viewer reads the same lines, and what a tenant bought never changes them. So the cross-tenant
      // property here is "identical for everyone, and nothing tenant-specific in it", not "hidden".
      it.each([false, true])(
        'gives both tenants (every role) and the providers the same catalog, equal to the seeded table (includeUnmanaged: %s)',
        async (includeUnmanaged) => {
          const seeded = await server.sql<{ tag: string }>(
            `select tag from entitlement ${includeUnmanaged ? '' : 'where managed and not obsolete'} order by sort_order`,
          );
          const tokens = [...TENANT_ROLES.flatMap((r) => [tokenA(r), tokenB(r)]), server.token('PROVIDER_ADMIN'), server.token('PROVIDER_OPERATOR')];
          const answers = [];
          for (const token of tokens) {
            const res = await server.graphql<{ entitlements: EntitlementNode[] }>(ENTITLEMENTS, { includeUnmanaged }, token);
            expect(res.body.errors).toBeUndefined();
            answers.push(res.body.data!.entitlements);
          }
          expect(answers[0].map((e) => e.tag)).toEqual(seeded.map((r) => r.tag));
          for (const other of answers.slice(1)) expect(other).toEqual(answers[0]);
        },
      );

      it("does not change A's catalog when the provider adds B license lines of an entitlement A has none of", async () => {
        const before = await server.graphql(ENTITLEMENTS, { includeUnmanaged: true }, tokenA('TENANT_OPERATOR'));
        const premier = 'regid.2020-10.com.cisco.DSTACK_T3_P';
        const [added] = await addLines(b, [licenseLine(bravo.vaProdId, premier, 'BRAVO-SUB-T3P', 2)]);
        // Control: the line is B's.
        expect(added).toMatchObject({ tenant: { id: b.id }, entitlement: { tag: premier } });
        const after = await server.graphql(ENTITLEMENTS, { includeUnmanaged: true }, tokenA('TENANT_OPERATOR'));
        expect(after.body).toEqual(before.body);
      });
    },

    'Query.smartAccounts': () => {
      it.each(TENANT_ROLES)("lists only A's smart account and A's virtual accounts for a %s of A, with or without A's tenantId", async (role) => {
        const expectedVas = await idsOf('VirtualAccount', 'virtual_account', a.uuid);
        for (const tenantId of [undefined, a.id]) {
          const res = await server.graphql<{ smartAccounts: SmartAccountNode[] }>(SMART_ACCOUNTS, { tenantId }, tokenA(role));
          expect(res.body.errors).toBeUndefined();
          const accounts = res.body.data!.smartAccounts;
          expect(accounts.map((x) => [x.id, x.tenant.id, x.accountId])).toEqual([[alpha.smartAccountId, a.id, 'ALPHA-SA-1']]);
          expect(sorted(accounts[0].virtualAccounts.map((v) => v.id))).toEqual(expectedVas);
          expect(accounts[0].virtualAccounts.every((v) => v.smartAccount.tenant.id === a.id)).toBe(true);
          expect(JSON.stringify(res.body)).not.toMatch(/bravo/i);
        }
      });

      it.each(TENANT_ROLES)('answers a %s of A NOT_FOUND for smartAccounts(tenantId: B), exactly as for a nonexistent tenant', async (role) => {
        await expectTenantIdRefusedLikeMissing(SMART_ACCOUNTS, (tenantId) => ({ tenantId }), tokenA(role), 'NOT_FOUND');
      });

      it.each(TENANT_ROLES)("lets a %s of B list B's smart account with its managed and unmanaged virtual accounts", async (role) => {
        const stored = await server.sql<{ id: string; managed: boolean }>('select id, managed from virtual_account where tenant_id = $1', [b.uuid]);
        const res = await server.graphql<{ smartAccounts: SmartAccountNode[] }>(SMART_ACCOUNTS, {}, tokenB(role));
        expect(res.body.errors).toBeUndefined();
        const [account, ...more] = res.body.data!.smartAccounts;
        expect(more).toEqual([]);
        expect(account).toMatchObject({ id: bravo.smartAccountId, domain: 'bravo-secret.example', accountId: 'BRAVO-SA-1', tenant: { id: b.id } });
        expect(account.virtualAccounts.map((v) => [v.id, v.managed]).sort()).toEqual(
          stored.map((r) => [globalIdOf('VirtualAccount', r.id), r.managed]).sort(),
        );
        expect(account.virtualAccounts.find((v) => v.id === bravo.vaProdId)?.managed).toBe(true);
        expect(account.virtualAccounts.find((v) => v.id === bravo.vaLabId)?.managed).toBe(false);
      });

      it('shows providers every smart account without tenantId, and only B\'s with tenantId B', async () => {
        for (const role of ['PROVIDER_ADMIN', 'PROVIDER_OPERATOR'] as const) {
          const all = await server.graphql<{ smartAccounts: SmartAccountNode[] }>(SMART_ACCOUNTS, {}, server.token(role));
          expect(all.body.errors).toBeUndefined();
          const ids = all.body.data!.smartAccounts.map((x) => x.id);
          expect(ids).toEqual(expect.arrayContaining([alpha.smartAccountId, bravo.smartAccountId]));
          expect(ids.length).toBe(await count('select count(*)::int as n from smart_account'));
          const onlyB = await server.graphql<{ smartAccounts: SmartAccountNode[] }>(SMART_ACCOUNTS, { tenantId: b.id }, server.token(role));
          expect(onlyB.body.data!.smartAccounts.map((x) => x.id)).toEqual([bravo.smartAccountId]);
        }
      });
    },

    'Query.licenses': () => {
      it.each(TENANT_ROLES)("lists exactly A's license lines for a %s of A, with or without A's tenantId", async (role) => {
        const expected = await idsOf('License', 'license', a.uuid);
        expect(expected.length).toBeGreaterThan(0);
        for (const tenantId of [undefined, a.id]) {
          const res = await server.graphql<{ licenses: Page<LicenseNode> }>(LICENSES, { tenantId, first: 100 }, tokenA(role));
          expect(res.body.errors).toBeUndefined();
          const page = res.body.data!.licenses;
          expect(page.totalCount).toBe(expected.length);
          expect(sorted(page.edges.map((e) => e.node.id))).toEqual(expected);
          expect(page.edges.every((e) => e.node.tenant.id === a.id)).toBe(true);
          expect(page.edges.map((e) => e.node.entitlement.tag).filter((tag) => B_ONLY_TAGS.includes(tag))).toEqual([]);
          expect(JSON.stringify(res.body)).not.toMatch(/bravo/i);
        }
      });

      it.each(TENANT_ROLES)('answers a %s of A NOT_FOUND for licenses(tenantId: B), exactly as for a nonexistent tenant', async (role) => {
        await expectTenantIdRefusedLikeMissing(LICENSES, (tenantId) => ({ tenantId, first: 100 }), tokenA(role), 'NOT_FOUND');
      });

      it.each(TENANT_ROLES)(
        "gives a %s of A for B's virtual account ids (managed, unmanaged, bare uuid) exactly the answer for a random virtual account id: no lines",
        async (role) => {
          const forMissing = await server.graphql(LICENSES, { virtualAccountId: missingGlobalId('VirtualAccount'), first: 100 }, tokenA(role));
          expect(forMissing.body).toEqual({
            data: { licenses: { totalCount: 0, edges: [], pageInfo: { hasNextPage: false, endCursor: null } } },
          });
          for (const virtualAccountId of [bravo.vaProdId, bravo.vaLabId, uuidOf(bravo.vaProdId)]) {
            const forB = await server.graphql(LICENSES, { virtualAccountId, first: 100 }, tokenA(role));
            expect(forB.body).toEqual(forMissing.body);
          }
          // Control: B gets its lines by the same ids.
          for (const [virtualAccountId, table] of [
            [bravo.vaProdId, 'VA-PROD-7731'],
            [bravo.vaLabId, 'VA-LAB-7732'],
          ]) {
            const stored = await count(
              'select count(*)::int as n from license l join virtual_account v on v.id = l.virtual_account_id where v.external_id = $1 and v.tenant_id = $2',
              [table, b.uuid],
            );
            expect(stored).toBeGreaterThan(0);
            const forOwner = await server.graphql<{ licenses: Page<LicenseNode> }>(LICENSES, { virtualAccountId, first: 100 }, tokenB(role));
            expect(forOwner.body.data!.licenses.totalCount).toBe(stored);
            expect(forOwner.body.data!.licenses.edges.every((e) => e.node.virtualAccount.id === virtualAccountId)).toBe(true);
          }
        },
      );

      it.each(TENANT_ROLES)(
        'gives a %s of A an empty list for entitlement tags only B holds, and only its own line for a tag both hold',
        async (role) => {
          for (const entitlementTag of B_ONLY_TAGS) {
            const forB = await server.graphql<{ licenses: Page<LicenseNode> }>(LICENSES, { entitlementTag, first: 100 }, tokenB(role));
            expect(forB.body.data!.licenses.totalCount).toBeGreaterThan(0);
            const forA = await server.graphql<{ licenses: Page<LicenseNode> }>(LICENSES, { entitlementTag, first: 100 }, tokenA(role));
            expect(forA.body.errors).toBeUndefined();
            expect(forA.body.data!.licenses).toEqual({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
          }
          const shared = await server.graphql<{ licenses: Page<LicenseNode> }>(LICENSES, { entitlementTag: DNA_T0_E, first: 100 }, tokenA(role));
          expect(shared.body.data!.licenses.edges.map((e) => [e.node.id, e.node.subscriptionId, e.node.quantity])).toEqual([
            [alpha.licenseId, 'ALPHA-SUB-1', 3],
          ]);
          const postpaid = await server.graphql<{ licenses: Page<LicenseNode> }>(LICENSES, { billingType: 'POSTPAID', first: 100 }, tokenA(role));
          expect(postpaid.body.data!.licenses.totalCount).toBe(0);
        },
      );

      it("never shows B's license lines to A when A pages with a cursor taken from B's list", async () => {
        const bPage = await server.graphql<{ licenses: Page<LicenseNode> }>(LICENSES, { first: 1 }, tokenB('TENANT_OPERATOR'));
        const cursor = bPage.body.data!.licenses.pageInfo.endCursor;
        expect(cursor).toEqual(expect.any(String));
        const res = await server.graphql<{ licenses: Page<LicenseNode> }>(LICENSES, { first: 100, after: cursor }, tokenA('TENANT_OPERATOR'));
        expect(res.body.errors).toBeUndefined();
        expect(res.body.data!.licenses.edges.every((e) => e.node.tenant.id === a.id)).toBe(true);
        expect(res.body.data!.licenses.totalCount).toBe((await idsOf('License', 'license', a.uuid)).length);
      });

      it('shows providers the lines of both tenants without tenantId, and exactly B\'s with tenantId B', async () => {
        for (const role of ['PROVIDER_ADMIN', 'PROVIDER_OPERATOR'] as const) {
          const all = await server.graphql<{ licenses: Page<LicenseNode> }>(LICENSES, { first: 100 }, server.token(role));
          expect(all.body.errors).toBeUndefined();
          expect(all.body.data!.licenses.totalCount).toBe(await count('select count(*)::int as n from license'));
          expect(new Set(all.body.data!.licenses.edges.map((e) => e.node.tenant.id))).toEqual(new Set([a.id, b.id]));
          const onlyB = await server.graphql<{ licenses: Page<LicenseNode> }>(LICENSES, { tenantId: b.id, first: 100 }, server.token(role));
          expect(sorted(onlyB.body.data!.licenses.edges.map((e) => e.node.id))).toEqual(await idsOf('License', 'license', b.uuid));
        }
      });
    },

    'Query.licenseDashboard': () => {
      it.each(TENANT_ROLES)(
        "gives a %s of A figures computed from A's rows only (devices, licenses, compliance, expiry), with or without A's tenantId",
        async (role) => {
          const expected = await expectedDashboard(a.uuid);
          // A's own line of DSTACK_T0_E is 3; B also holds 7 of it (unmanaged VA): a leak would show 10.
          expect(expected.entitlements).toEqual([{ tag: DNA_T0_E, billingType: 'PREPAID', lines: 1, purchased: 3, inUse: 1, available: 2 }]);
          for (const tenantId of [undefined, a.id]) {
            const res = await server.graphql<{ licenseDashboard: DashboardNode }>(DASHBOARD, { tenantId }, tokenA(role));
            expect(res.body.errors).toBeUndefined();
            const dashboard = res.body.data!.licenseDashboard;
            expect(dashboard.tenant).toEqual({ id: a.id, slug: a.slug });
            expect(dashboard.tenants).toBeNull();
            expect(figuresOf(dashboard)).toEqual(expected);
            expect(JSON.stringify(res.body)).not.toMatch(/bravo|T1_A|T2_P|HSECK9/i);
          }
        },
      );

      it.each(TENANT_ROLES)('answers a %s of A NOT_FOUND for licenseDashboard(tenantId: B), exactly as for a nonexistent tenant', async (role) => {
        await expectTenantIdRefusedLikeMissing(DASHBOARD, (tenantId) => ({ tenantId }), tokenA(role), 'NOT_FOUND');
      });

      it.each(TENANT_ROLES)("gives a %s of B figures computed from B's rows, equal to what a provider sees for B", async (role) => {
        const expected = await expectedDashboard(b.uuid);
        const mine = await dashboardOf(tokenB(role));
        expect(mine.tenant).toEqual({ id: b.id, slug: b.slug });
        expect(figuresOf(mine)).toEqual(expected);
        expect(expected.devices.pendingReconciliation).toBeGreaterThan(0);
        expect(expected.expiring.within30Days).toBeGreaterThan(0);
        const provider = await dashboardOf(server.token('PROVIDER_OPERATOR'), b.id);
        expect(provider).toEqual(mine);
      });

      it("leaves A's dashboard unchanged when B buys more of A's entitlement and assigns it, while B's figures move", async () => {
        const aBefore = await dashboardOf(tokenA('TENANT_OPERATOR'));
        const bBefore = figuresOf(await dashboardOf(tokenB('TENANT_OPERATOR')));
        await addLines(b, [licenseLine(bravo.vaProdId, DNA_T0_E, 'BRAVO-SUB-T0E', 4)]);
        await assign(tokenB('TENANT_OPERATOR'), { deviceIds: [bravo.devices['BRAVO-LIC-7']], level: 'ESSENTIALS', tier: 'T0' });
        expect(await dashboardOf(tokenA('TENANT_OPERATOR'))).toEqual(aBefore);
        expect(await dashboardOf(tokenA('TENANT_ADMIN'), a.id)).toEqual(aBefore);
        // Control: B's figures did move.
        const bAfter = figuresOf(await dashboardOf(tokenB('TENANT_OPERATOR')));
        const t0 = (f: DashboardFigures) => f.entitlements.find((e) => e.tag === DNA_T0_E && e.billingType === 'PREPAID');
        expect(t0(bAfter)).toEqual({ ...t0(bBefore), lines: 2, purchased: 11, inUse: 1, available: 10 });
        expect(bAfter.devices.licensed).toBe(bBefore.devices.licensed + 1);
      });

      it('gives providers the all-tenant totals without tenantId, with a per-tenant breakdown equal to each tenant\'s own view', async () => {
        for (const role of ['PROVIDER_ADMIN', 'PROVIDER_OPERATOR'] as const) {
          const overall = await dashboardOf(server.token(role));
          expect(overall.tenant).toBeNull();
          expect(figuresOf(overall)).toEqual(await expectedDashboard(null));
          const breakdown = overall.tenants ?? [];
          expect(breakdown.length).toBe(await count('select count(*)::int as n from tenant'));
          const entryOf = (t: TenantFixture) => breakdown.find((d) => d.tenant?.id === t.id);
          expect({ ...entryOf(a), tenants: null }).toEqual(await dashboardOf(tokenA('TENANT_OPERATOR')));
          expect({ ...entryOf(b), tenants: null }).toEqual(await dashboardOf(tokenB('TENANT_OPERATOR')));
        }
      });

      const alertingOf = async (token: string, tenantId?: string): Promise<AlertingDashboard> =>
        (await ok<{ licenseDashboard: AlertingDashboard }>(DASHBOARD_ALERTS, { tenantId }, token)).licenseDashboard;

      it.each(TENANT_ROLES)(
        "counts only A's open alerts in the dashboard of a %s of A (active, by severity, unacknowledged, by kind) and shows A's own reporting clock, with or without A's tenantId",
        async (role) => {
          const expected = await expectedAlertSummary(a.uuid);
          expect(expected.active).toBeGreaterThan(0);
          // B has an alert of a kind A has none of (its MSLA line ends within 30 days): a leak would show it.
          expect((await expectedAlertSummary(b.uuid)).byKind.map((k) => k.kind)).toContain('LICENSE_EXPIRING');
          expect(expected.byKind.map((k) => k.kind)).not.toContain('LICENSE_EXPIRING');
          const clock = await expectedSyncClock(a.uuid);
          expect(clock.syncDueAt).not.toBeNull();
          expect(clock.syncDueAt).not.toEqual((await expectedSyncClock(b.uuid)).syncDueAt);
          for (const tenantId of [undefined, a.id]) {
            const mine = await alertingOf(tokenA(role), tenantId);
            expect(mine.tenant).toEqual({ id: a.id });
            expect(mine.tenants).toBeNull();
            expect(summaryOf(mine.alerts)).toEqual(expected);
            expect(mine.reportingClock).toMatchObject(clock);
          }
        },
      );

      it.each(TENANT_ROLES)("gives a %s of B B's own alert counts and reporting clock, equal to what a provider sees for B", async (role) => {
        const mine = await alertingOf(tokenB(role));
        expect(mine.tenant).toEqual({ id: b.id });
        expect(summaryOf(mine.alerts)).toEqual(await expectedAlertSummary(b.uuid));
        expect(mine.reportingClock).toMatchObject(await expectedSyncClock(b.uuid));
        expect(await alertingOf(server.token('PROVIDER_OPERATOR'), b.id)).toEqual(mine);
      });

      it("leaves A's alert counts and reporting clock unchanged when a new line of B's nears its end, while B's LICENSE_EXPIRING count moves", async () => {
        const aBefore = await alertingOf(tokenA('TENANT_OPERATOR'));
        const bBefore = await alertingOf(tokenB('TENANT_OPERATOR'));
        await addLines(b, [
          licenseLine(bravo.vaProdId, DNA_T2_P, 'BRAVO-MSLA-2', 0, { billingType: 'POSTPAID', billingModel: 'MSLA_U', endDate: inDays(25) }),
        ]);
        expect(await alertingOf(tokenA('TENANT_OPERATOR'))).toEqual(aBefore);
        expect(await alertingOf(tokenA('TENANT_ADMIN'), a.id)).toEqual(aBefore);
        // Control: B's count did move.
        const bAfter = await alertingOf(tokenB('TENANT_OPERATOR'));
        const expiring = (d: AlertingDashboard) => d.alerts.byKind.find((k) => k.kind === 'LICENSE_EXPIRING')?.count ?? 0;
        expect(expiring(bAfter)).toBe(expiring(bBefore) + 1);
        expect(bAfter.alerts.active).toBe(bBefore.alerts.active + 1);
      });

      it("gives providers alert counts over every tenant without tenantId, with per-tenant entries equal to each tenant's own", async () => {
        for (const role of ['PROVIDER_ADMIN', 'PROVIDER_OPERATOR'] as const) {
          const overall = await alertingOf(server.token(role));
          expect(overall.tenant).toBeNull();
          expect(overall.reportingClock).toBeNull();
          expect(summaryOf(overall.alerts)).toEqual(await expectedAlertSummary(null));
          const entryOf = (t: TenantFixture) => (overall.tenants ?? []).find((d) => d.tenant?.id === t.id);
          expect({ ...entryOf(a), tenants: null }).toEqual(await alertingOf(tokenA('TENANT_OPERATOR')));
          expect({ ...entryOf(b), tenants: null }).toEqual(await alertingOf(tokenB('TENANT_OPERATOR')));
        }
      });
    },

    'Query.auditEvents': () => {
      it.each(TENANT_ROLES)("lists exactly A's audit events for a %s of A, none naming B's objects, with or without A's tenantId", async (role) => {
        const expected = await idsOf('AuditEvent', 'audit_event', a.uuid);
        expect(expected.length).toBeGreaterThan(0);
        const bTargets = new Set([
          ...Object.values(bravo.devices),
          bravo.smartAccountId,
          bravo.vaProdId,
          bravo.vaLabId,
          ...bravo.licenseIds,
          ...bravo.assignmentIds,
        ]);
        for (const tenantId of [undefined, a.id]) {
          const res = await server.graphql<{ auditEvents: Page<AuditEventNode> }>(AUDIT_EVENTS, { tenantId, first: 100 }, tokenA(role));
          expect(res.body.errors).toBeUndefined();
          const page = res.body.data!.auditEvents;
          expect(page.totalCount).toBe(expected.length);
          expect(sorted(page.edges.map((e) => e.node.id))).toEqual(expected);
          expect(page.edges.every((e) => e.node.tenant.id === a.id)).toBe(true);
          expect(page.edges.flatMap((e) => e.node.targetIds).filter((id) => bTargets.has(id))).toEqual([]);
          expect(page.edges.map((e) => e.node.actorSubject)).not.toContain('bob-TENANT_ADMIN');
          expect(JSON.stringify(res.body)).not.toMatch(/bravo/i);
        }
      });

      it.each(TENANT_ROLES)('answers a %s of A NOT_FOUND for auditEvents(tenantId: B), exactly as for a nonexistent tenant', async (role) => {
        await expectTenantIdRefusedLikeMissing(AUDIT_EVENTS, (tenantId) => ({ tenantId, first: 100 }), tokenA(role), 'NOT_FOUND');
      });

      it("never shows B's audit events to A when A pages with a cursor taken from B's list", async () => {
        const bPage = await server.graphql<{ auditEvents: Page<AuditEventNode> }>(AUDIT_EVENTS, { first: 1 }, tokenB('TENANT_OPERATOR'));
        const cursor = bPage.body.data!.auditEvents.pageInfo.endCursor;
        expect(cursor).toEqual(expect.any(String));
        const res = await server.graphql<{ auditEvents: Page<AuditEventNode> }>(AUDIT_EVENTS, { first: 100, after: cursor }, tokenA('TENANT_OPERATOR'));
        expect(res.body.errors).toBeUndefined();
        expect(res.body.data!.auditEvents.edges.every((e) => e.node.tenant.id === a.id)).toBe(true);
        expect(res.body.data!.auditEvents.totalCount).toBe((await idsOf('AuditEvent', 'audit_event', a.uuid)).length);
      });

      it.each(TENANT_ROLES)("lets a %s of B read B's own trail, including the assignment of B's devices", async (role) => {
        const res = await server.graphql<{ auditEvents: Page<AuditEventNode> }>(AUDIT_EVENTS, { first: 100 }, tokenB(role));
        expect(res.body.errors).toBeUndefined();
        const page = res.body.data!.auditEvents;
        expect(sorted(page.edges.map((e) => e.node.id))).toEqual(await idsOf('AuditEvent', 'audit_event', b.uuid));
        expect(page.edges.every((e) => e.node.tenant.id === b.id)).toBe(true);
        const assigned = page.edges.map((e) => e.node).filter((e) => e.action === 'licenses.assigned' && e.actorSubject === 'bob-TENANT_ADMIN');
        expect(assigned.flatMap((e) => e.targetIds)).toEqual(expect.arrayContaining([bravo.devices['BRAVO-0001'], bravo.devices['BRAVO-LIC-5']]));
      });

      it("shows providers both tenants' events without tenantId, and only B's with tenantId B", async () => {
        for (const role of ['PROVIDER_ADMIN', 'PROVIDER_OPERATOR'] as const) {
          const all = await server.graphql<{ auditEvents: Page<AuditEventNode> }>(AUDIT_EVENTS, { first: 100 }, server.token(role));
          expect(all.body.errors).toBeUndefined();
          expect(all.body.data!.auditEvents.totalCount).toBe(await count('select count(*)::int as n from audit_event'));
          expect(new Set(all.body.data!.auditEvents.edges.map((e) => e.node.tenant.id))).toEqual(new Set([a.id, b.id]));
          const onlyB = await server.graphql<{ auditEvents: Page<AuditEventNode> }>(AUDIT_EVENTS, { tenantId: b.id, first: 100 }, server.token(role));
          expect(sorted(onlyB.body.data!.auditEvents.edges.map((e) => e.node.id))).toEqual(await idsOf('AuditEvent', 'audit_event', b.uuid));
        }
      });
    },

    'Mutation.configureSmartAccount': () => {
      it.each(TENANT_ROLES)(
        "refuses a %s of A configuring B's smart account exactly as a nonexistent tenant's, and leaves A's and B's rows unchanged",
        async (role) => {
          const input = (tenantId: string) => ({
            input: { tenantId, domain: 'hijack.example', name: 'Hijacked', accountId: 'HIJACK-1', virtualAccounts: [{ externalId: 'VA-PROD-7731', name: 'Hijacked VA' }] },
          });
          await expectUntouched([a, b], () =>
            expectTenantIdRefusedLikeMissing(CONFIGURE_SA, input, tokenA(role), role === 'TENANT_ADMIN' ? 'NOT_FOUND' : 'FORBIDDEN'),
          );
        },
      );

      it("keeps A's reconfiguration in A's rows when A records a virtual account under the external id of one of B's", async () => {
        const res = await expectUntouched([b], () =>
          configureAccount(tokenA('TENANT_ADMIN'), {
            domain: 'alpha.example',
            name: 'Alpha SA',
            accountId: 'ALPHA-SA-1',
            virtualAccounts: [{ externalId: 'VA-PROD-7731', name: 'Alpha Mirror' }],
          }),
        );
        expect(res).toMatchObject({ id: alpha.smartAccountId, tenant: { id: a.id } });
        const mirror = res.virtualAccounts.find((v) => v.externalId === 'VA-PROD-7731');
        expect(mirror).toMatchObject({ name: 'Alpha Mirror', managed: false, smartAccount: { id: alpha.smartAccountId, tenant: { id: a.id } } });
        expect(res.virtualAccounts.map((v) => v.id)).not.toContain(bravo.vaProdId);
        expect(JSON.stringify(res)).not.toMatch(/bravo/i);
        // B still has its own virtual account under that external id, name and managed flag as before.
        const bAccounts = await ok<{ smartAccounts: SmartAccountNode[] }>(SMART_ACCOUNTS, {}, tokenB('TENANT_OPERATOR'));
        expect(bAccounts.smartAccounts[0].virtualAccounts.find((v) => v.externalId === 'VA-PROD-7731')).toMatchObject({
          id: bravo.vaProdId,
          name: 'Bravo Production',
          managed: true,
        });
      });

      it("refuses another tenant recording B's smart account id with CONFLICT (an account belongs to one tenant) and leaves B untouched", async () => {
        // Deliberate exception to "answered like a nonexistent id": an account id is the license
        // server's, not ours, and letting a second tenant record it would let that tenant sync the
        // first one's licenses with the provider's credentials. The answer names only the id given.
        const delta = await createTenant(server, 'iso-delta', 'Delta Co');
        const token = server.token('TENANT_ADMIN', delta.uuid, { sub: 'dave-TENANT_ADMIN' });
        const input = (domain: string, accountId: string, externalId: string) => ({
          input: { domain, name: 'Delta SA', accountId, virtualAccounts: [{ externalId, name: 'Delta VA' }] },
        });
        await ok(CONFIGURE_SA, input('delta-first.example', 'DELTA-SA-0', 'VA-DELTA-0'), token);
        await expectUntouched([a, b], async () => {
          const withB = await server.graphql<{ configureSmartAccount: SmartAccountNode }>(
            CONFIGURE_SA,
            input('bravo-secret.example', 'BRAVO-SA-1', 'VA-PROD-7731'),
            token,
          );
          expect(withB.body.data ?? null).toBeNull();
          expect(withB.body.errors?.[0].extensions?.code).toBe('CONFLICT');
          expect(JSON.stringify(withB.body)).not.toMatch(/bravo-secret|VA-PROD|Bravo/);
          // B's domain and virtual account ids with an unused account id are just this tenant's data.
          const withBNames = await server.graphql<{ configureSmartAccount: SmartAccountNode }>(
            CONFIGURE_SA,
            input('bravo-secret.example', 'UNUSED-SA-1', 'VA-PROD-7731'),
            token,
          );
          expect(withBNames.body.errors).toBeUndefined();
          expect(withBNames.body.data!.configureSmartAccount.tenant.id).toBe(delta.id);
        });
      });

      it("lets B's admin, and a provider admin by tenantId, reconfigure B's smart account without touching A's rows", async () => {
        await expectUntouched([a], async () => {
          const mine = await configureAccount(tokenB('TENANT_ADMIN'), {
            domain: 'bravo-secret.example',
            name: 'Bravo Secret SA renamed',
            accountId: 'BRAVO-SA-1',
            virtualAccounts: [{ externalId: 'VA-LAB-7732', name: 'Bravo Lab renamed' }],
          });
          expect(mine).toMatchObject({ id: bravo.smartAccountId, name: 'Bravo Secret SA renamed', tenant: { id: b.id } });
          expect(mine.virtualAccounts.find((v) => v.id === bravo.vaLabId)?.name).toBe('Bravo Lab renamed');
          const byProvider = await configureAccount(server.token('PROVIDER_ADMIN'), {
            tenantId: b.id,
            domain: 'bravo-secret.example',
            name: 'Bravo Secret SA',
            accountId: 'BRAVO-SA-1',
            virtualAccounts: [{ externalId: 'VA-LAB-7732', name: 'Bravo Lab' }],
          });
          expect(byProvider).toMatchObject({ id: bravo.smartAccountId, name: 'Bravo Secret SA', tenant: { id: b.id } });
        });
        expect(await server.sql('select v.name from virtual_account v where v.tenant_id = $1 order by v.name', [b.uuid])).toEqual([
          { name: 'Bravo Lab' },
          { name: 'Bravo Production' },
        ]);
      });
    },

    'Mutation.setManagedVirtualAccounts': () => {
      it.each(TENANT_ROLES)(
        "refuses a %s of A managing B's virtual accounts exactly as nonexistent ones, and changes no managed flag of A or B",
        async (role) => {
          const code = role === 'TENANT_ADMIN' ? 'NOT_FOUND' : 'FORBIDDEN';
          const m1 = missingGlobalId('VirtualAccount');
          const m2 = missingGlobalId('VirtualAccount');
          const bare = randomUUID();
          const cases: { label: string; forB: string[]; forMissing: string[]; probedB: string[]; probedMissing: string[] }[] = [
            { label: "only B's", forB: [bravo.vaProdId, bravo.vaLabId], forMissing: [m1, m2], probedB: [bravo.vaProdId, bravo.vaLabId], probedMissing: [m1, m2] },
            { label: "A's and B's", forB: [alpha.vaId, bravo.vaLabId], forMissing: [alpha.vaId, m1], probedB: [bravo.vaLabId], probedMissing: [m1] },
            {
              label: "B's as a bare uuid",
              forB: [uuidOf(bravo.vaProdId)],
              forMissing: [bare],
              probedB: [uuidOf(bravo.vaProdId), bravo.vaProdId],
              probedMissing: [bare, globalIdOf('VirtualAccount', bare)],
            },
          ];
          await expectUntouched([a, b], async () => {
            for (const c of cases) {
              const forB = await server.graphql(SET_MANAGED, { input: { virtualAccountIds: c.forB } }, tokenA(role));
              const forMissing = await server.graphql(SET_MANAGED, { input: { virtualAccountIds: c.forMissing } }, tokenA(role));
              expect({ label: c.label, data: forB.body.data ?? null, code: forB.body.errors?.[0].extensions?.code }).toEqual({
                label: c.label,
                data: null,
                code,
              });
              expect(errorsWithout(forB, c.probedB)).toEqual(errorsWithout(forMissing, c.probedMissing));
              expect(JSON.stringify(forB.body)).not.toMatch(/bravo/i);
            }
            await expectTenantIdRefusedLikeMissing(
              SET_MANAGED,
              (tenantId) => ({ input: { tenantId, virtualAccountIds: [bravo.vaProdId, bravo.vaLabId] } }),
              tokenA(role),
              code,
            );
          });
        },
      );

      it("lets A's admin choose A's managed virtual accounts (even none) without changing B's managed flags", async () => {
        await expectUntouched([b], async () => {
          const chosen = await manage(tokenA('TENANT_ADMIN'), [alpha.vaId]);
          expect(sorted(chosen.map((v) => v.id))).toEqual(await idsOf('VirtualAccount', 'virtual_account', a.uuid));
          expect(chosen.every((v) => v.smartAccount.tenant.id === a.id)).toBe(true);
          expect(chosen.filter((v) => v.managed).map((v) => v.id)).toEqual([alpha.vaId]);
          // "Every other one becomes unmanaged" means every other one of A's.
          const none = await manage(tokenA('TENANT_ADMIN'), []);
          expect(none.length).toBe(chosen.length);
          expect(none.filter((v) => v.managed)).toEqual([]);
        });
        expect(await server.sql('select managed from virtual_account where tenant_id = $1 and managed', [b.uuid])).toEqual([{ managed: true }]);
        await manage(tokenA('TENANT_ADMIN'), [alpha.vaId]);
      });

      it("lets B's admin, and a provider admin by tenantId, choose B's managed virtual accounts without touching A's rows", async () => {
        await expectUntouched([a], async () => {
          const both = await manage(tokenB('TENANT_ADMIN'), [bravo.vaProdId, bravo.vaLabId]);
          expect(both.map((v) => [v.id, v.managed]).sort()).toEqual(
            [
              [bravo.vaLabId, true],
              [bravo.vaProdId, true],
            ].sort(),
          );
          const restored = await manage(server.token('PROVIDER_ADMIN'), [bravo.vaProdId], b.id);
          expect(restored.filter((v) => v.managed).map((v) => v.id)).toEqual([bravo.vaProdId]);
          expect(restored.every((v) => v.smartAccount.tenant.id === b.id)).toBe(true);
        });
      });
    },

    'Mutation.addLicenses': () => {
      it.each(TENANT_ROLES)(
        "refuses a %s of A adding lines to B or into B's virtual account (FORBIDDEN), exactly as for a nonexistent tenant or virtual account",
        async (role) => {
          const planted = (virtualAccountId: string) => [licenseLine(virtualAccountId, DNA_T1_A, 'PLANTED-SUB', 100)];
          await expectUntouched([a, b], async () => {
            await expectTenantIdRefusedLikeMissing(
              ADD_LICENSES,
              (tenantId) => ({ input: { tenantId, licenses: planted(bravo.vaProdId) } }),
              tokenA(role),
              'FORBIDDEN',
            );
            const missing = missingGlobalId('VirtualAccount');
            const forB = await server.graphql(ADD_LICENSES, { input: { licenses: planted(bravo.vaProdId) } }, tokenA(role));
            const forMissing = await server.graphql(ADD_LICENSES, { input: { licenses: planted(missing) } }, tokenA(role));
            expect(forB.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
            expect(errorsWithout(forB, [bravo.vaProdId])).toEqual(errorsWithout(forMissing, [missing]));
          });
          expect(await count("select count(*)::int as n from license where subscription_id = 'PLANTED-SUB'")).toBe(0);
        },
      );

      it("refuses a provider admin adding A a line in B's virtual account exactly as in a nonexistent one, writing no line at all", async () => {
        const provider = server.token('PROVIDER_ADMIN');
        await expectUntouched([a, b], async () => {
          for (const va of [bravo.vaProdId, bravo.vaLabId, uuidOf(bravo.vaProdId)]) {
            const missing = va === uuidOf(bravo.vaProdId) ? randomUUID() : missingGlobalId('VirtualAccount');
            const lines = (v: string) => [licenseLine(alpha.vaId, DNA_T0_E, 'CROSS-SUB', 1), licenseLine(v, DNA_T0_E, 'CROSS-SUB', 1)];
            const forB = await server.graphql(ADD_LICENSES, { input: { tenantId: a.id, licenses: lines(va) } }, provider);
            const forMissing = await server.graphql(ADD_LICENSES, { input: { tenantId: a.id, licenses: lines(missing) } }, provider);
            expect(forB.body.data ?? null).toBeNull();
            expect(forB.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
            expect(forB.body.errors?.[0].message).toContain('licenses[1].virtualAccountId not found');
            expect(errorsWithout(forB, [va])).toEqual(errorsWithout(forMissing, [missing]));
          }
        });
        expect(await count("select count(*)::int as n from license where subscription_id = 'CROSS-SUB'")).toBe(0);
      });

      it("lets a provider admin add a line to B's virtual account: it is B's, B sees it and A does not", async () => {
        const [line] = await expectUntouched([a], () => addLines(b, [licenseLine(bravo.vaProdId, DNA_T1_A, 'BRAVO-SUB-ADD', 2)]));
        expect(line).toMatchObject({ tenant: { id: b.id }, virtualAccount: { id: bravo.vaProdId }, quantity: 2, inUse: 0, available: 2 });
        expect(await server.sql('select tenant_id from license where id = $1', [uuidOf(line.id)])).toEqual([{ tenant_id: b.uuid }]);
        const forB = await server.graphql<LicensingNodeData>(LICENSING_NODE, { id: line.id }, tokenB('TENANT_OPERATOR'));
        expect(forB.body.data!.node).toMatchObject({ __typename: 'License', subscriptionId: 'BRAVO-SUB-ADD' });
        expect((await server.graphql(LICENSING_NODE, { id: line.id }, tokenA('TENANT_OPERATOR'))).body).toEqual({ data: { node: null } });
      });
    },

    'Mutation.assignLicenses': () => {
      const selectors = [{ level: 'ESSENTIALS', tier: 'T0' }, { level: 'ADVANTAGE', tier: 'T1' }, { hsec: true }];

      it.each(TENANT_ROLES)(
        "answers a %s of A NOT_FOUND for B's device ids, exactly as for nonexistent ones, and writes no assignment anywhere",
        async (role) => {
          const bIds = [bravo.devices['BRAVO-0001'], bravo.devices['BRAVO-LIC-8'], bravo.devices['BRAVO-SHARED']];
          const missing = bIds.map(() => missingGlobalId('Device'));
          await expectUntouched([a, b], async () => {
            for (const selector of selectors) {
              const forB = await server.graphql(ASSIGN, { input: { deviceIds: bIds, ...selector } }, tokenA(role));
              const forMissing = await server.graphql(ASSIGN, { input: { deviceIds: missing, ...selector } }, tokenA(role));
              expect(forB.body.data ?? null).toBeNull();
              expect(forB.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
              expect(errorsWithout(forB, bIds)).toEqual(errorsWithout(forMissing, missing));
              expect(JSON.stringify(forB.body)).not.toMatch(/bravo/i);
            }
          });
        },
      );

      it.each(TENANT_ROLES)(
        "assigns nothing when a %s of A mixes its own device with one of B's (global id or bare uuid): NOT_FOUND naming only B's",
        async (role) => {
          const own = alpha.devices['ALPHA-0002'];
          const theirs = bravo.devices['BRAVO-LIC-8'];
          const bare = randomUUID();
          await expectUntouched([a, b], async () => {
            for (const [probe, missing, probed, probedMissing] of [
              [theirs, missingGlobalId('Device'), [theirs], null],
              [uuidOf(theirs), bare, [uuidOf(theirs), theirs], [bare, globalIdOf('Device', bare)]],
            ] as const) {
              const forB = await server.graphql(ASSIGN, { input: { deviceIds: [own, probe], level: 'ESSENTIALS', tier: 'T0' } }, tokenA(role));
              const forMissing = await server.graphql(ASSIGN, { input: { deviceIds: [own, missing], level: 'ESSENTIALS', tier: 'T0' } }, tokenA(role));
              expect(forB.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
              expect(forB.body.errors?.[0].extensions?.deviceIds).toEqual([theirs]);
              expect(errorsWithout(forB, probed)).toEqual(errorsWithout(forMissing, probedMissing ?? [missing]));
            }
          });
        },
      );

      it.each(TENANT_ROLES)('answers a %s of A NOT_FOUND for assignLicenses(tenantId: B), exactly as for a nonexistent tenant', async (role) => {
        await expectUntouched([a, b], () =>
          expectTenantIdRefusedLikeMissing(
            ASSIGN,
            (tenantId) => ({ input: { tenantId, deviceIds: [bravo.devices['BRAVO-LIC-8']], level: 'ADVANTAGE', tier: 'T1' } }),
            tokenA(role),
            'NOT_FOUND',
          ),
        );
      });

      it.each(TENANT_ROLES)(
        "answers a %s of A naming B's virtual account (managed, unmanaged, bare uuid) exactly as a nonexistent one, and writes nothing",
        async (role) => {
          await expectUntouched([a, b], async () => {
            for (const va of [bravo.vaProdId, bravo.vaLabId, uuidOf(bravo.vaProdId)]) {
              const missing = va === uuidOf(bravo.vaProdId) ? randomUUID() : missingGlobalId('VirtualAccount');
              // DSTACK_T0_E: A has a line (and so does B's lab VA); DSTACK_T1_A: only B's production VA has lines.
              for (const selector of [{ level: 'ESSENTIALS', tier: 'T0' }, { level: 'ADVANTAGE', tier: 'T1' }]) {
                const input = (virtualAccountId: string) => ({ input: { deviceIds: [alpha.devices['ALPHA-0002']], ...selector, virtualAccountId } });
                const forB = await server.graphql(ASSIGN, input(va), tokenA(role));
                const forMissing = await server.graphql(ASSIGN, input(missing), tokenA(role));
                expect(forB.body.data ?? null).toBeNull();
                expect(errorsWithout(forB, [va])).toEqual(errorsWithout(forMissing, [missing]));
                expect(JSON.stringify(forB.body)).not.toMatch(/bravo/i);
              }
            }
          });
        },
      );

      it.each(TENANT_ROLES)("refuses a %s of A naming B's virtual account in assignLicenses with NOT_FOUND or BAD_USER_INPUT", async (role) => {
        // DESIGN.md: another tenant's id is answered as a nonexistent id would be, with NOT_FOUND; a
        // virtual account that is not the tenant's is not "0 licenses available".
        const res = await expectUntouched([a, b], () =>
          server.graphql(
            ASSIGN,
            { input: { deviceIds: [alpha.devices['ALPHA-0002']], level: 'ESSENTIALS', tier: 'T0', virtualAccountId: bravo.vaProdId } },
            tokenA(role),
          ),
        );
        expect(res.body.data ?? null).toBeNull();
        expect({ code: res.body.errors?.[0].extensions?.code, message: res.body.errors?.[0].message }).toEqual({
          code: expect.stringMatching(/^(NOT_FOUND|BAD_USER_INPUT)$/),
          message: expect.stringMatching(/virtual ?account/i),
        });
      });

      it.each(TENANT_ROLES)("answers a %s of A naming B's subscription ids exactly as unused subscription ids, and writes nothing", async (role) => {
        await expectUntouched([a, b], async () => {
          for (const [subscriptionId, unused] of [
            ['BRAVO-SUB-LAB', 'UNUSED-SUB-LAB'],
            ['BRAVO-SUB-1', 'UNUSED-SUB-1'],
          ]) {
            for (const selector of [{ level: 'ESSENTIALS', tier: 'T0' }, { level: 'ADVANTAGE', tier: 'T1' }]) {
              const input = (s: string) => ({ input: { deviceIds: [alpha.devices['ALPHA-0002']], ...selector, subscriptionId: s } });
              const forB = await server.graphql(ASSIGN, input(subscriptionId), tokenA(role));
              const forMissing = await server.graphql(ASSIGN, input(unused), tokenA(role));
              expect(forB.body.data ?? null).toBeNull();
              expect(errorsWithout(forB, [subscriptionId])).toEqual(errorsWithout(forMissing, [unused]));
              expect(JSON.stringify(errorsWithout(forB, [subscriptionId]))).not.toMatch(/bravo/i);
            }
          }
        });
      });

      it("treats B's idempotency key as A's own: A neither replays B's result nor gets CONFLICT, and B's record is untouched", async () => {
        const key = 'bravo-assign-1';
        const token = tokenA('TENANT_OPERATOR');
        await expectUntouched([b], async () => {
          // B's exact original request under B's key, sent by A.
          const replay = await server.graphql(
            ASSIGN,
            { input: { deviceIds: [bravo.devices['BRAVO-0001'], bravo.devices['BRAVO-LIC-5']], level: 'ADVANTAGE', tier: 'T1', idempotencyKey: key } },
            token,
          );
          expect(replay.body.data ?? null).toBeNull();
          expect(replay.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
          expect(JSON.stringify(replay.body)).not.toMatch(/bravo/i);
          // A different request under the same key is a fresh call of A's.
          const own = await server.graphql<{ assignLicenses: AssignPayload }>(
            ASSIGN,
            { input: { deviceIds: [alpha.devices['ALPHA-0002']], level: 'ESSENTIALS', tier: 'T0', idempotencyKey: key } },
            token,
          );
          expect(own.body.errors).toBeUndefined();
          expect(own.body.data!.assignLicenses).toMatchObject({ assigned: 1, replayed: false });
          expect(own.body.data!.assignLicenses.assignments).toMatchObject([
            { device: { id: alpha.devices['ALPHA-0002'], tenant: { id: a.id } }, license: { id: alpha.licenseId, tenant: { id: a.id } } },
          ]);
        });
        await ok(RELEASE, { input: { deviceIds: [alpha.devices['ALPHA-0002']] } }, token);
      });

      it("refuses a provider acting for A on B's devices with NOT_FOUND, and writes nothing", async () => {
        await expectUntouched([a, b], async () => {
          const res = await server.graphql(
            ASSIGN,
            { input: { tenantId: a.id, deviceIds: [bravo.devices['BRAVO-LIC-8']], level: 'ESSENTIALS', tier: 'T0' } },
            server.token('PROVIDER_OPERATOR'),
          );
          expect(res.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
          expect(res.body.errors?.[0].extensions?.deviceIds).toEqual([bravo.devices['BRAVO-LIC-8']]);
        });
      });

      it("lets B's operator, and a provider operator by tenantId, assign B's device from B's lines, without touching A's rows", async () => {
        const device = bravo.devices['BRAVO-LIC-6'];
        await expectUntouched([a], async () => {
          const mine = await assign(tokenB('TENANT_OPERATOR'), { deviceIds: [device], level: 'ADVANTAGE', tier: 'T1' });
          expect(mine).toMatchObject({ assigned: 1, replayed: false });
          expect(mine.assignments).toMatchObject([
            { status: 'ACTIVE', category: 'DNA', device: { id: device, tenant: { id: b.id } }, license: { tenant: { id: b.id } }, entitlement: { tag: DNA_T1_A } },
          ]);
          const byProvider = await assign(server.token('PROVIDER_OPERATOR'), { tenantId: b.id, deviceIds: [device], hsec: true });
          expect(byProvider.assignments).toMatchObject([
            { status: 'ACTIVE', category: 'HSEC', device: { id: device, tenant: { id: b.id } }, license: { tenant: { id: b.id } } },
          ]);
        });
        expect(
          await server.sql<{ tenant_id: string; category: string; license_tenant: string }>(
            `select a.tenant_id, a.category, l.tenant_id as license_tenant from assignment a join license l on l.id = a.license_id
              where a.device_id = $1 and a.released_at is null order by a.category`,
            [uuidOf(device)],
          ),
        ).toEqual([
          { tenant_id: b.uuid, category: 'DNA', license_tenant: b.uuid },
          { tenant_id: b.uuid, category: 'HSEC', license_tenant: b.uuid },
        ]);
      });
    },

    'Mutation.releaseLicenses': () => {
      it.each(TENANT_ROLES)(
        "answers a %s of A NOT_FOUND for B's licensed devices, exactly as for nonexistent ones, and releases nothing",
        async (role) => {
          const bIds = [bravo.devices['BRAVO-0001'], bravo.devices['BRAVO-SHARED'], bravo.devices['BRAVO-LIC-5']];
          const missing = bIds.map(() => missingGlobalId('Device'));
          const held = await count('select count(*)::int as n from assignment where tenant_id = $1 and released_at is null', [b.uuid]);
          expect(held).toBeGreaterThan(0);
          await expectUntouched([a, b], async () => {
            for (const category of [undefined, 'DNA', 'HSEC']) {
              const forB = await server.graphql(RELEASE, { input: { deviceIds: bIds, category } }, tokenA(role));
              const forMissing = await server.graphql(RELEASE, { input: { deviceIds: missing, category } }, tokenA(role));
              expect(forB.body.data ?? null).toBeNull();
              expect(forB.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
              expect(errorsWithout(forB, bIds)).toEqual(errorsWithout(forMissing, missing));
              expect(JSON.stringify(forB.body)).not.toMatch(/bravo/i);
            }
          });
        },
      );

      it.each(TENANT_ROLES)(
        "releases nothing, not even A's own license, when a %s of A mixes its licensed device with one of B's",
        async (role) => {
          const own = alpha.devices['ALPHA-0001'];
          expect(await count('select count(*)::int as n from assignment where device_id = $1 and released_at is null', [uuidOf(own)])).toBe(1);
          await expectUntouched([a, b], async () => {
            const res = await server.graphql(RELEASE, { input: { deviceIds: [own, bravo.devices['BRAVO-0001']] } }, tokenA(role));
            expect(res.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
            expect(res.body.errors?.[0].extensions?.deviceIds).toEqual([bravo.devices['BRAVO-0001']]);
          });
        },
      );

      it.each(TENANT_ROLES)('answers a %s of A NOT_FOUND for releaseLicenses(tenantId: B), exactly as for a nonexistent tenant', async (role) => {
        await expectUntouched([a, b], () =>
          expectTenantIdRefusedLikeMissing(RELEASE, (tenantId) => ({ input: { tenantId, deviceIds: [bravo.devices['BRAVO-0001']] } }), tokenA(role), 'NOT_FOUND'),
        );
      });

      it("lets B release the license of B's own device, and only that, without touching A's rows", async () => {
        const device = bravo.devices['BRAVO-LIC-8'];
        await expectUntouched([a], async () => {
          await assign(tokenB('TENANT_ADMIN'), { deviceIds: [device], level: 'ADVANTAGE', tier: 'T1' });
          const heldBefore = await count('select count(*)::int as n from assignment where tenant_id = $1 and released_at is null', [b.uuid]);
          const res = (await ok<{ releaseLicenses: ReleasePayload }>(RELEASE, { input: { deviceIds: [device] } }, tokenB('TENANT_OPERATOR')))
            .releaseLicenses;
          expect(res).toMatchObject({ released: 1, unchanged: 0, replayed: false });
          expect(res.releasedAssignments).toMatchObject([{ device: { id: device, tenant: { id: b.id } }, entitlement: { tag: DNA_T1_A } }]);
          expect(await count('select count(*)::int as n from assignment where tenant_id = $1 and released_at is null', [b.uuid])).toBe(heldBefore - 1);
        });
      });
    },

    'Mutation.reconcileAssignments': () => {
      const pendingOf = (t: TenantFixture) =>
        server.sql<{ device_id: string; license_id: string | null }>(
          "select device_id, license_id from assignment where tenant_id = $1 and status = 'PENDING_RECONCILIATION' and released_at is null",
          [t.uuid],
        );

      it.each(TENANT_ROLES)(
        "refuses a %s of A reconciling B exactly as a nonexistent tenant, leaving B's pending assignment pending",
        async (role) => {
          expect(await pendingOf(b)).toEqual([{ device_id: uuidOf(bravo.devices['BRAVO-0003']), license_id: null }]);
          await expectUntouched([a, b], () =>
            expectTenantIdRefusedLikeMissing(RECONCILE, (tenantId) => ({ input: { tenantId } }), tokenA(role), role === 'TENANT_ADMIN' ? 'NOT_FOUND' : 'FORBIDDEN'),
          );
        },
      );

      it("never binds A's pending assignment to B's license lines, though B has room in a line of that entitlement", async () => {
        const [room] = await server.sql<{ n: number }>(
          `select max(l.quantity - (select count(*) from assignment x where x.license_id = l.id and x.released_at is null))::int as n
             from license l join entitlement e on e.id = l.entitlement_id where l.tenant_id = $1 and e.tag = $2`,
          [b.uuid, DNA_T1_A],
        );
        expect(room.n).toBeGreaterThan(0);
        const aPending = [{ device_id: uuidOf(alpha.devices['ALPHA-0003']), license_id: null }];
        expect(await pendingOf(a)).toEqual(aPending);
        await expectUntouched([b], async () => {
          const mine = await ok<{ reconcileAssignments: ReconcilePayload }>(RECONCILE, {}, tokenA('TENANT_ADMIN'));
          expect(mine.reconcileAssignments).toEqual({ reconciled: 0, stillPending: 1, reconciledAssignments: [] });
          const byProvider = await ok<{ reconcileAssignments: ReconcilePayload }>(RECONCILE, { input: { tenantId: a.id } }, server.token('PROVIDER_OPERATOR'));
          expect(byProvider.reconcileAssignments).toEqual({ reconciled: 0, stillPending: 1, reconciledAssignments: [] });
        });
        expect(await pendingOf(a)).toEqual(aPending);
      });

      it("lets B's admin reconcile B's pending assignment to B's own line, without touching A's rows", async () => {
        const res = await expectUntouched([a], () => ok<{ reconcileAssignments: ReconcilePayload }>(RECONCILE, {}, tokenB('TENANT_ADMIN')));
        expect(res.reconcileAssignments).toMatchObject({ reconciled: 1, stillPending: 0 });
        const [bound] = res.reconcileAssignments.reconciledAssignments;
        expect(bound).toMatchObject({ status: 'ACTIVE', device: { id: bravo.devices['BRAVO-0003'], tenant: { id: b.id } }, license: { tenant: { id: b.id } } });
        expect(
          await server.sql(
            'select l.tenant_id, e.tag from license l join entitlement e on e.id = l.entitlement_id where l.id = $1',
            [uuidOf(bound.license?.id ?? '')],
          ),
        ).toEqual([{ tenant_id: b.uuid, tag: DNA_T1_A }]);
        expect(await pendingOf(b)).toEqual([]);
      });
    },

    // ---- License-server sync. These suites share the sync world (useSyncWorld), built when the first
    // of them starts, and run in this order: later ones rely on what earlier ones left.

    'Mutation.setLicenseSyncMode': () => {
      useSyncWorld();
      const settingsRow = async (): Promise<unknown> =>
        (await server.sql<{ row: unknown }>('select to_jsonb(s) as row from license_sync_settings s'))[0].row;
      const settingsChanges = () => count("select count(*)::int as n from audit_event where action = 'sync.settings_changed'");
      const attacker = publicKeyPem(keyPairFromSeed('attacker').publicKey);
      const inputs = [
        { mode: 'OFFLINE', trustedSigningKeys: [attacker] },
        { mode: 'ONLINE', serverUrl: 'https://ssm.attacker.example', clientId: 'attacker', clientSecret: 'attacker-secret' },
        { mode: 'OFFLINE', proxyUrl: '' },
        { mode: 'ON_PREM', syncIntervalMinutes: 5 },
      ];

      /** Each input from each token is refused FORBIDDEN with the same answer, and no setting changes. */
      async function expectRefusedAlike(tokens: string[]): Promise<void> {
        const before = await settingsRow();
        const changesBefore = await settingsChanges();
        await expectUntouched([a, b], async () => {
          const answers: unknown[] = [];
          for (const token of tokens) {
            for (const input of inputs) {
              const res = await server.graphql(SET_SYNC_MODE, { input }, token);
              expect(res.body.data ?? null).toBeNull();
              expect(res.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
              answers.push(res.body.errors);
            }
          }
          for (const other of answers.slice(1)) expect(other).toEqual(answers[0]);
        });
        expect(await settingsRow()).toEqual(before);
        expect(await settingsChanges()).toBe(changesBefore);
      }

      it.each(TENANT_ROLES)('answers a %s of A, and of B, FORBIDDEN whatever the input, and changes no setting', async (role) => {
        await expectRefusedAlike([tokenA(role), tokenB(role)]);
      });

      it('answers a provider operator FORBIDDEN too (only a provider admin chooses the mode), and changes no setting', async () => {
        await expectRefusedAlike([server.token('PROVIDER_OPERATOR')]);
      });

      it("lets a provider admin change the instance settings, which A and B then read alike; the change is in the provider's trail, not theirs", async () => {
        const changed = await ok<{ setLicenseSyncMode: SyncSettingsNode }>(
          SET_SYNC_MODE,
          { input: { mode: 'OFFLINE', syncIntervalMinutes: 720 } },
          providerAdmin(),
        );
        try {
          expect(changed.setLicenseSyncMode).toMatchObject({ mode: 'OFFLINE', syncIntervalMinutes: 720, hasCredentials: true, hasProxyCredentials: true });
          expect(changed.setLicenseSyncMode.trustedSigningKeys.map((k) => k.publicKey)).toEqual([TRUSTED_KEY.trim()]);
          await expectNoSecretsIn(changed);
          const seen: unknown[] = [];
          for (const token of [tokenA('TENANT_OPERATOR'), tokenB('TENANT_OPERATOR')]) {
            const { lastSync: _own, nextSyncAt: _next, ...instanceWide } = (await ok<{ licenseSyncSettings: SyncSettingsNode }>(SYNC_SETTINGS, {}, token))
              .licenseSyncSettings;
            seen.push(instanceWide);
          }
          expect(seen[0]).toMatchObject({ mode: 'OFFLINE', syncIntervalMinutes: 720 });
          expect(seen[1]).toEqual(seen[0]);
        } finally {
          await ok(SET_SYNC_MODE, { input: { mode: 'OFFLINE', syncIntervalMinutes: 1440 } }, providerAdmin());
        }
        expect(await server.sql("select distinct tenant_id from audit_event where action = 'sync.settings_changed'")).toEqual([{ tenant_id: null }]);
        for (const token of [tokenA('TENANT_ADMIN'), tokenB('TENANT_ADMIN')]) {
          const trail = (await ok<{ auditEvents: Page<AuditEventNode> }>(AUDIT_EVENTS, { first: 100 }, token)).auditEvents;
          expect(trail.pageInfo.hasNextPage).toBe(false);
          expect(trail.edges.map((e) => e.node.action)).not.toContain('sync.settings_changed');
        }
      });
    },

    'Mutation.synchronizeLicenses': () => {
      useSyncWorld();
      const runsOf = (t: TenantFixture) => count('select count(*)::int as n from sync_run where tenant_id = $1', [t.uuid]);
      const mode = async () => (await server.sql<{ mode: string }>('select mode from license_sync_settings'))[0].mode;

      it.each(TENANT_ROLES)(
        'answers a %s of A for synchronizeLicenses(tenantId: B) exactly as for a nonexistent tenant, before looking at the OFFLINE mode, and starts no run',
        async (role) => {
          expect(await mode()).toBe('OFFLINE');
          await expectUntouched([a, b], () =>
            expectTenantIdRefusedLikeMissing(SYNCHRONIZE, (tenantId) => ({ input: { tenantId } }), tokenA(role), role === 'TENANT_ADMIN' ? 'NOT_FOUND' : 'FORBIDDEN'),
          );
        },
      );

      it("answers B's admin and a provider naming B BAD_USER_INPUT about the OFFLINE mode, so A's NOT_FOUND comes from the tenant check", async () => {
        expect(await mode()).toBe('OFFLINE');
        await expectUntouched([a, b], async () => {
          const calls: [string, string | undefined][] = [
            [tokenB('TENANT_ADMIN'), undefined],
            [tokenB('TENANT_ADMIN'), b.id],
            [server.token('PROVIDER_OPERATOR'), b.id],
            [tokenA('TENANT_ADMIN'), a.id],
          ];
          for (const [token, tenantId] of calls) {
            const res = await server.graphql(SYNCHRONIZE, { input: { tenantId } }, token);
            expect(res.body.data ?? null).toBeNull();
            expect({ code: res.body.errors?.[0].extensions?.code, message: res.body.errors?.[0].message }).toEqual({
              code: 'BAD_USER_INPUT',
              message: expect.stringMatching(/OFFLINE/),
            });
          }
          const missing = await server.graphql(SYNCHRONIZE, { input: { tenantId: missingGlobalId('Tenant') } }, server.token('PROVIDER_OPERATOR'));
          expect(missing.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
        });
      });

      it("in ONLINE mode, refuses A's admin syncing B like a nonexistent tenant, while A's own sync and a provider's sync of B each run for that tenant only", async () => {
        await ok(SET_SYNC_MODE, { input: { mode: 'ONLINE' } }, providerAdmin());
        try {
          const bRunsBefore = await runsOf(b);
          await expectUntouched([a, b], () =>
            expectTenantIdRefusedLikeMissing(SYNCHRONIZE, (tenantId) => ({ input: { tenantId } }), tokenA('TENANT_ADMIN'), 'NOT_FOUND'),
          );
          // The license server cannot be reached: each run is recorded FAILED, for its own tenant.
          const mine = await expectUntouched([b], async () =>
            (await ok<{ synchronizeLicenses: SyncRunNode }>(SYNCHRONIZE, {}, tokenA('TENANT_ADMIN'))).synchronizeLicenses,
          );
          expect(mine).toMatchObject({ tenant: { id: a.id }, mode: 'ONLINE', trigger: 'MANUAL', status: 'FAILED', requestedBy: 'alice-TENANT_ADMIN' });
          const forB = await expectUntouched([a], async () =>
            (
              await ok<{ synchronizeLicenses: SyncRunNode }>(
                SYNCHRONIZE,
                { input: { tenantId: b.id } },
                server.token('PROVIDER_OPERATOR', undefined, { sub: 'olga-PROVIDER_OPERATOR' }),
              )
            ).synchronizeLicenses,
          );
          expect(forB).toMatchObject({ tenant: { id: b.id }, mode: 'ONLINE', trigger: 'MANUAL', status: 'FAILED', requestedBy: 'olga-PROVIDER_OPERATOR' });
          expect(forB.errorMessage).toEqual(expect.any(String));
          expect(await runsOf(b)).toBe(bRunsBefore + 1);
          await expectNoSecretsIn([mine, forB]);
        } finally {
          await ok(SET_SYNC_MODE, { input: { mode: 'OFFLINE' } }, providerAdmin());
        }
      });
    },

    'Mutation.uploadLicenseSummary': () => {
      useSyncWorld();

      it.each(TENANT_ROLES)(
        "refuses a %s of A uploading B's valid next summary into B (tenantId: B) exactly as into a nonexistent tenant, and writes nothing",
        async (role) => {
          const file = await bravoSummary();
          await expectUntouched([a, b], () =>
            expectTenantIdRefusedLikeMissing(UPLOAD_SUMMARY, (tenantId) => upload(file, tenantId), tokenA(role), role === 'TENANT_ADMIN' ? 'NOT_FOUND' : 'FORBIDDEN'),
          );
        },
      );

      it.each(TENANT_ROLES)(
        "refuses a %s of A uploading B's valid next summary into B (tenantId: B) as a multipart upload (file) exactly as the JSON path does and as into a nonexistent tenant, and writes nothing",
        async (role) => {
          const file = await bravoSummary();
          const token = tokenA(role);
          await expectUntouched([a, b], async () => {
            for (const [bId, missing] of [
              [b.id, missingGlobalId('Tenant')],
              [b.uuid, randomUUID()],
            ]) {
              const viaFile = await uploadAsFile(UPLOAD_SUMMARY, file, bId, token);
              const viaJson = await server.graphql(UPLOAD_SUMMARY, upload(file, bId), token);
              const missingViaFile = await uploadAsFile(UPLOAD_SUMMARY, file, missing, token);
              expect(viaFile.body.data ?? null).toBeNull();
              expect(viaFile.body.errors?.[0].extensions?.code).toBe(role === 'TENANT_ADMIN' ? 'NOT_FOUND' : 'FORBIDDEN');
              expect({ status: viaFile.status, body: viaFile.body }).toEqual({ status: viaJson.status, body: viaJson.body });
              expect(errorsWithout(viaFile, [bId])).toEqual(errorsWithout(missingViaFile, [missing]));
              expect(JSON.stringify(viaFile.body)).not.toMatch(/bravo/i);
            }
          });
        },
      );

      it("answers A's admin uploading B's signed summaries (the accepted one, a newer one) exactly as a summary of an unknown account, and writes nothing", async () => {
        const unknown: SmartAccountInfo = { accountId: 'UNUSED-SA-77', domain: 'unused.example', name: 'Unused SA' };
        await expectUntouched([a, b], async () => {
          for (const file of [sw.bSummaryFile, await bravoSummary()]) {
            const forB = await server.graphql(UPLOAD_SUMMARY, upload(file), tokenA('TENANT_ADMIN'));
            const forUnknown = await server.graphql(
              UPLOAD_SUMMARY,
              upload(await summaryFile(unknown, [{ ...BRAVO_PROD_VA, licenses: [fileLine('BRAVO-LINE-1', DNA_T1_A, 'BRAVO-FILE-SUB-1', 6)] }])),
              tokenA('TENANT_ADMIN'),
            );
            expect(forB.body.data ?? null).toBeNull();
            expect(forB.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
            expect(errorsWithout(forB, [BRAVO_ACCOUNT.accountId])).toEqual(errorsWithout(forUnknown, [unknown.accountId]));
            expect(JSON.stringify(errorsWithout(forB, [BRAVO_ACCOUNT.accountId]))).not.toMatch(/bravo/i);
          }
        });
      });

      it("refuses a trial tenant claiming B's smart account with B's signed summary as CONFLICT, revealing nothing of B, and writes nothing", async () => {
        // The deliberate exception of configureSmartAccount: an account belongs to one tenant.
        const echo = await createTenant(server, 'iso-echo', 'Echo Ltd');
        const token = server.token('TENANT_ADMIN', echo.uuid, { sub: 'eve-TENANT_ADMIN' });
        await expectUntouched([a, b, echo], async () => {
          const res = await server.graphql(UPLOAD_SUMMARY, upload(await bravoSummary()), token);
          expect(res.body.data ?? null).toBeNull();
          expect(res.body.errors?.[0].extensions?.code).toBe('CONFLICT');
          const text = JSON.stringify(res.body);
          expect(text).not.toMatch(/bravo-secret|Bravo Secret|Bravo Production|VA-PROD|iso-bravo/);
          for (const id of [b.id, b.uuid, bravo.smartAccountId]) expect(text).not.toContain(id);
        });
        // Control: a summary of an account no tenant holds is accepted for the trial tenant.
        const own = await uploadSummary(
          token,
          await summaryFile({ accountId: 'ECHO-SA-1', domain: 'echo.example', name: 'Echo SA' }, [
            { id: 'VA-ECHO-1', name: 'Echo VA', licenses: [fileLine('ECHO-LINE-1', DNA_T0_E, 'ECHO-SUB-1', 1)] },
          ]),
        );
        expect(own).toMatchObject({
          smartAccount: { accountId: 'ECHO-SA-1', tenant: { id: echo.id } },
          syncRun: { tenant: { id: echo.id }, trigger: 'FILE', status: 'SUCCEEDED' },
        });
      });

      it("lets B's admin, and a provider admin naming B, upload B's newer summaries as FILE runs of B, without touching A's rows", async () => {
        await expectUntouched([a], async () => {
          const mine = await uploadSummary(tokenB('TENANT_ADMIN'), await bravoSummary());
          const byProvider = await uploadSummary(providerAdmin(), await bravoSummary(), b.id);
          for (const u of [mine, byProvider]) {
            expect(u).toMatchObject({
              smartAccount: { id: bravo.smartAccountId, accountId: 'BRAVO-SA-1', tenant: { id: b.id } },
              syncRun: { tenant: { id: b.id }, mode: 'OFFLINE', trigger: 'FILE', status: 'SUCCEEDED' },
            });
          }
          expect(byProvider.serial).toBeGreaterThan(mine.serial);
          expect(byProvider.syncRun.requestedBy).toBe('pat-PROVIDER_ADMIN');
        });
        expect(await server.sql("select tenant_id, subscription_id, quantity from license where external_line_id = 'BRAVO-LINE-1'")).toEqual([
          { tenant_id: b.uuid, subscription_id: 'BRAVO-FILE-SUB-1', quantity: 6 },
        ]);
      });
    },

    'Query.syncRuns': () => {
      useSyncWorld();

      it.each(TENANT_ROLES)("lists exactly A's sync runs for a %s of A, with or without A's tenantId", async (role) => {
        const expected = await idsOf('SyncRun', 'sync_run', a.uuid);
        expect(expected).toContain(sw.aRun.id);
        const bIds = await idsOf('SyncRun', 'sync_run', b.uuid);
        expect(bIds).toContain(sw.bRun.id);
        for (const tenantId of [undefined, a.id]) {
          const res = await server.graphql<{ syncRuns: Page<SyncRunNode> }>(SYNC_RUNS, { tenantId, first: 100 }, tokenA(role));
          expect(res.body.errors).toBeUndefined();
          const page = res.body.data!.syncRuns;
          expect(page.totalCount).toBe(expected.length);
          expect(sorted(page.edges.map((e) => e.node.id))).toEqual(expected);
          expect(page.edges.every((e) => e.node.tenant.id === a.id)).toBe(true);
          expect(page.edges.map((e) => e.node.id).filter((id) => bIds.includes(id))).toEqual([]);
          expect(JSON.stringify(res.body)).not.toMatch(/bravo|olga/i);
        }
      });

      it.each(TENANT_ROLES)('answers a %s of A NOT_FOUND for syncRuns(tenantId: B), exactly as for a nonexistent tenant', async (role) => {
        await expectTenantIdRefusedLikeMissing(SYNC_RUNS, (tenantId) => ({ tenantId, first: 100 }), tokenA(role), 'NOT_FOUND');
      });

      it("never shows B's sync runs to A when A pages with a cursor taken from B's list", async () => {
        const bPage = await server.graphql<{ syncRuns: Page<SyncRunNode> }>(SYNC_RUNS, { first: 1 }, tokenB('TENANT_OPERATOR'));
        expect(bPage.body.data!.syncRuns.pageInfo.hasNextPage).toBe(true);
        const cursor = bPage.body.data!.syncRuns.pageInfo.endCursor;
        expect(cursor).toEqual(expect.any(String));
        const res = await server.graphql<{ syncRuns: Page<SyncRunNode> }>(SYNC_RUNS, { first: 100, after: cursor }, tokenA('TENANT_OPERATOR'));
        expect(res.body.errors).toBeUndefined();
        expect(res.body.data!.syncRuns.edges.every((e) => e.node.tenant.id === a.id)).toBe(true);
        expect(res.body.data!.syncRuns.totalCount).toBe((await idsOf('SyncRun', 'sync_run', a.uuid)).length);
      });

      it.each(TENANT_ROLES)("lets a %s of B list exactly B's runs, the FILE run of B's upload and the provider's failed sync among them", async (role) => {
        const res = await server.graphql<{ syncRuns: Page<SyncRunNode> }>(SYNC_RUNS, { first: 100 }, tokenB(role));
        expect(res.body.errors).toBeUndefined();
        const runs = res.body.data!.syncRuns.edges.map((e) => e.node);
        expect(sorted(runs.map((r) => r.id))).toEqual(await idsOf('SyncRun', 'sync_run', b.uuid));
        expect(runs.every((r) => r.tenant.id === b.id)).toBe(true);
        expect(runs.find((r) => r.id === sw.bRun.id)).toMatchObject({ trigger: 'FILE', status: 'SUCCEEDED', requestedBy: 'bob-TENANT_ADMIN' });
        expect(runs.filter((r) => r.status === 'FAILED').map((r) => r.requestedBy)).toEqual(['olga-PROVIDER_OPERATOR']);
      });

      it("shows providers every tenant's runs without tenantId, and exactly B's with tenantId B", async () => {
        for (const role of ['PROVIDER_ADMIN', 'PROVIDER_OPERATOR'] as const) {
          const all = await server.graphql<{ syncRuns: Page<SyncRunNode> }>(SYNC_RUNS, { first: 100 }, server.token(role));
          expect(all.body.errors).toBeUndefined();
          expect(all.body.data!.syncRuns.totalCount).toBe(await count('select count(*)::int as n from sync_run'));
          expect([...new Set(all.body.data!.syncRuns.edges.map((e) => e.node.tenant.id))]).toEqual(expect.arrayContaining([a.id, b.id]));
          expect(all.body.data!.syncRuns.edges.map((e) => e.node.id)).toEqual(expect.arrayContaining([sw.aRun.id, sw.bRun.id]));
          const onlyB = await server.graphql<{ syncRuns: Page<SyncRunNode> }>(SYNC_RUNS, { tenantId: b.id, first: 100 }, server.token(role));
          expect(sorted(onlyB.body.data!.syncRuns.edges.map((e) => e.node.id))).toEqual(await idsOf('SyncRun', 'sync_run', b.uuid));
        }
      });
    },

    'Query.licenseSyncSettings': () => {
      useSyncWorld();
      /** Global id of the newest run of a tenant (of the instance for null), from the table. */
      const newestRun = async (t: TenantFixture | null): Promise<string | null> => {
        const rows = await server.sql<{ id: string }>(
          `select id from sync_run ${t ? 'where tenant_id = $1' : ''} order by started_at desc, id desc limit 1`,
          t ? [t.uuid] : [],
        );
        return rows[0] ? globalIdOf('SyncRun', rows[0].id) : null;
      };
      const settingsFor = async (token: string): Promise<SyncSettingsNode> =>
        (await ok<{ licenseSyncSettings: SyncSettingsNode }>(SYNC_SETTINGS, {}, token)).licenseSyncSettings;

      it.each(TENANT_ROLES)("shows a %s of A A's own last sync though B synced after it, and B's user B's newest", async (role) => {
        // B syncs last: if the instance's newest run leaked, A would see B's.
        const bNewest = await uploadSummary(tokenB('TENANT_ADMIN'), await bravoSummary());
        expect(await newestRun(null)).toBe(bNewest.syncRun.id);
        const aLast = await newestRun(a);
        expect(aLast).not.toBeNull();
        const mine = await settingsFor(tokenA(role));
        expect(mine.lastSync).toMatchObject({ id: aLast, tenant: { id: a.id } });
        expect(JSON.stringify(mine)).not.toMatch(/bravo|olga/i);
        const theirs = await settingsFor(tokenB(role));
        expect(theirs.lastSync).toMatchObject({ id: bNewest.syncRun.id, tenant: { id: b.id }, trigger: 'FILE', requestedBy: 'bob-TENANT_ADMIN' });
      });

      it.each(TENANT_ROLES)("shows a %s of A A's own reporting clock though B synced after it, the same as A's dashboard shows, and B's user B's", async (role) => {
        // B syncs last: a clock computed from the instance's newest run would show B's sync to A.
        const bNewest = await uploadSummary(tokenB('TENANT_ADMIN'), await bravoSummary());
        const clockFor = async (token: string): Promise<ReportingClockNode | null> =>
          (await ok<{ licenseSyncSettings: { reportingClock: ReportingClockNode | null } }>(SETTINGS_CLOCK, {}, token)).licenseSyncSettings.reportingClock;
        const aClock = await expectedSyncClock(a.uuid);
        const bClock = await expectedSyncClock(b.uuid);
        expect(aClock.lastSyncAt).not.toBeNull();
        expect(bClock.lastSyncAt).toBe(bNewest.syncRun.finishedAt);
        expect(new Date(bClock.lastSyncAt ?? 0).getTime()).toBeGreaterThan(new Date(aClock.lastSyncAt ?? 0).getTime());
        const mine = await clockFor(tokenA(role));
        expect(mine).toMatchObject(aClock);
        expect(mine).toEqual((await ok<{ licenseDashboard: AlertingDashboard }>(DASHBOARD_ALERTS, {}, tokenA(role))).licenseDashboard.reportingClock);
        expect(await clockFor(tokenB(role))).toMatchObject(bClock);
      });

      it('shows a tenant that never synced no last and no next sync, though A and B have runs', async () => {
        const hotel = await createTenant(server, 'iso-hotel', 'Hotel GmbH');
        expect(await newestRun(null)).not.toBeNull();
        for (const role of TENANT_ROLES) {
          const s = await settingsFor(server.token(role, hotel.uuid));
          expect({ lastSync: s.lastSync, nextSyncAt: s.nextSyncAt }).toEqual({ lastSync: null, nextSyncAt: null });
        }
      });

      it("shows providers the instance's newest run, whichever tenant it belongs to", async () => {
        const bNewest = await uploadSummary(tokenB('TENANT_ADMIN'), await bravoSummary());
        for (const role of ['PROVIDER_ADMIN', 'PROVIDER_OPERATOR'] as const) {
          expect((await settingsFor(server.token(role))).lastSync).toMatchObject({ id: bNewest.syncRun.id, tenant: { id: b.id } });
        }
        const aNewest = await uploadSummary(tokenA('TENANT_ADMIN'), await alphaSummary());
        expect((await settingsFor(server.token('PROVIDER_OPERATOR'))).lastSync).toMatchObject({ id: aNewest.syncRun.id, tenant: { id: a.id } });
      });

      it('never returns the client secret, the proxy password or their stored ciphertexts to any role, only flags that they are set', async () => {
        const [row] = await server.sql<{ client_secret_enc: string | null; proxy_password_enc: string | null }>(
          'select client_secret_enc, proxy_password_enc from license_sync_settings',
        );
        // Control: both are stored, and encrypted.
        expect(row.client_secret_enc).toEqual(expect.any(String));
        expect(row.proxy_password_enc).toEqual(expect.any(String));
        expect(row.client_secret_enc).not.toContain(CLIENT_SECRET);
        expect(row.proxy_password_enc).not.toContain(PROXY_PASSWORD);
        const tenantTokens = TENANT_ROLES.flatMap((r) => [tokenA(r), tokenB(r)]);
        const providerTokens = [server.token('PROVIDER_ADMIN'), server.token('PROVIDER_OPERATOR')];
        for (const token of [...tenantTokens, ...providerTokens]) {
          const res = await server.graphql<{ licenseSyncSettings: SyncSettingsNode }>(SYNC_SETTINGS, {}, token);
          expect(res.body.errors).toBeUndefined();
          // Where and as whom the instance connects is the provider's business: tenants see flags only.
          const clientId = providerTokens.includes(token) ? 'slm-isolation-client' : null;
          expect(res.body.data!.licenseSyncSettings).toMatchObject({ hasCredentials: true, hasProxyCredentials: true, clientId });
          await expectNoSecretsIn(res.body);
        }
        // Nor could any field carry one: the type has no field for a secret.
        const type = getSchema().getType('LicenseSyncSettings');
        if (!isObjectType(type)) throw new Error('LicenseSyncSettings is not an object type');
        expect(Object.keys(type.getFields()).filter((f) => /secret|password|token|credential(?!s$)/i.test(f))).toEqual([]);
      });
    },

    'Mutation.generateUsageReport': () => {
      useSyncWorld();

      it.each(TENANT_ROLES)(
        "refuses a %s of A generating B's report (tenantId: B) exactly as a nonexistent tenant's, and stores nothing",
        async (role) => {
          await expectUntouched([a, b], () =>
            expectTenantIdRefusedLikeMissing(GENERATE_REPORT, (tenantId) => ({ input: { tenantId } }), tokenA(role), role === 'TENANT_ADMIN' ? 'NOT_FOUND' : 'FORBIDDEN'),
          );
        },
      );

      it.each(TENANT_ROLES)(
        "answers a %s of A naming B's virtual accounts (managed, unmanaged, bare uuid) exactly as a random virtual account id, and stores nothing",
        async (role) => {
          await expectUntouched([a, b], async () => {
            for (const [bVa, missing] of [
              [bravo.vaProdId, missingGlobalId('VirtualAccount')],
              [bravo.vaLabId, missingGlobalId('VirtualAccount')],
              [uuidOf(bravo.vaProdId), randomUUID()],
            ]) {
              const forB = await server.graphql(GENERATE_REPORT, { input: { virtualAccountId: bVa } }, tokenA(role));
              const forMissing = await server.graphql(GENERATE_REPORT, { input: { virtualAccountId: missing } }, tokenA(role));
              expect(forB.body.data ?? null).toBeNull();
              expect(forB.body.errors?.[0].extensions?.code).toBe(role === 'TENANT_ADMIN' ? 'NOT_FOUND' : 'FORBIDDEN');
              expect(errorsWithout(forB, [bVa])).toEqual(errorsWithout(forMissing, [missing]));
              expect(JSON.stringify(forB.body)).not.toMatch(/bravo/i);
            }
          });
        },
      );

      it("builds A's report from A's devices and account only, though A has a device under one of B's uuids", async () => {
        const aHostnames = new Set(await hostnamesOf(a.uuid));
        const parsed = await parseUsageReport(sw.aReportFile);
        expect(parsed.manifest).toMatchObject({ reportId: uuidOf(sw.aReport.id), smartAccount: { accountId: 'ALPHA-SA-1' }, virtualAccount: { id: 'VA-ALPHA-MAIN' } });
        expect(parsed.measurements.length).toBeGreaterThan(0);
        expect(parsed.measurements.filter((m) => !aHostnames.has(m.hostname))).toEqual([]);
        expect(sw.aReportFile.toString('latin1')).not.toMatch(/bravo/i);
      });

      it("lets B's admin, and a provider operator naming B, build B's report from B's devices and account only, without touching A's rows", async () => {
        const bHostnames = new Set(await hostnamesOf(b.uuid));
        await expectUntouched([a], async () => {
          const calls: [string, Record<string, unknown>][] = [
            [tokenB('TENANT_ADMIN'), {}],
            [server.token('PROVIDER_OPERATOR'), { tenantId: b.id, virtualAccountId: bravo.vaProdId }],
          ];
          for (const [token, input] of calls) {
            const report = await generateReport(token, input);
            expect(report).toMatchObject({ tenant: { id: b.id }, via: 'OFFLINE', status: 'GENERATED' });
            const file = await reportFile(report, tokenB('TENANT_OPERATOR'));
            expect(sha256(file)).toBe(report.fileDigest);
            const parsed = await parseUsageReport(file);
            expect(parsed.manifest).toMatchObject({ reportId: uuidOf(report.id), smartAccount: BRAVO_ACCOUNT_REF, virtualAccount: BRAVO_PROD_VA });
            expect(parsed.measurements.filter((m) => !bHostnames.has(m.hostname))).toEqual([]);
          }
        });
      });
    },

    'Query.usageReports': () => {
      useSyncWorld();

      it.each(TENANT_ROLES)("lists exactly A's usage reports for a %s of A, with or without A's tenantId", async (role) => {
        const expected = await idsOf('UsageReport', 'usage_report', a.uuid);
        expect(expected).toContain(sw.aReport.id);
        const bIds = await idsOf('UsageReport', 'usage_report', b.uuid);
        expect(bIds).toContain(sw.bReport.id);
        for (const tenantId of [undefined, a.id]) {
          const res = await server.graphql<{ usageReports: Page<UsageReportNode> }>(USAGE_REPORTS, { tenantId, first: 100 }, tokenA(role));
          expect(res.body.errors).toBeUndefined();
          const page = res.body.data!.usageReports;
          expect(page.totalCount).toBe(expected.length);
          expect(sorted(page.edges.map((e) => e.node.id))).toEqual(expected);
          expect(page.edges.every((e) => e.node.tenant.id === a.id)).toBe(true);
          expect(page.edges.map((e) => e.node.id).filter((id) => bIds.includes(id))).toEqual([]);
          expect(JSON.stringify(res.body)).not.toMatch(/bravo/i);
        }
      });

      it.each(TENANT_ROLES)('answers a %s of A NOT_FOUND for usageReports(tenantId: B), exactly as for a nonexistent tenant', async (role) => {
        await expectTenantIdRefusedLikeMissing(USAGE_REPORTS, (tenantId) => ({ tenantId, first: 100 }), tokenA(role), 'NOT_FOUND');
      });

      it("never shows B's usage reports to A when A pages with a cursor taken from B's list", async () => {
        const bPage = await server.graphql<{ usageReports: Page<UsageReportNode> }>(USAGE_REPORTS, { first: 1 }, tokenB('TENANT_OPERATOR'));
        expect(bPage.body.data!.usageReports.pageInfo.hasNextPage).toBe(true);
        const cursor = bPage.body.data!.usageReports.pageInfo.endCursor;
        expect(cursor).toEqual(expect.any(String));
        const res = await server.graphql<{ usageReports: Page<UsageReportNode> }>(USAGE_REPORTS, { first: 100, after: cursor }, tokenA('TENANT_OPERATOR'));
        expect(res.body.errors).toBeUndefined();
        expect(res.body.data!.usageReports.edges.every((e) => e.node.tenant.id === a.id)).toBe(true);
        expect(res.body.data!.usageReports.totalCount).toBe((await idsOf('UsageReport', 'usage_report', a.uuid)).length);
      });

      it.each(TENANT_ROLES)("lets a %s of B list exactly B's reports, each with its download URL and digest", async (role) => {
        const res = await server.graphql<{ usageReports: Page<UsageReportNode> }>(USAGE_REPORTS, { first: 100 }, tokenB(role));
        expect(res.body.errors).toBeUndefined();
        const reports = res.body.data!.usageReports.edges.map((e) => e.node);
        expect(sorted(reports.map((r) => r.id))).toEqual(await idsOf('UsageReport', 'usage_report', b.uuid));
        expect(reports.every((r) => r.tenant.id === b.id)).toBe(true);
        expect(reports.find((r) => r.id === sw.bReport.id)).toMatchObject({ fileDigest: sha256(sw.bReportFile), downloadUrl: `/files/usage-reports/${sw.bReport.id}` });
      });

      it("shows providers every tenant's reports without tenantId, and exactly B's with tenantId B", async () => {
        for (const role of ['PROVIDER_ADMIN', 'PROVIDER_OPERATOR'] as const) {
          const all = await server.graphql<{ usageReports: Page<UsageReportNode> }>(USAGE_REPORTS, { first: 100 }, server.token(role));
          expect(all.body.errors).toBeUndefined();
          expect(all.body.data!.usageReports.totalCount).toBe(await count('select count(*)::int as n from usage_report'));
          expect(all.body.data!.usageReports.edges.map((e) => e.node.id)).toEqual(expect.arrayContaining([sw.aReport.id, sw.bReport.id]));
          const onlyB = await server.graphql<{ usageReports: Page<UsageReportNode> }>(USAGE_REPORTS, { tenantId: b.id, first: 100 }, server.token(role));
          expect(sorted(onlyB.body.data!.usageReports.edges.map((e) => e.node.id))).toEqual(await idsOf('UsageReport', 'usage_report', b.uuid));
        }
      });
    },

    'Mutation.uploadAcknowledgement': () => {
      useSyncWorld();
      const reportState = (id: string) =>
        server.sql<{ tenant_id: string; status: string; ack_id: string | null }>('select tenant_id, status, ack_id from usage_report where id = $1', [uuidOf(id)]);
      /** B's signed ACK of B's report, and the same ACK naming a report id that does not exist. */
      const acksForB = async (): Promise<{ forB: Buffer; forMissing: Buffer; missing: string }> => {
        const missing = randomUUID();
        return {
          forB: await ackFile(uuidOf(sw.bReport.id), sw.bReportFile, BRAVO_ACCOUNT_REF, BRAVO_PROD_VA),
          forMissing: await ackFile(missing, sw.bReportFile, BRAVO_ACCOUNT_REF, BRAVO_PROD_VA),
          missing,
        };
      };
      /** `token` uploading B's ACK gets `code`, worded exactly as for the ACK of a random report id. */
      async function expectAckRefusedLikeMissing(token: string, code: string, tenantId?: string): Promise<void> {
        const { forB, forMissing, missing } = await acksForB();
        const resB = await server.graphql(UPLOAD_ACK, upload(forB, tenantId), token);
        const resMissing = await server.graphql(UPLOAD_ACK, upload(forMissing, tenantId), token);
        expect(resB.body.data ?? null).toBeNull();
        expect(resB.body.errors?.[0].extensions?.code).toBe(code);
        expect(errorsWithout(resB, [uuidOf(sw.bReport.id)])).toEqual(errorsWithout(resMissing, [missing]));
        expect(JSON.stringify(resB.body)).not.toMatch(/bravo/i);
      }

      it.each(TENANT_ROLES)(
        "answers a %s of A uploading the signed ACK of B's report exactly as an ACK of a random report id, and B's report stays GENERATED",
        async (role) => {
          expect(await reportState(sw.bReport.id)).toEqual([{ tenant_id: b.uuid, status: 'GENERATED', ack_id: null }]);
          await expectUntouched([a, b], () => expectAckRefusedLikeMissing(tokenA(role), role === 'TENANT_ADMIN' ? 'NOT_FOUND' : 'FORBIDDEN'));
          expect(await reportState(sw.bReport.id)).toEqual([{ tenant_id: b.uuid, status: 'GENERATED', ack_id: null }]);
        },
      );

      it.each(TENANT_ROLES)(
        "answers a %s of A uploading the signed ACK of B's report as a multipart upload (file) exactly as the JSON path does and as an ACK of a random report id",
        async (role) => {
          const { forB, forMissing, missing } = await acksForB();
          const token = tokenA(role);
          await expectUntouched([a, b], async () => {
            const viaFile = await uploadAsFile(UPLOAD_ACK, forB, undefined, token);
            const viaJson = await server.graphql(UPLOAD_ACK, upload(forB), token);
            const missingViaFile = await uploadAsFile(UPLOAD_ACK, forMissing, undefined, token);
            expect(viaFile.body.data ?? null).toBeNull();
            expect(viaFile.body.errors?.[0].extensions?.code).toBe(role === 'TENANT_ADMIN' ? 'NOT_FOUND' : 'FORBIDDEN');
            expect({ status: viaFile.status, body: viaFile.body }).toEqual({ status: viaJson.status, body: viaJson.body });
            expect(errorsWithout(viaFile, [uuidOf(sw.bReport.id)])).toEqual(errorsWithout(missingViaFile, [missing]));
          });
          expect(await reportState(sw.bReport.id)).toEqual([{ tenant_id: b.uuid, status: 'GENERATED', ack_id: null }]);
        },
      );

      it.each(TENANT_ROLES)("refuses a %s of A uploading B's ACK into B (tenantId: B) exactly as into a nonexistent tenant", async (role) => {
        const { forB } = await acksForB();
        await expectUntouched([a, b], () =>
          expectTenantIdRefusedLikeMissing(UPLOAD_ACK, (tenantId) => upload(forB, tenantId), tokenA(role), role === 'TENANT_ADMIN' ? 'NOT_FOUND' : 'FORBIDDEN'),
        );
        expect(await reportState(sw.bReport.id)).toEqual([{ tenant_id: b.uuid, status: 'GENERATED', ack_id: null }]);
      });

      it("answers a provider admin uploading B's ACK for A (tenantId: A) NOT_FOUND, exactly as an ACK of a random report", async () => {
        await expectUntouched([a, b], () => expectAckRefusedLikeMissing(providerAdmin(), 'NOT_FOUND', a.id));
        expect(await reportState(sw.bReport.id)).toEqual([{ tenant_id: b.uuid, status: 'GENERATED', ack_id: null }]);
      });

      it("lets B's admin acknowledge B's report with that ACK; A uploading it afterwards still gets the answer for a random report, not 'already acknowledged'", async () => {
        const { forB } = await acksForB();
        const acked = await expectUntouched([a], async () =>
          (await ok<{ uploadAcknowledgement: UsageReportNode }>(UPLOAD_ACK, upload(forB), tokenB('TENANT_ADMIN'))).uploadAcknowledgement,
        );
        expect(acked).toMatchObject({
          id: sw.bReport.id,
          tenant: { id: b.id },
          status: 'ACKNOWLEDGED',
          acknowledgedSmartAccount: 'Bravo Secret SA (BRAVO-SA-1)',
          acknowledgedVirtualAccount: 'Bravo Production (VA-PROD-7731)',
        });
        // For B, the same file again is a duplicate...
        const again = await server.graphql(UPLOAD_ACK, upload(forB), tokenB('TENANT_ADMIN'));
        expect(again.body.errors?.[0].extensions?.code).toBe('CONFLICT');
        // ...while A learns nothing from it, not even that B's report is acknowledged.
        await expectUntouched([a, b], () => expectAckRefusedLikeMissing(tokenA('TENANT_ADMIN'), 'NOT_FOUND'));
      });

      it("lets A's admin acknowledge A's own report, without touching B's rows", async () => {
        const file = await ackFile(uuidOf(sw.aReport.id), sw.aReportFile, { accountId: 'ALPHA-SA-1', name: 'Alpha SA' }, { id: 'VA-ALPHA-MAIN', name: 'Alpha Main' });
        const acked = await expectUntouched([b], async () =>
          (await ok<{ uploadAcknowledgement: UsageReportNode }>(UPLOAD_ACK, upload(file), tokenA('TENANT_ADMIN'))).uploadAcknowledgement,
        );
        expect(acked).toMatchObject({ id: sw.aReport.id, tenant: { id: a.id }, status: 'ACKNOWLEDGED', acknowledgedSmartAccount: 'Alpha SA (ALPHA-SA-1)' });
      });

      it("refuses as CONFLICT, not an internal error, an ACK that would record B's smart account for a trial tenant's report; nothing is adopted and B is untouched", async () => {
        // As for configureSmartAccount and uploadLicenseSummary: a smart account belongs to one tenant.
        const foxtrot = await createTenant(server, 'iso-foxtrot', 'Foxtrot SARL');
        const admin = server.token('TENANT_ADMIN', foxtrot.uuid, { sub: 'fay-TENANT_ADMIN' });
        const [device] = await registerDevices(server, admin, [deviceInput(71, { uuid: 'FOXTROT-0001', hostname: 'foxtrot-edge-1.example' })]);
        expect((await assign(admin, { deviceIds: [device.id], level: 'ESSENTIALS', tier: 'T0' })).pending).toBe(1);
        const report = await generateReport(admin);
        const file = await reportFile(report, admin);
        expect((await parseUsageReport(file)).manifest).toMatchObject({ smartAccount: null, virtualAccount: null });
        await expectUntouched([a, b, foxtrot], async () => {
          const res = await server.graphql(UPLOAD_ACK, upload(await ackFile(uuidOf(report.id), file, BRAVO_ACCOUNT_REF, BRAVO_PROD_VA)), admin);
          expect(res.body.data ?? null).toBeNull();
          expect(res.body.errors?.[0].extensions?.code).toBe('CONFLICT');
          const text = JSON.stringify(res.body);
          expect(text).not.toMatch(/bravo-secret|iso-bravo|Bravo Secret Corp/);
          for (const id of [b.id, b.uuid, bravo.smartAccountId]) expect(text).not.toContain(id);
        });
        expect(await reportState(report.id)).toEqual([{ tenant_id: foxtrot.uuid, status: 'GENERATED', ack_id: null }]);
        // Control: the ACK of the same report naming an account no tenant holds is accepted, and the account adopted.
        const acked = (
          await ok<{ uploadAcknowledgement: UsageReportNode }>(
            UPLOAD_ACK,
            upload(await ackFile(uuidOf(report.id), file, { accountId: 'FOXTROT-SA-1', name: 'Foxtrot SA' }, { id: 'VA-FOXTROT-1', name: 'Foxtrot VA' })),
            admin,
          )
        ).uploadAcknowledgement;
        expect(acked).toMatchObject({ id: report.id, tenant: { id: foxtrot.id }, status: 'ACKNOWLEDGED', acknowledgedSmartAccount: 'Foxtrot SA (FOXTROT-SA-1)' });
        expect(await server.sql('select external_id from smart_account where tenant_id = $1', [foxtrot.uuid])).toEqual([{ external_id: 'FOXTROT-SA-1' }]);
      });
    },

    // ---- Alerts. They run last: by now both tenants' writes have raised alerts, and resolved some.

    'Query.alerts': () => {
      const alertsFor = async (token: string, variables: Record<string, unknown>): Promise<Page<AlertNode>> =>
        (await ok<{ alerts: Page<AlertNode> }>(ALERTS, { first: 100, ...variables }, token)).alerts;
      const idsIn = (page: Page<AlertNode>): string[] => sorted(page.edges.map((e) => e.node.id));
      /** Every id of B's that an alert could name: tenant, devices, accounts, lines, assignments. */
      const bIdentifiers = (): string[] => [
        b.id,
        b.uuid,
        ...Object.values(bravo.devices),
        bravo.smartAccountId,
        bravo.vaProdId,
        bravo.vaLabId,
        ...bravo.licenseIds,
        ...bravo.assignmentIds,
      ];

      it.each(TENANT_ROLES)("lists exactly A's alerts for a %s of A, with or without A's tenantId, none naming anything of B's", async (role) => {
        const expected = await alertIdsOf(a.uuid);
        expect(expected.length).toBeGreaterThan(0);
        expect((await alertIdsOf(b.uuid)).length).toBeGreaterThan(0);
        for (const tenantId of [undefined, a.id]) {
          const res = await server.graphql<{ alerts: Page<AlertNode> }>(ALERTS, { tenantId, first: 100 }, tokenA(role));
          expect(res.body.errors).toBeUndefined();
          const page = res.body.data!.alerts;
          expect(page.totalCount).toBe(expected.length);
          expect(idsIn(page)).toEqual(expected);
          expect(page.edges.every((e) => e.node.tenant?.id === a.id)).toBe(true);
          const text = JSON.stringify(res.body);
          expect(bIdentifiers().filter((id) => text.includes(id))).toEqual([]);
          expect(text).not.toMatch(/bravo/i);
        }
      });

      it.each(TENANT_ROLES)("gives a %s of A only A's open alerts for active: true and only A's resolved ones for active: false, though B has both", async (role) => {
        for (const active of [true, false]) {
          const forOwner = await alertsFor(tokenB(role), { active });
          const bExpected = await alertIdsOf(b.uuid, active);
          // Control: B has alerts in this state, and sees them with the same filter.
          expect({ active, b: bExpected.length > 0 }).toEqual({ active, b: true });
          expect(idsIn(forOwner)).toEqual(bExpected);
          const expected = await alertIdsOf(a.uuid, active);
          const page = await alertsFor(tokenA(role), { active });
          expect({ active, totalCount: page.totalCount, ids: idsIn(page) }).toEqual({ active, totalCount: expected.length, ids: expected });
          expect(page.edges.every((e) => e.node.tenant?.id === a.id && e.node.active === active)).toBe(true);
          expect(JSON.stringify(page)).not.toMatch(/bravo/i);
        }
      });

      it.each(TENANT_ROLES)('answers a %s of A NOT_FOUND for alerts(tenantId: B), with or without a filter, exactly as for a nonexistent tenant', async (role) => {
        for (const active of [undefined, true, false]) {
          await expectTenantIdRefusedLikeMissing(ALERTS, (tenantId) => ({ tenantId, active, first: 100 }), tokenA(role), 'NOT_FOUND');
        }
      });

      it("never shows B's alerts to A when A pages with a cursor taken from B's list, whatever the filter", async () => {
        for (const active of [undefined, true, false]) {
          const bPage = await alertsFor(tokenB('TENANT_OPERATOR'), { active, first: 1 });
          const cursor = bPage.pageInfo.endCursor;
          expect({ active, cursor }).toEqual({ active, cursor: expect.any(String) });
          const expected = await alertIdsOf(a.uuid, active);
          for (const role of TENANT_ROLES) {
            const res = await server.graphql<{ alerts: Page<AlertNode> }>(ALERTS, { active, first: 100, after: cursor }, tokenA(role));
            expect(res.body.errors).toBeUndefined();
            const page = res.body.data!.alerts;
            expect(page.edges.every((e) => e.node.tenant?.id === a.id)).toBe(true);
            expect(page.edges.map((e) => e.node.id).filter((id) => !expected.includes(id))).toEqual([]);
            expect(page.totalCount).toBe(expected.length);
          }
        }
      });

      it("does not reveal B's alerts to A when A pages with a cursor positioned just before one of B's in a provider's list", async () => {
        const all = await alertsFor(server.token('PROVIDER_OPERATOR'), {});
        const bIndex = all.edges.findIndex((e, i) => i > 0 && e.node.tenant?.id === b.id);
        expect(bIndex).toBeGreaterThan(0);
        const cursorBeforeB = all.edges[bIndex - 1].cursor;
        // Control: the cursor does lead a provider to B's alert.
        const providerNext = await alertsFor(server.token('PROVIDER_OPERATOR'), { first: 1, after: cursorBeforeB });
        expect(providerNext.edges.map((e) => e.node.id)).toEqual([all.edges[bIndex].node.id]);
        const bIds = await alertIdsOf(b.uuid);
        for (const role of TENANT_ROLES) {
          const page = await alertsFor(tokenA(role), { after: cursorBeforeB });
          expect(page.edges.map((e) => e.node.id).filter((id) => bIds.includes(id))).toEqual([]);
          expect(page.totalCount).toBe((await alertIdsOf(a.uuid)).length);
        }
      });

      it.each([
        ['a cursor of another shape', () => Buffer.from(JSON.stringify(['bravo-core-1.example', 'not-a-uuid']), 'utf8').toString('base64url')],
        ["a cursor of this list whose time is not a time", () => Buffer.from(JSON.stringify(['alerts', 'not-a-time', randomUUID()]), 'utf8').toString('base64url')],
      ])('answers BAD_USER_INPUT, not an internal error, for a forged alerts cursor: %s', async (_label, forge) => {
        // Cursors are opaque, but nothing stops a client from crafting one; a crafted cursor must be
        // refused as input like any other, never reach SQL as a value of the wrong type.
        const res = await server.graphql(ALERTS, { first: 10, after: forge() }, tokenA('TENANT_OPERATOR'));
        expect(res.body.data ?? null).toBeNull();
        expect({ code: res.body.errors?.[0].extensions?.code, message: res.body.errors?.[0].message }).toEqual({
          code: 'BAD_USER_INPUT',
          message: expect.stringContaining('after'),
        });
      });

      it("pages a TENANT_OPERATOR of A through exactly A's alerts one at a time, newest first", async () => {
        const seen: AlertNode[] = [];
        let after: string | null = null;
        for (let guard = 0; guard < 100; guard++) {
          const page: Page<AlertNode> = await alertsFor(tokenA('TENANT_OPERATOR'), { first: 1, after });
          seen.push(...page.edges.map((e) => e.node));
          if (!page.pageInfo.hasNextPage) break;
          after = page.pageInfo.endCursor;
        }
        expect(sorted(seen.map((x) => x.id))).toEqual(await alertIdsOf(a.uuid));
        expect(seen.every((x) => x.tenant?.id === a.id)).toBe(true);
        const times = seen.map((x) => new Date(x.raisedAt).getTime());
        expect(times).toEqual([...times].sort((x, y) => y - x));
      });

      it.each(TENANT_ROLES)("lets a %s of B list exactly B's alerts, the line of B's near its end among them", async (role) => {
        const page = await alertsFor(tokenB(role), {});
        expect(page.totalCount).toBe((await alertIdsOf(b.uuid)).length);
        expect(idsIn(page)).toEqual(await alertIdsOf(b.uuid));
        expect(page.edges.every((e) => e.node.tenant?.id === b.id)).toBe(true);
        // bravo.licenseIds[2] is B's postpaid MSLA line ending in 20 days.
        expect(page.edges.map((e) => e.node).find((x) => x.kind === 'LICENSE_EXPIRING' && x.subjectId === bravo.licenseIds[2])).toMatchObject({
          subjectType: 'License',
          active: true,
          message: expect.stringContaining('BRAVO-MSLA-1'),
        });
      });

      it("shows providers every tenant's alerts without tenantId, and exactly B's with tenantId B", async () => {
        for (const role of ['PROVIDER_ADMIN', 'PROVIDER_OPERATOR'] as const) {
          const all = await alertsFor(server.token(role), {});
          expect(all.totalCount).toBe((await alertIdsOf(null)).length);
          expect(idsIn(all)).toEqual(await alertIdsOf(null));
          expect(all.edges.map((e) => e.node.tenant?.id)).toEqual(expect.arrayContaining([a.id, b.id]));
          const onlyB = await alertsFor(server.token(role), { tenantId: b.id });
          expect(idsIn(onlyB)).toEqual(await alertIdsOf(b.uuid));
          const openOfB = await alertsFor(server.token(role), { tenantId: b.id, active: true });
          expect(idsIn(openOfB)).toEqual(await alertIdsOf(b.uuid, true));
        }
      });
    },

    'Mutation.acknowledgeAlert': () => {
      const acknowledgedOf = (t: TenantFixture) =>
        server.sql<{ id: string; acknowledged_by: string | null }>(
          'select id, acknowledged_by from alert where tenant_id = $1 and acknowledged_at is not null order by id',
          [t.uuid],
        );
      const acknowledge = async (id: string, token: string): Promise<AlertNode> =>
        (await ok<{ acknowledgeAlert: AlertNode }>(ACKNOWLEDGE_ALERT, { id }, token)).acknowledgeAlert;

      /** `token` acknowledging each of B's alerts (global id and bare uuid) gets NOT_FOUND, worded exactly as for a random Alert id. */
      async function expectAcknowledgeRefusedLikeMissing(token: string): Promise<void> {
        const ids = await alertIdsOf(b.uuid);
        expect(ids.length).toBeGreaterThan(0);
        for (const id of ids) {
          for (const [probe, missing] of [
            [id, missingGlobalId('Alert')],
            [uuidOf(id), randomUUID()],
          ]) {
            const forB = await server.graphql(ACKNOWLEDGE_ALERT, { id: probe }, token);
            const forMissing = await server.graphql(ACKNOWLEDGE_ALERT, { id: missing }, token);
            expect(forB.body.data ?? null).toBeNull();
            expect(forB.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
            expect(errorsWithout(forB, [probe])).toEqual(errorsWithout(forMissing, [missing]));
            expect(JSON.stringify(forB.body)).not.toMatch(/bravo/i);
          }
        }
      }

      it.each(TENANT_ROLES)(
        "answers a %s of A acknowledging each of B's alerts NOT_FOUND exactly as a random Alert id, and B's alerts stay unacknowledged",
        async (role) => {
          expect(await acknowledgedOf(b)).toEqual([]);
          await expectUntouched([a, b], () => expectAcknowledgeRefusedLikeMissing(tokenA(role)));
          expect(await acknowledgedOf(b)).toEqual([]);
        },
      );

      it("lets B's operator acknowledge B's alert (it stays active, a second acknowledgement keeps the first), without changing A's alerts or A's counts; A still gets NOT_FOUND, not 'already acknowledged'", async () => {
        const id = await alertOf(b, 'OUT_OF_COMPLIANCE');
        const aCounts = (await ok<{ licenseDashboard: AlertingDashboard }>(DASHBOARD_ALERTS, {}, tokenA('TENANT_OPERATOR'))).licenseDashboard.alerts;
        const bCounts = (await ok<{ licenseDashboard: AlertingDashboard }>(DASHBOARD_ALERTS, {}, tokenB('TENANT_OPERATOR'))).licenseDashboard.alerts;
        const first = await expectUntouched([a], () => acknowledge(id, tokenB('TENANT_OPERATOR')));
        expect(first).toMatchObject({ id, tenant: { id: b.id }, kind: 'OUT_OF_COMPLIANCE', active: true, acknowledgedBy: 'bob-TENANT_OPERATOR' });
        expect(first.acknowledgedAt).toEqual(expect.any(String));
        const again = await acknowledge(id, tokenB('TENANT_ADMIN'));
        expect({ acknowledgedAt: again.acknowledgedAt, acknowledgedBy: again.acknowledgedBy }).toEqual({
          acknowledgedAt: first.acknowledgedAt,
          acknowledgedBy: 'bob-TENANT_OPERATOR',
        });
        expect(await acknowledgedOf(b)).toEqual([{ id: uuidOf(id), acknowledged_by: 'bob-TENANT_OPERATOR' }]);
        // B's count of unacknowledged alerts moved; A's did not.
        expect((await ok<{ licenseDashboard: AlertingDashboard }>(DASHBOARD_ALERTS, {}, tokenA('TENANT_OPERATOR'))).licenseDashboard.alerts).toEqual(aCounts);
        expect((await ok<{ licenseDashboard: AlertingDashboard }>(DASHBOARD_ALERTS, {}, tokenB('TENANT_OPERATOR'))).licenseDashboard.alerts).toEqual({
          ...bCounts,
          unacknowledged: bCounts.unacknowledged - 1,
        });
        // A learns nothing from it, not even that the alert is acknowledged now.
        await expectUntouched([a, b], () => expectAcknowledgeRefusedLikeMissing(tokenA('TENANT_ADMIN')));
      });

      it("lets a provider acknowledge B's alert by the id A got NOT_FOUND for", async () => {
        const id = await alertOf(b, 'LICENSE_EXPIRING');
        const acked = await expectUntouched([a], () => acknowledge(id, server.token('PROVIDER_OPERATOR', undefined, { sub: 'olga-PROVIDER_OPERATOR' })));
        expect(acked).toMatchObject({ id, tenant: { id: b.id }, kind: 'LICENSE_EXPIRING', acknowledgedBy: 'olga-PROVIDER_OPERATOR' });
      });

      it.each(TENANT_ROLES)("lets a %s of A acknowledge A's own alert, without touching B's rows", async (role) => {
        const id = await alertOf(a, 'UNRECONCILED_ASSIGNMENTS');
        const acked = await expectUntouched([b], () => acknowledge(id, tokenA(role)));
        expect(acked).toMatchObject({ id, tenant: { id: a.id }, kind: 'UNRECONCILED_ASSIGNMENTS', acknowledgedAt: expect.any(String) });
        expect(JSON.stringify(acked)).not.toMatch(/bravo/i);
      });
    },

    'Subscription.licenseAlerts': () => {
      afterEach(disposeWsClients);

      it.each(TENANT_ROLES)(
        "answers a %s of A subscribing with tenantId B exactly as with a nonexistent tenant (NOT_FOUND), while B's own user is subscribed",
        async (role) => {
          for (const [bId, missing] of [
            [b.id, missingGlobalId('Tenant')],
            [b.uuid, randomUUID()],
          ]) {
            const forB = await subscriptionOutcome(tokenA(role), bId, 5_000);
            const forMissing = await subscriptionOutcome(tokenA(role), missing, 5_000);
            expect({ bId, stillOpen: forB.stillOpen, code: firstErrorOf(forB)?.extensions?.code }).toEqual({ bId, stillOpen: false, code: 'NOT_FOUND' });
            expect(forB.results.flatMap((r) => (r.data ? [r.data] : []))).toEqual([]);
            expect(outcomeWithout(forB, [bId])).toEqual(outcomeWithout(forMissing, [missing]));
            expect(JSON.stringify(forB)).not.toMatch(/bravo/i);
          }
          // Control: B's own user, and a provider, may subscribe to B (the subscription stays open).
          for (const token of [tokenB(role), server.token('PROVIDER_OPERATOR')]) {
            const own = await subscriptionOutcome(token, b.id, 500);
            expect({ stillOpen: own.stillOpen, results: own.results, error: own.error }).toEqual({ stillOpen: true, results: [], error: null });
          }
          // And a provider naming a nonexistent tenant gets the same NOT_FOUND.
          const providerMissing = await subscriptionOutcome(server.token('PROVIDER_OPERATOR'), missingGlobalId('Tenant'), 5_000);
          expect(firstErrorOf(providerMissing)?.extensions?.code).toBe('NOT_FOUND');
        },
      );

      it.each(TENANT_ROLES)(
        "never delivers B's alert events to a %s of A: B's raised and updated alerts reach B and the providers, then A's marker reaches A with nothing of B's before it",
        async (role) => {
          const feeds = {
            a: followAlerts(tokenA(role)),
            aByTenantId: followAlerts(tokenA(role), a.id),
            b: followAlerts(tokenB(role), b.id),
            provider: followAlerts(server.token('PROVIDER_OPERATOR')),
            providerB: followAlerts(server.token('PROVIDER_ADMIN'), b.id),
          };
          const everyFeed = Object.values(feeds);
          // Subscriptions start asynchronously: acknowledge one alert of each tenant (each time an event)
          // until every feed has received something. Not the OUT_OF_COMPLIANCE alerts: B's is watched below.
          const aProbe = await alertOf(a, 'UNRECONCILED_ASSIGNMENTS');
          const bProbe = await alertOf(b, 'LICENSE_EXPIRING');
          await until(
            'every subscription to receive an event',
            () => everyFeed.every((f) => f.alerts.length > 0),
            async () => {
              await ok(ACKNOWLEDGE_ALERT, { id: aProbe }, tokenA('TENANT_ADMIN'));
              await ok(ACKNOWLEDGE_ALERT, { id: bProbe }, tokenB('TENANT_ADMIN'));
            },
          );

          // B's events: the provider adds B a line ending within 30 days (LICENSE_EXPIRING raised), and
          // B's operator assigns and releases a device (B's OUT_OF_COMPLIANCE alert updated twice).
          const [bLine] = await addLines(b, [
            licenseLine(bravo.vaProdId, DNA_T2_P, `BRAVO-EXP-${role}`, 0, { billingType: 'POSTPAID', billingModel: 'MSLA_U', endDate: inDays(12) }),
          ]);
          const bCompliance = await alertOf(b, 'OUT_OF_COMPLIANCE');
          const mark = Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, f.alerts.length])) as Record<keyof typeof feeds, number>;
          await assign(tokenB('TENANT_OPERATOR'), { deviceIds: [bravo.devices['BRAVO-LIC-8']], level: 'ADVANTAGE', tier: 'T1' });
          await ok(RELEASE, { input: { deviceIds: [bravo.devices['BRAVO-LIC-8']] } }, tokenB('TENANT_OPERATOR'));
          const isBRaise = (x: AlertNode) => x.kind === 'LICENSE_EXPIRING' && x.subjectId === bLine.id;
          const complianceUpdates = (k: keyof typeof feeds) => feeds[k].alerts.slice(mark[k]).filter((x) => x.id === bCompliance).length;
          await until("B's events to reach B and the providers", () =>
            (['b', 'provider', 'providerB'] as const).every((k) => feeds[k].alerts.some(isBRaise) && complianceUpdates(k) >= 2),
          );

          // A's marker: a line of A's ending within 30 days raises A's own LICENSE_EXPIRING alert.
          const [aLine] = await addLines(a, [licenseLine(alpha.vaId, DNA_T0_E, `ALPHA-EXP-${role}`, 1, { endDate: inDays(12) })]);
          const isAMarker = (x: AlertNode) => x.kind === 'LICENSE_EXPIRING' && x.subjectId === aLine.id;
          await until("A's marker to reach A and the provider", () => [feeds.a, feeds.aByTenantId, feeds.provider].every((f) => f.alerts.some(isAMarker)));
          // And a closing marker of B's, so that B's feeds have had the time to receive A's marker if they were to.
          const closing = { b: feeds.b.alerts.length, providerB: feeds.providerB.alerts.length };
          await ok(ACKNOWLEDGE_ALERT, { id: bProbe }, tokenB('TENANT_OPERATOR'));
          await until("B's closing marker to reach B and the provider watching B", () =>
            (['b', 'providerB'] as const).every((k) => feeds[k].alerts.slice(closing[k]).some((x) => x.id === bProbe)),
          );

          const aIds = await alertIdsOf(a.uuid);
          const bIds = await alertIdsOf(b.uuid);
          for (const feed of [feeds.a, feeds.aByTenantId]) {
            expect(feed.problems).toEqual([]);
            expect(feed.alerts.filter((x) => x.tenant?.id !== a.id || !aIds.includes(x.id))).toEqual([]);
            expect(feed.alerts.some(isAMarker)).toBe(true);
            const text = JSON.stringify(feed.alerts);
            expect([b.id, b.uuid, bLine.id, ...bIds].filter((id) => text.includes(id))).toEqual([]);
            expect(text).not.toMatch(/bravo/i);
          }
          for (const feed of [feeds.b, feeds.providerB]) {
            expect(feed.problems).toEqual([]);
            expect(feed.alerts.filter((x) => x.tenant?.id !== b.id || !bIds.includes(x.id))).toEqual([]);
            expect(feed.alerts.some(isAMarker)).toBe(false);
          }
          // Each event carries the alert as stored: B's raised alert as B reads it by id.
          const raised = feeds.b.alerts.find(isBRaise);
          expect(raised).toMatchObject({ tenant: { id: b.id }, subjectType: 'License', active: true, details: { licenseId: bLine.id } });
          const stored = await server.graphql<LicensingNodeData>(ALERT_NODE, { id: raised?.id }, tokenB('TENANT_OPERATOR'));
          expect(stored.body.data!.node).toMatchObject({ id: raised?.id, kind: 'LICENSE_EXPIRING', message: raised?.message });
          // Providers watching every tenant got both tenants' events.
          expect(feeds.provider.problems).toEqual([]);
          expect(feeds.provider.alerts.some(isBRaise) && feeds.provider.alerts.some(isAMarker)).toBe(true);
          expect(new Set(feeds.provider.alerts.map((x) => x.tenant?.id))).toEqual(new Set([a.id, b.id]));
        },
      );
    },

    'Query.licenseUsage': () => {
      const USAGE = `query($tenantId: ID, $from: DateTime!, $to: DateTime!, $granularity: UsageGranularity!) {
        licenseUsage(tenantId: $tenantId, from: $from, to: $to, granularity: $granularity) { tenant { id slug } entitlement { tag } deviceDays }
      }`;
      const range = () => ({ from: new Date(Date.now() - 2 * 86_400_000).toISOString(), to: new Date(Date.now() + 86_400_000).toISOString(), granularity: 'DAY' });
      it.each(TENANT_ROLES)("shows a %s of A only A's usage, and answers tenantId: B exactly as a nonexistent tenant", async (role) => {
        const mine = await ok<{ licenseUsage: { tenant: { id: string }; entitlement: { tag: string } }[] }>(USAGE, range(), tokenA(role));
        expect(mine.licenseUsage.length).toBeGreaterThan(0);
        expect(new Set(mine.licenseUsage.map((r) => r.tenant.id))).toEqual(new Set([a.id]));
        // B holds HSEC; A never did.
        expect(mine.licenseUsage.some((r) => r.entitlement.tag === HSEC_TAG)).toBe(false);
        await expectTenantIdRefusedLikeMissing(USAGE, (tenantId) => ({ ...range(), tenantId }), tokenA(role), 'NOT_FOUND');
      });
      it("shows B its own usage, and a provider each tenant's rows under its own tenant", async () => {
        const bRows = await ok<{ licenseUsage: { tenant: { id: string }; entitlement: { tag: string } }[] }>(USAGE, range(), tokenB('TENANT_OPERATOR'));
        expect(new Set(bRows.licenseUsage.map((r) => r.tenant.id))).toEqual(new Set([b.id]));
        expect(bRows.licenseUsage.some((r) => r.entitlement.tag === HSEC_TAG)).toBe(true);
        const all = await ok<{ licenseUsage: { tenant: { id: string } }[] }>(USAGE, range(), server.token('PROVIDER_OPERATOR'));
        expect([...new Set(all.licenseUsage.map((r) => r.tenant.id))]).toEqual(expect.arrayContaining([a.id, b.id]));
      });
    },

    'Mutation.decommissionDevices': () => {
      const DECOMMISSION = `mutation($input: DecommissionDevicesInput!) { decommissionDevices(input: $input) { decommissioned devices { id tenant { id } } } }`;
      it("answers a TENANT_ADMIN of A NOT_FOUND for B's devices, exactly as for nonexistent ones, and retires nothing", async () => {
        const bIds = [bravo.devices['BRAVO-0001'], bravo.devices['BRAVO-SHARED']];
        const missing = bIds.map(() => missingGlobalId('Device'));
        await expectUntouched([a, b], async () => {
          const forB = await server.graphql(DECOMMISSION, { input: { deviceIds: bIds } }, tokenA('TENANT_ADMIN'));
          const forMissing = await server.graphql(DECOMMISSION, { input: { deviceIds: missing } }, tokenA('TENANT_ADMIN'));
          expect(forB.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
          expect(errorsWithout(forB, bIds)).toEqual(errorsWithout(forMissing, missing));
          // Mixed with A's own device: nothing of A's is retired either.
          const mixed = await server.graphql(DECOMMISSION, { input: { deviceIds: [alpha.devices['ALPHA-0002'], bIds[0]] } }, tokenA('TENANT_ADMIN'));
          expect(mixed.body.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', deviceIds: [bIds[0]] });
          await expectTenantIdRefusedLikeMissing(DECOMMISSION, (tenantId) => ({ input: { tenantId, deviceIds: bIds } }), tokenA('TENANT_ADMIN'), 'NOT_FOUND');
          // A filter that would match B's devices by name matches none of them from A.
          const byFilter = await ok<{ decommissionDevices: { decommissioned: number } }>(DECOMMISSION, { input: { filter: { search: 'bravo' } } }, tokenA('TENANT_ADMIN'));
          expect(byFilter.decommissionDevices.decommissioned).toBe(0);
        });
      });
      it("lets B retire a device of its own without touching A's rows", async () => {
        const [device] = await registerDevices(server, tokenB('TENANT_ADMIN'), [deviceInput(90, { uuid: 'BRAVO-RETIRE-1', hostname: 'bravo-retire-1.example' })]);
        await expectUntouched([a], async () => {
          const res = await ok<{ decommissionDevices: { decommissioned: number; devices: { id: string; tenant: { id: string } }[] } }>(
            DECOMMISSION,
            { input: { deviceIds: [device.id] } },
            tokenB('TENANT_ADMIN'),
          );
          expect(res.decommissionDevices).toEqual({ decommissioned: 1, devices: [{ id: device.id, tenant: { id: b.id } }] });
        });
      });
    },

    'Mutation.updateLicense': () => {
      const UPDATE = 'mutation($input: UpdateLicenseInput!) { updateLicense(input: $input) { license { id quantity } changed } }';
      it.each(TENANT_ROLES)("refuses a %s of A (FORBIDDEN) for B's line and its own, changing nothing", async (role) => {
        await expectUntouched([a, b], async () => {
          for (const id of [bravo.licenseIds[0], alpha.licenseId]) {
            const res = await server.graphql(UPDATE, { input: { id, quantity: 99 } }, tokenA(role));
            expect(res.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
            expect(JSON.stringify(res.body)).not.toMatch(/bravo/i);
          }
        });
      });
      it("lets the provider correct one of B's lines, touching nothing of A's", async () => {
        const [line] = await addLines(b, [licenseLine(bravo.vaProdId, DNA_T0_E, 'BRAVO-FIX-1', 4)]);
        await expectUntouched([a], async () => {
          const res = await ok<{ updateLicense: { license: { id: string; quantity: number }; changed: string[] } }>(
            UPDATE,
            { input: { id: line.id, quantity: 5 } },
            server.token('PROVIDER_ADMIN'),
          );
          expect(res.updateLicense).toEqual({ license: { id: line.id, quantity: 5 }, changed: ['quantity'] });
        });
      });
    },

    'Mutation.removeLicenses': () => {
      const REMOVE = 'mutation($input: RemoveLicensesInput!) { removeLicenses(input: $input) { removed } }';
      it.each(TENANT_ROLES)("refuses a %s of A (FORBIDDEN) for B's lines, removing nothing", async (role) => {
        await expectUntouched([a, b], async () => {
          const res = await server.graphql(REMOVE, { input: { ids: [bravo.licenseIds[0]] } }, tokenA(role));
          expect(res.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
        });
      });
      it("lets the provider remove one of B's lines; a list mixing tenants removes nothing", async () => {
        const [line] = await addLines(b, [licenseLine(bravo.vaProdId, DNA_T0_E, 'BRAVO-GONE-1', 2)]);
        await expectUntouched([a, b], async () => {
          const mixed = await server.graphql(REMOVE, { input: { ids: [line.id, alpha.licenseId] } }, server.token('PROVIDER_ADMIN'));
          expect(mixed.body.errors?.[0].extensions?.code).toBeDefined();
          expect(mixed.body.data ?? null).toBeNull();
        });
        await expectUntouched([a], async () => {
          const res = await ok<{ removeLicenses: { removed: number } }>(REMOVE, { input: { ids: [line.id] } }, server.token('PROVIDER_ADMIN'));
          expect(res.removeLicenses.removed).toBe(1);
        });
      });
    },

    'Mutation.updateTenant': () => {
      const UPDATETENANT_Q = 'mutation($input: UpdateTenantInput!) { updateTenant(input: $input) { id name } }';
      const updateTenantInput = (t: TenantFixture) => ({ id: t.id, name: 'Renamed' });
      it.each(TENANT_ROLES)("refuses a %s of A (FORBIDDEN) for B and for A itself, changing neither", async (role) => {
        const before = await server.sql('select * from tenant where id = any($1) order by id', [[a.uuid, b.uuid]]);
        for (const target of [b, a]) {
          const res = await server.graphql(UPDATETENANT_Q, { input: updateTenantInput(target) }, tokenA(role));
          expect(res.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
          expect(res.body.data ?? null).toBeNull();
        }
        expect(await server.sql('select * from tenant where id = any($1) order by id', [[a.uuid, b.uuid]])).toEqual(before);
      });
      it('lets a provider admin act on one tenant only: A and B are unchanged', async () => {
        const scratch = await createTenant(server, `iso-update-tenant-${Date.now()}`, 'Scratch');
        const before = await server.sql('select * from tenant where id = any($1) order by id', [[a.uuid, b.uuid]]);
        await expectUntouched([a, b], async () => {
          
          const res = await server.graphql(UPDATETENANT_Q, { input: updateTenantInput(scratch) }, server.token('PROVIDER_ADMIN'));
          expect(res.body.errors).toBeUndefined();
          expect(res.body.data).toEqual({ updateTenant: { id: scratch.id, name: 'Renamed' } });
        });
        expect(await server.sql('select * from tenant where id = any($1) order by id', [[a.uuid, b.uuid]])).toEqual(before);
      });
    },

    'Mutation.suspendTenant': () => {
      const SUSPENDTENANT_Q = 'mutation($input: TenantIdInput!) { suspendTenant(input: $input) { id status } }';
      const suspendTenantInput = (t: TenantFixture) => ({ id: t.id });
      it.each(TENANT_ROLES)("refuses a %s of A (FORBIDDEN) for B and for A itself, changing neither", async (role) => {
        const before = await server.sql('select * from tenant where id = any($1) order by id', [[a.uuid, b.uuid]]);
        for (const target of [b, a]) {
          const res = await server.graphql(SUSPENDTENANT_Q, { input: suspendTenantInput(target) }, tokenA(role));
          expect(res.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
          expect(res.body.data ?? null).toBeNull();
        }
        expect(await server.sql('select * from tenant where id = any($1) order by id', [[a.uuid, b.uuid]])).toEqual(before);
      });
      it('lets a provider admin act on one tenant only: A and B are unchanged', async () => {
        const scratch = await createTenant(server, `iso-suspend-tenant-${Date.now()}`, 'Scratch');
        const before = await server.sql('select * from tenant where id = any($1) order by id', [[a.uuid, b.uuid]]);
        await expectUntouched([a, b], async () => {
          
          const res = await server.graphql(SUSPENDTENANT_Q, { input: suspendTenantInput(scratch) }, server.token('PROVIDER_ADMIN'));
          expect(res.body.errors).toBeUndefined();
          expect(res.body.data).toEqual({ suspendTenant: { id: scratch.id, status: 'SUSPENDED' } });
        });
        expect(await server.sql('select * from tenant where id = any($1) order by id', [[a.uuid, b.uuid]])).toEqual(before);
      });
    },

    'Mutation.resumeTenant': () => {
      const RESUMETENANT_Q = 'mutation($input: TenantIdInput!) { resumeTenant(input: $input) { id status } }';
      const resumeTenantInput = (t: TenantFixture) => ({ id: t.id });
      it.each(TENANT_ROLES)("refuses a %s of A (FORBIDDEN) for B and for A itself, changing neither", async (role) => {
        const before = await server.sql('select * from tenant where id = any($1) order by id', [[a.uuid, b.uuid]]);
        for (const target of [b, a]) {
          const res = await server.graphql(RESUMETENANT_Q, { input: resumeTenantInput(target) }, tokenA(role));
          expect(res.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
          expect(res.body.data ?? null).toBeNull();
        }
        expect(await server.sql('select * from tenant where id = any($1) order by id', [[a.uuid, b.uuid]])).toEqual(before);
      });
      it('lets a provider admin act on one tenant only: A and B are unchanged', async () => {
        const scratch = await createTenant(server, `iso-resume-tenant-${Date.now()}`, 'Scratch');
        const before = await server.sql('select * from tenant where id = any($1) order by id', [[a.uuid, b.uuid]]);
        await expectUntouched([a, b], async () => {
          await ok('mutation($input: TenantIdInput!) { suspendTenant(input: $input) { id } }', { input: { id: scratch.id } }, server.token('PROVIDER_ADMIN'));
          const res = await server.graphql(RESUMETENANT_Q, { input: resumeTenantInput(scratch) }, server.token('PROVIDER_ADMIN'));
          expect(res.body.errors).toBeUndefined();
          expect(res.body.data).toEqual({ resumeTenant: { id: scratch.id, status: 'ACTIVE' } });
        });
        expect(await server.sql('select * from tenant where id = any($1) order by id', [[a.uuid, b.uuid]])).toEqual(before);
      });
    },

    'Mutation.deleteTenant': () => {
      const DELETETENANT_Q = 'mutation($input: DeleteTenantInput!) { deleteTenant(input: $input) { id slug } }';
      const deleteTenantInput = (t: TenantFixture) => ({ id: t.id, confirmSlug: t.slug, force: true });
      it.each(TENANT_ROLES)("refuses a %s of A (FORBIDDEN) for B and for A itself, changing neither", async (role) => {
        const before = await server.sql('select * from tenant where id = any($1) order by id', [[a.uuid, b.uuid]]);
        for (const target of [b, a]) {
          const res = await server.graphql(DELETETENANT_Q, { input: deleteTenantInput(target) }, tokenA(role));
          expect(res.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
          expect(res.body.data ?? null).toBeNull();
        }
        expect(await server.sql('select * from tenant where id = any($1) order by id', [[a.uuid, b.uuid]])).toEqual(before);
      });
      it('lets a provider admin act on one tenant only: A and B are unchanged', async () => {
        const scratch = await createTenant(server, `iso-delete-tenant-${Date.now()}`, 'Scratch');
        const before = await server.sql('select * from tenant where id = any($1) order by id', [[a.uuid, b.uuid]]);
        await expectUntouched([a, b], async () => {
          await ok('mutation($input: TenantIdInput!) { suspendTenant(input: $input) { id } }', { input: { id: scratch.id } }, server.token('PROVIDER_ADMIN'));
          const res = await server.graphql(DELETETENANT_Q, { input: deleteTenantInput(scratch) }, server.token('PROVIDER_ADMIN'));
          expect(res.body.errors).toBeUndefined();
          expect(res.body.data).toEqual({ deleteTenant: { id: scratch.id, slug: scratch.slug } });
          expect(await count('select count(*)::int as n from tenant where id = $1', [scratch.uuid])).toBe(0);
        });
        expect(await server.sql('select * from tenant where id = any($1) order by id', [[a.uuid, b.uuid]])).toEqual(before);
      });
    },
  };

  for (const [operation, suite] of Object.entries(crossTenantSuites)) describe(operation, suite);

  // node(id:) and the file route for the sync objects: not root fields of their own, and they need the
  // sync world, so they come after the sync suites rather than in 'Query.node' above.
  describe('Query.node for sync runs and usage reports', () => {
    useSyncWorld();
    /** Every sync run and usage report of B, with its global id as the API hands it out. */
    const bSyncObjects = async (): Promise<[GlobalType, string][]> => [
      ...(await idsOf('SyncRun', 'sync_run', b.uuid)).map((id): [GlobalType, string] => ['SyncRun', id]),
      ...(await idsOf('UsageReport', 'usage_report', b.uuid)).map((id): [GlobalType, string] => ['UsageReport', id]),
    ];

    it.each(TENANT_ROLES)("answers a %s of A null for each of B's sync runs and usage reports, exactly as for a random id of the type", async (role) => {
      const objects = await bSyncObjects();
      expect(objects.map(([, id]) => id)).toEqual(expect.arrayContaining([sw.bRun.id, sw.bReport.id]));
      for (const [type, id] of objects) {
        const forMissing = await server.graphql(SYNC_NODE, { id: missingGlobalId(type) }, tokenA(role));
        const forB = await server.graphql(SYNC_NODE, { id }, tokenA(role));
        expect(forMissing.body).toEqual({ data: { node: null } });
        expect({ type, id, body: forB.body }).toEqual({ type, id, body: forMissing.body });
      }
    });

    it.each(TENANT_ROLES)("lets a %s of B fetch each of them by the ids A got null for", async (role) => {
      for (const [type, id] of await bSyncObjects()) {
        const res = await server.graphql<SyncNodeData>(SYNC_NODE, { id }, tokenB(role));
        expect(res.body.errors).toBeUndefined();
        const tenantOf = res.body.data!.node?.runTenant ?? res.body.data!.node?.reportTenant;
        expect({ type, typename: res.body.data!.node?.__typename, tenant: tenantOf }).toEqual({ type, typename: type, tenant: { id: b.id } });
      }
    });

    it("lets a provider fetch B's sync runs and usage reports by the same ids, and A its own", async () => {
      for (const [type, id] of await bSyncObjects()) {
        const res = await server.graphql<SyncNodeData>(SYNC_NODE, { id }, server.token('PROVIDER_OPERATOR'));
        expect({ type, node: res.body.data!.node }).toMatchObject({ type, node: { __typename: type, id } });
      }
      for (const [type, id] of [['SyncRun', sw.aRun.id], ['UsageReport', sw.aReport.id]]) {
        const res = await server.graphql<SyncNodeData>(SYNC_NODE, { id }, tokenA('TENANT_OPERATOR'));
        expect({ type, node: res.body.data!.node }).toMatchObject({ type, node: { __typename: type, id } });
      }
    });
  });

  describe('GET /files/usage-reports/:id', () => {
    useSyncWorld();
    const bReportIds = () => idsOf('UsageReport', 'usage_report', b.uuid);

    it.each(TENANT_ROLES)(
      "answers a %s of A 404 for each of B's report files exactly as for a random report id, by global id and bare uuid, GET and HEAD",
      async (role) => {
        const ids = await bReportIds();
        expect(ids).toContain(sw.bReport.id);
        for (const globalId of ids) {
          for (const [bId, missing] of [
            [globalId, missingGlobalId('UsageReport')],
            [uuidOf(globalId), randomUUID()],
          ]) {
            for (const method of ['GET', 'HEAD'] as const) {
              const forB = await download(bId, tokenA(role), method);
              const forMissing = await download(missing, tokenA(role), method);
              expect({ method, status: forB.status }).toEqual({ method, status: 404 });
              expect(downloadWithout(forB, bId)).toEqual(downloadWithout(forMissing, missing));
              expect(forB.body.toString('latin1')).not.toMatch(/bravo/i);
            }
          }
        }
      },
    );

    it.each(TENANT_ROLES)("serves each of B's report files to a %s of B, byte for byte the file its digest names", async (role) => {
      // Every report with a file, wherever its bytes are kept (usage_report.file, or usage_report_chunk).
      const stored = await server.sql<{ id: string; file_digest: string }>('select id, file_digest from usage_report where tenant_id = $1 and file_size is not null', [b.uuid]);
      expect(stored.length).toBeGreaterThan(1);
      for (const { id, file_digest: digest } of stored) {
        const res = await download(globalIdOf('UsageReport', id), tokenB(role));
        expect({ status: res.status, contentType: res.contentType, digest: sha256(res.body) }).toEqual({ status: 200, contentType: 'application/gzip', digest });
      }
    });

    it("serves B's report file to providers, and A's own file to A", async () => {
      for (const role of ['PROVIDER_ADMIN', 'PROVIDER_OPERATOR'] as const) {
        const res = await download(sw.bReport.id, server.token(role));
        expect({ status: res.status, same: res.body.equals(sw.bReportFile) }).toEqual({ status: 200, same: true });
      }
      for (const role of TENANT_ROLES) {
        const res = await download(sw.aReport.id, tokenA(role));
        expect({ status: res.status, same: res.body.equals(sw.aReportFile) }).toEqual({ status: 200, same: true });
      }
    });

    it("answers 401 without a bearer token, for B's report exactly as for a random id", async () => {
      const missing = missingGlobalId('UsageReport');
      const forB = await download(sw.bReport.id, null);
      const forMissing = await download(missing, null);
      expect(forB.status).toBe(401);
      expect(downloadWithout(forB, sw.bReport.id)).toEqual(downloadWithout(forMissing, missing));
    });
  });

  describe('spellings of B\'s ids', () => {
    const variants = (): [string, string][] => [
      ['global id', b.id],
      ['bare uuid', b.uuid],
      ['upper-case bare uuid', b.uuid.toUpperCase()],
      ['bare uuid with spaces', ` ${b.uuid} `],
      ['global id of the upper-case uuid', Buffer.from(`Tenant:${b.uuid.toUpperCase()}`).toString('base64url')],
      ['padded standard base64 global id', Buffer.from(`Tenant:${b.uuid}`).toString('base64')],
      ['lower-case type name', Buffer.from(`tenant:${b.uuid}`).toString('base64url')],
      ['Device type over the tenant uuid', Buffer.from(`Device:${b.uuid}`).toString('base64url')],
    ];

    it.each(TENANT_ROLES)("gives a %s of A nothing of B's under any spelling of B's tenant id", async (role) => {
      const token = tokenA(role);
      for (const [label, id] of variants()) {
        for (const [query, vars] of [
          [TENANT, { id }],
          [NODE, { id }],
          [DEVICES, { tenantId: id, first: 100 }],
        ] as const) {
          const res = await server.graphql(query, vars, token);
          expect({ label, leaksB: /bravo/i.test(JSON.stringify(res.body)) }).toEqual({ label, leaksB: false });
          expect(res.body.errors?.map((e) => e.extensions?.code) ?? []).not.toContain('INTERNAL_SERVER_ERROR');
        }
      }
      // Control: the same spellings that a provider may use do lead to B.
      const provider = await server.graphql<{ tenant: TenantNode | null }>(TENANT, { id: b.uuid.toUpperCase() }, server.token('PROVIDER_OPERATOR'));
      expect(provider.body.data!.tenant?.slug).toBe(b.slug);
    });
  });

  it('has a cross-tenant suite for every Query, Mutation and Subscription field of the schema', () => {
    const schema = getSchema();
    const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()];
    const operations = roots.flatMap((type) => (type ? Object.keys(type.getFields()).map((f) => `${type.name}.${f}`) : []));
    expect(operations.length).toBeGreaterThan(0);
    const uncovered = operations.filter((op) => !(op in crossTenantSuites));
    expect({ uncovered }).toEqual({ uncovered: [] });
    // And no stale entries: every covered operation still exists.
    const stale = Object.keys(crossTenantSuites).filter((op) => !operations.includes(op));
    expect({ stale }).toEqual({ stale: [] });
  });
});
