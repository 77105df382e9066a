import { createHash, randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { buildAck, buildLicenseSummary, type LicenseLine, type VirtualAccountLicenses } from '../src/ssm/files/formats';
import { keyPairFromSeed, publicKeyPem } from '../src/ssm/files/signing';
import { startTestServer, type TestServer } from './support/harness';

/**
 * Isolation fuzz (issue 6, item 8). Each run creates two fresh tenants A and B with random data through
 * the API, collects every id both can see (as their own users), then lets A's TENANT_ADMIN or
 * TENANT_OPERATOR issue a random sequence of queries, mutations and downloads whose arguments are drawn
 * from A's ids, B's ids (in several spellings) and garbage. Checked after every request of A:
 *
 *  (a) nothing of any other tenant reaches A: no row uuid or sha256 digest of another tenant's rows, no
 *      distinctive marker of another tenant (every string of a tenant carries its random token), unless A
 *      itself sent it in that request or stored it in its own data; A's totals count A's rows only; and
 *      never an INTERNAL_SERVER_ERROR or an HTTP 5xx;
 *  (b) every row that is not A's (every tenant-owned table, the tenant table, the instance settings) is
 *      byte-identical to before A's first request;
 *  (c) a request naming B's ids (or B's subscription ids or report) is answered exactly as the same
 *      request naming ids that do not exist, and no mutation naming them succeeds; the one documented
 *      exception, a smart account id claimed by another tenant (CONFLICT), is excluded from (c).
 *
 * Runs are bounded (NUM_RUNS worlds, at most MAX_OPS operations each) and reproducible (SEED).
 *
 * License files in these worlds name catalog entitlements only: an unknown tag in a signed file becomes a
 * global (unmanaged) catalog entry every tenant can list, by design; SECURITY.md names that limit.
 */

const SEED = 20_261_128;
const NUM_RUNS = 15;
const MAX_OPS = 12;

type TenantRole = 'TENANT_ADMIN' | 'TENANT_OPERATOR';
type Owner = 'A' | 'B';
const NODE_TYPES = [
  'Tenant',
  'Device',
  'Entitlement',
  'SmartAccount',
  'VirtualAccount',
  'License',
  'LicenseAssignment',
  'AuditEvent',
  'SyncRun',
  'UsageReport',
  'Alert',
] as const;
type NodeType = (typeof NODE_TYPES)[number];
type PoolType = Exclude<NodeType, 'Entitlement'>;
const POOL_TYPES: readonly PoolType[] = NODE_TYPES.filter((t): t is PoolType => t !== 'Entitlement');
const LISTS = ['devices', 'licenses', 'auditEvents', 'alerts', 'syncRuns', 'usageReports'] as const;
type ListName = (typeof LISTS)[number];

const DNA_TAGS = [0, 1, 2, 3].flatMap((t) => ['E', 'A', 'P'].map((l) => `regid.2020-10.com.cisco.DSTACK_T${t}_${l}`));
const HSEC_TAG = 'regid.2019-03.com.cisco.HSECK9';
const MANAGED_TAGS = [...DNA_TAGS, HSEC_TAG];
const OTHER_TAGS = ['regid.2017-03.com.cisco.ipbase', 'SDWAN-DNA-E', 'regid.2099-01.com.example.UNKNOWN'];
const MODELS = ['C8000V', 'ISR4331', 'C8300-1N1S', 'vEdge-1000'];
const LICENSE_SERVER = keyPairFromSeed('isolation-fuzz-license-server');

// ---- Arbitraries: the worlds ------------------------------------------------------------------------

interface DeviceSpec {
  kind: 'IOS_XE_SDWAN' | 'VEDGE';
  mode: 'CONTROLLER' | 'AUTONOMOUS';
  softwareVersion: string;
  hsecCompatible: boolean;
  systemIp: string | null;
  siteId: string | null;
}
type Selector = { level: 'ESSENTIALS' | 'ADVANTAGE' | 'PREMIER'; tier: 'T0' | 'T1' | 'T2' | 'T3' } | { entitlementTag: string } | { hsec: true };
interface LineSpec {
  va: number;
  tag: string;
  billingType: 'PREPAID' | 'POSTPAID';
  altModel: boolean;
  licenseType: 'TERM' | 'DEMO';
  quantity: number;
  /** Days from today to the end of the term: ended, ending within 30 days, later. */
  endInDays: number;
}
interface AssignSpec {
  devices: number[];
  /** The entitlement of one of the tenant's own lines (index), or any selector. */
  selector: number | Selector;
  billingType: 'PREPAID' | 'POSTPAID' | undefined;
  withKey: boolean;
}
interface TenantSpec {
  devices: DeviceSpec[];
  account: 'none' | 'manual' | 'file';
  vaCount: number;
  managed: boolean[];
  lines: LineSpec[];
  assigns: AssignSpec[];
  release: boolean;
  report: boolean;
  acknowledgeAlert: boolean;
}

const deviceSpecArb: fc.Arbitrary<DeviceSpec> = fc.oneof(
  fc.record({
    kind: fc.constant('IOS_XE_SDWAN' as const),
    mode: fc.constantFrom('CONTROLLER' as const, 'AUTONOMOUS' as const),
    softwareVersion: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('17.9.3a', '17.12.1', '17.3.2') }, { weight: 1, arbitrary: fc.constant('17.2.1') }),
    hsecCompatible: fc.boolean(),
    systemIp: fc.option(fc.ipV4(), { nil: null }),
    siteId: fc.option(fc.integer({ min: 1, max: 4_294_967_295 }).map(String), { nil: null }),
  }),
  fc.record({
    kind: fc.constant('VEDGE' as const),
    mode: fc.constant('CONTROLLER' as const),
    softwareVersion: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('20.9.1', '20.6.1') }, { weight: 1, arbitrary: fc.constant('20.3.1') }),
    hsecCompatible: fc.constant(false),
    systemIp: fc.option(fc.ipV4(), { nil: null }),
    siteId: fc.option(fc.integer({ min: 1, max: 4_294_967_295 }).map(String), { nil: null }),
  }),
);
const validSelectorArb: fc.Arbitrary<Selector> = fc.oneof(
  fc.record({ level: fc.constantFrom('ESSENTIALS' as const, 'ADVANTAGE' as const, 'PREMIER' as const), tier: fc.constantFrom('T0' as const, 'T1' as const, 'T2' as const, 'T3' as const) }),
  fc.record({ entitlementTag: fc.constantFrom(...MANAGED_TAGS) }),
  fc.constant({ hsec: true as const }),
);
const lineSpecArb: fc.Arbitrary<LineSpec> = fc.record({
  va: fc.nat(2),
  tag: fc.constantFrom(...MANAGED_TAGS),
  billingType: fc.constantFrom('PREPAID' as const, 'POSTPAID' as const),
  altModel: fc.boolean(),
  licenseType: fc.constantFrom('TERM' as const, 'DEMO' as const),
  quantity: fc.integer({ min: 1, max: 4 }),
  endInDays: fc.constantFrom(-3, 12, 200, 3000),
});
const tenantSpecArb: fc.Arbitrary<TenantSpec> = fc.record({
  devices: fc.array(deviceSpecArb, { minLength: 1, maxLength: 5 }),
  account: fc.constantFrom('none' as const, 'manual' as const, 'file' as const),
  vaCount: fc.integer({ min: 1, max: 3 }),
  managed: fc.array(fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }), { minLength: 3, maxLength: 3 }),
  lines: fc.array(lineSpecArb, { maxLength: 3 }),
  assigns: fc.array(
    fc.record({
      devices: fc.uniqueArray(fc.nat(4), { minLength: 1, maxLength: 4 }),
      selector: fc.oneof(fc.nat(2), validSelectorArb),
      billingType: fc.option(fc.constantFrom('PREPAID' as const, 'POSTPAID' as const), { nil: undefined, freq: 2 }),
      withKey: fc.boolean(),
    }),
    { maxLength: 2 },
  ),
  release: fc.boolean(),
  report: fc.boolean(),
  acknowledgeAlert: fc.boolean(),
});

// ---- Arbitraries: A's operations --------------------------------------------------------------------

type Spelling = 'global' | 'uuid' | 'upper' | 'padded' | 'globalUpper' | 'retyped';
interface PoolRef {
  kind: 'pool';
  owner: Owner;
  type: PoolType;
  index: number;
  spelling: Spelling;
}
interface GarbageRef {
  kind: 'garbage';
  text: string;
}
type Ref = PoolRef | GarbageRef;
interface CursorRef {
  kind: 'cursor';
  owner: Owner;
  /** Undefined: a cursor of the list the operation reads. */
  list: ListName | undefined;
  index: number;
}
interface PickRef {
  kind: 'pick';
  owner: Owner;
  index: number;
}
type AccountChoice = 'own' | 'fresh' | 'B';
interface NewDevice {
  spec: DeviceSpec;
  /** 'fresh', or the chassis uuid of an existing device of A or B. */
  reuse: 'fresh' | PickRef;
}
interface FilterSpec {
  kind: 'IOS_XE_SDWAN' | 'VEDGE' | undefined;
  mode: 'CONTROLLER' | 'AUTONOMOUS' | undefined;
  model: PickRef | GarbageRef | undefined;
  search: PickRef | GarbageRef | undefined;
}
type MaybeRef = Ref | undefined;
type Page = { first: number | undefined; after: CursorRef | GarbageRef | undefined };
type Op = { role: TenantRole } & (
  | { op: 'node'; id: Ref }
  | { op: 'tenant'; id: Ref }
  | { op: 'overview'; first: number | undefined }
  | ({ op: 'devices'; tenantId: MaybeRef; filter: FilterSpec | undefined } & Page)
  | ({ op: 'licenses'; tenantId: MaybeRef; virtualAccountId: MaybeRef; billingType: 'PREPAID' | 'POSTPAID' | undefined; entitlementTag: string | undefined } & Page)
  | { op: 'smartAccounts'; tenantId: MaybeRef }
  | ({ op: 'auditEvents' | 'syncRuns' | 'usageReports'; tenantId: MaybeRef } & Page)
  | ({ op: 'alerts'; tenantId: MaybeRef; active: boolean | undefined } & Page)
  | { op: 'dashboard'; tenantId: MaybeRef }
  | { op: 'download'; id: Ref }
  | { op: 'registerDevices'; tenantId: MaybeRef; devices: NewDevice[] }
  | {
      op: 'assign';
      tenantId: MaybeRef;
      deviceIds: Ref[];
      selector: Selector;
      billingType: 'PREPAID' | 'POSTPAID' | undefined;
      virtualAccountId: MaybeRef;
      subscription: PickRef | GarbageRef | undefined;
      idempotencyKey: 'k1' | 'k2' | 'B' | undefined;
    }
  | { op: 'release'; tenantId: MaybeRef; deviceIds: Ref[]; category: 'DNA' | 'HSEC' | undefined; idempotencyKey: 'k1' | 'k2' | 'B' | undefined }
  | { op: 'replayB'; tenantId: MaybeRef }
  | { op: 'reconcile'; tenantId: MaybeRef }
  | { op: 'setManaged'; tenantId: MaybeRef; ids: Ref[] }
  | { op: 'acknowledgeAlert'; id: Ref }
  | { op: 'configureSmartAccount'; tenantId: MaybeRef; account: AccountChoice; vas: ('fresh' | PickRef)[] }
  | { op: 'generateReport'; tenantId: MaybeRef; virtualAccountId: MaybeRef }
  | { op: 'synchronize'; tenantId: MaybeRef }
  | { op: 'uploadSummary'; tenantId: MaybeRef; account: AccountChoice; replay: boolean; lines: LineSpec[] }
  | { op: 'uploadAck'; tenantId: MaybeRef; report: PickRef; account: 'own' | 'B' }
);

const ownerArb = fc.constantFrom<Owner>('A', 'B');
const spellingArb: fc.Arbitrary<Spelling> = fc.oneof(
  { weight: 8, arbitrary: fc.constant('global' as const) },
  { weight: 2, arbitrary: fc.constant('uuid' as const) },
  { weight: 1, arbitrary: fc.constantFrom('upper' as const, 'padded' as const, 'globalUpper' as const, 'retyped' as const) },
);
const garbageArb: fc.Arbitrary<GarbageRef> = fc
  .oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.uuid(),
    fc.tuple(fc.constantFrom<string>(...NODE_TYPES, 'Bogus', ''), fc.uuid()).map(([t, u]) => globalId(t, u)),
    fc.base64String({ maxLength: 40 }),
    fc.constantFrom('', ' ', 'null', '-1', "' or 1=1 --", '%', '_', '\\', 'VGVuYW50Ojo', '\u0000', 'a'.repeat(300)),
  )
  .map((text) => ({ kind: 'garbage' as const, text }));
const poolRefArb = (types: readonly PoolType[]): fc.Arbitrary<PoolRef> =>
  fc.record({ kind: fc.constant('pool' as const), owner: ownerArb, type: fc.constantFrom(...types), index: fc.nat(40), spelling: spellingArb });
const refArb = (types: readonly PoolType[]): fc.Arbitrary<Ref> =>
  fc.oneof({ weight: 9, arbitrary: poolRefArb(types) }, { weight: 1, arbitrary: garbageArb });
/** Absent half of the time. */
const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined, freq: 2 });
/** An optional tenantId: usually absent (the caller's own tenant), else A's, B's or garbage in any spelling. */
const tenantArgArb: fc.Arbitrary<MaybeRef> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: refArb(['Tenant']) },
);
const pickArb: fc.Arbitrary<PickRef> = fc.record({ kind: fc.constant('pick' as const), owner: ownerArb, index: fc.nat(40) });
const pageArb: fc.Arbitrary<Page> = fc.record({
  first: fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 100 }) },
    { weight: 1, arbitrary: fc.constantFrom(0, -1, 101, 100_000) },
  ),
  after: fc.oneof(
    { weight: 4, arbitrary: fc.constant(undefined) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('cursor' as const),
        owner: ownerArb,
        list: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...LISTS) }),
        index: fc.nat(40),
      }),
    },
    { weight: 1, arbitrary: garbageArb },
  ),
});
const roleArb = fc.constantFrom<TenantRole>('TENANT_ADMIN', 'TENANT_ADMIN', 'TENANT_OPERATOR');
const keyArb = maybe(fc.constantFrom('k1' as const, 'k2' as const, 'B' as const));
const deviceRefsArb = fc.array(refArb(['Device']), { minLength: 1, maxLength: 3 });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ role: roleArb, op: fc.constant('node' as const), id: refArb(POOL_TYPES) }),
  fc.record({ role: roleArb, op: fc.constant('tenant' as const), id: refArb(['Tenant']) }),
  fc.record({ role: roleArb, op: fc.constant('overview' as const), first: maybe(fc.integer({ min: 1, max: 100 })) }),
  pageArb.chain((page) =>
    fc.record({
      role: roleArb,
      op: fc.constant('devices' as const),
      tenantId: tenantArgArb,
      filter: maybe(
        fc.record({
          kind: maybe(fc.constantFrom('IOS_XE_SDWAN' as const, 'VEDGE' as const)),
          mode: maybe(fc.constantFrom('CONTROLLER' as const, 'AUTONOMOUS' as const)),
          model: maybe(fc.oneof(pickArb, garbageArb)),
          search: maybe(fc.oneof(pickArb, garbageArb)),
        }),
      ),
      first: fc.constant(page.first),
      after: fc.constant(page.after),
    }),
  ),
  pageArb.chain((page) =>
    fc.record({
      role: roleArb,
      op: fc.constant('licenses' as const),
      tenantId: tenantArgArb,
      virtualAccountId: maybe(refArb(['VirtualAccount'])),
      billingType: maybe(fc.constantFrom('PREPAID' as const, 'POSTPAID' as const)),
      entitlementTag: maybe(fc.constantFrom(...MANAGED_TAGS, ...OTHER_TAGS)),
      first: fc.constant(page.first),
      after: fc.constant(page.after),
    }),
  ),
  fc.record({ role: roleArb, op: fc.constant('smartAccounts' as const), tenantId: tenantArgArb }),
  pageArb.chain((page) =>
    fc.record({
      role: roleArb,
      op: fc.constantFrom('auditEvents' as const, 'syncRuns' as const, 'usageReports' as const),
      tenantId: tenantArgArb,
      first: fc.constant(page.first),
      after: fc.constant(page.after),
    }),
  ),
  pageArb.chain((page) =>
    fc.record({
      role: roleArb,
      op: fc.constant('alerts' as const),
      tenantId: tenantArgArb,
      active: maybe(fc.boolean()),
      first: fc.constant(page.first),
      after: fc.constant(page.after),
    }),
  ),
  fc.record({ role: roleArb, op: fc.constant('dashboard' as const), tenantId: tenantArgArb }),
  fc.record({ role: roleArb, op: fc.constant('download' as const), id: refArb(['UsageReport']) }),
  fc.record({
    role: roleArb,
    op: fc.constant('registerDevices' as const),
    tenantId: tenantArgArb,
    devices: fc.array(fc.record({ spec: deviceSpecArb, reuse: fc.oneof(fc.constant('fresh' as const), pickArb) }), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({
    role: roleArb,
    op: fc.constant('assign' as const),
    tenantId: tenantArgArb,
    deviceIds: deviceRefsArb,
    selector: fc.oneof(validSelectorArb, fc.record({ entitlementTag: fc.constantFrom(...OTHER_TAGS) })),
    billingType: maybe(fc.constantFrom('PREPAID' as const, 'POSTPAID' as const)),
    virtualAccountId: maybe(refArb(['VirtualAccount'])),
    subscription: maybe(fc.oneof(pickArb, garbageArb)),
    idempotencyKey: keyArb,
  }),
  fc.record({
    role: roleArb,
    op: fc.constant('release' as const),
    tenantId: tenantArgArb,
    deviceIds: deviceRefsArb,
    category: maybe(fc.constantFrom('DNA' as const, 'HSEC' as const)),
    idempotencyKey: keyArb,
  }),
  fc.record({ role: roleArb, op: fc.constant('replayB' as const), tenantId: tenantArgArb }),
  fc.record({ role: roleArb, op: fc.constant('reconcile' as const), tenantId: tenantArgArb }),
  fc.record({ role: roleArb, op: fc.constant('setManaged' as const), tenantId: tenantArgArb, ids: fc.array(refArb(['VirtualAccount']), { maxLength: 3 }) }),
  fc.record({ role: roleArb, op: fc.constant('acknowledgeAlert' as const), id: refArb(['Alert']) }),
  fc.record({
    role: roleArb,
    op: fc.constant('configureSmartAccount' as const),
    tenantId: tenantArgArb,
    account: fc.constantFrom<AccountChoice>('own', 'fresh', 'B'),
    vas: fc.array(fc.oneof(fc.constant('fresh' as const), pickArb), { maxLength: 2 }),
  }),
  fc.record({ role: roleArb, op: fc.constant('generateReport' as const), tenantId: tenantArgArb, virtualAccountId: maybe(refArb(['VirtualAccount'])) }),
  fc.record({ role: roleArb, op: fc.constant('synchronize' as const), tenantId: tenantArgArb }),
  fc.record({
    role: roleArb,
    op: fc.constant('uploadSummary' as const),
    tenantId: tenantArgArb,
    account: fc.constantFrom<AccountChoice>('own', 'fresh', 'B'),
    replay: fc.boolean(),
    lines: fc.array(lineSpecArb, { maxLength: 2 }),
  }),
  fc.record({ role: roleArb, op: fc.constant('uploadAck' as const), tenantId: tenantArgArb, report: pickArb, account: fc.constantFrom('own' as const, 'B' as const) }),
);

// ---- GraphQL documents ------------------------------------------------------------------------------

const NODE = `query($id: ID!) { node(id: $id) { __typename id
  ... on Tenant { slug name createdAt }
  ... on Device { uuid hostname model systemIp siteId deviceTenant: tenant { id slug name }
                  assignments { id assignmentStatus: status license { id subscriptionId } } complianceReasons }
  ... on SmartAccount { domain name accountId accountTenant: tenant { id slug } virtualAccounts { id externalId name managed } }
  ... on VirtualAccount { externalId name managed smartAccount { id accountId name domain } }
  ... on License { subscriptionId quantity inUse available licenseTenant: tenant { id slug } virtualAccount { id externalId name } entitlement { tag } }
  ... on LicenseAssignment { assignmentStatus: status assignedBy releasedBy device { id uuid hostname } license { id subscriptionId } }
  ... on AuditEvent { action actorSubject targetIds details eventTenant: tenant { id slug } }
  ... on Alert { kind message alertDetails: details subjectId acknowledgedBy alertTenant: tenant { id slug } }
  ... on SyncRun { runStatus: status requestedBy errorMessage runTenant: tenant { id slug } }
  ... on UsageReport { reportStatus: status fileDigest downloadUrl generatedBy ackId acknowledgedSmartAccount acknowledgedVirtualAccount reportTenant: tenant { id slug } }
  ... on Entitlement { tag displayName }
} }`;
const TENANT = 'query($id: ID!) { tenant(id: $id) { id slug name createdAt } }';
const OVERVIEW = `query($first: Int) {
  viewer { subject role tenant { id slug name } }
  tenants(first: $first) { totalCount edges { cursor node { id slug name } } }
  licenseSyncSettings { mode serverUrl clientId hasCredentials trustedSigningKeys { keyId }
    lastSync { id status requestedBy errorMessage tenant { id slug } } nextSyncAt reportingClock { lastSyncAt syncDueAt prepaidReportDueAt } }
  entitlements(includeUnmanaged: true) { id tag displayName }
}`;
const DEVICES = `query($tenantId: ID, $filter: DeviceFilter, $first: Int, $after: String) {
  devices(tenantId: $tenantId, filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id uuid hostname model kind mode systemIp siteId tenant { id slug name }
      assignments { id status assignedBy license { id subscriptionId virtualAccount { id externalId name } } } complianceStatus complianceReasons } }
  }
}`;
const LICENSES = `query($tenantId: ID, $virtualAccountId: ID, $billingType: BillingType, $entitlementTag: String, $first: Int, $after: String) {
  licenses(tenantId: $tenantId, virtualAccountId: $virtualAccountId, billingType: $billingType, entitlementTag: $entitlementTag, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id subscriptionId quantity inUse available endDate source tenant { id slug }
      virtualAccount { id externalId name smartAccount { id accountId name domain } } entitlement { tag } } }
  }
}`;
const SMART_ACCOUNTS = `query($tenantId: ID) {
  smartAccounts(tenantId: $tenantId) { id accountId domain name tenant { id slug } virtualAccounts { id externalId name managed } }
}`;
const AUDIT_EVENTS = `query($tenantId: ID, $first: Int, $after: String) {
  auditEvents(tenantId: $tenantId, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id action actorSubject actorRole targetType targetIds details createdAt tenant { id slug } } }
  }
}`;
const SYNC_RUNS = `query($tenantId: ID, $first: Int, $after: String) {
  syncRuns(tenantId: $tenantId, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id status mode trigger requestedBy errorMessage linesAdded tenant { id slug } } }
  }
}`;
const USAGE_REPORTS = `query($tenantId: ID, $first: Int, $after: String) {
  usageReports(tenantId: $tenantId, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id status via fileDigest downloadUrl generatedBy measurements ackId acknowledgedSmartAccount acknowledgedVirtualAccount tenant { id slug } } }
  }
}`;
const ALERTS = `query($tenantId: ID, $active: Boolean, $first: Int, $after: String) {
  alerts(tenantId: $tenantId, active: $active, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id kind severity subjectType subjectId message details acknowledgedBy active tenant { id slug } } }
  }
}`;
const DASHBOARD = `query($tenantId: ID) { licenseDashboard(tenantId: $tenantId) {
  tenant { id slug name }
  entitlements { entitlement { tag } billingType lines purchased inUse available }
  devices { total licensed unlicensed pendingReconciliation }
  compliance { compliant outOfCompliance reasons { reason devices } }
  expiring { within30Days within90Days expired }
  alerts { active critical warning unacknowledged byKind { kind count } }
  reportingClock { lastSyncAt syncDueAt prepaidReportDueAt postpaidReportDueAt }
  tenants { tenant { id slug } devices { total } }
} }`;
const REGISTER = `mutation($input: RegisterDevicesInput!) {
  registerDevices(input: $input) { created updated devices { id uuid hostname tenant { id slug } } }
}`;
const ASSIGNMENT_FIELDS = 'id status category assignedBy device { id uuid hostname } license { id subscriptionId } entitlement { tag }';
const ASSIGN = `mutation($input: AssignLicensesInput!) {
  assignLicenses(input: $input) { assigned replaced unchanged pending replayed assignments { ${ASSIGNMENT_FIELDS} } }
}`;
const RELEASE = `mutation($input: ReleaseLicensesInput!) {
  releaseLicenses(input: $input) { released unchanged replayed releasedAssignments { ${ASSIGNMENT_FIELDS} } }
}`;
const RECONCILE = `mutation($input: ReconcileAssignmentsInput) {
  reconcileAssignments(input: $input) { reconciled stillPending reconciledAssignments { ${ASSIGNMENT_FIELDS} } }
}`;
const SET_MANAGED = `mutation($input: SetManagedVirtualAccountsInput!) {
  setManagedVirtualAccounts(input: $input) { id externalId name managed smartAccount { id accountId name } }
}`;
const ACKNOWLEDGE_ALERT = 'mutation($id: ID!) { acknowledgeAlert(id: $id) { id kind message acknowledgedBy tenant { id slug } } }';
const CONFIGURE = `mutation($input: ConfigureSmartAccountInput!) {
  configureSmartAccount(input: $input) { id accountId domain name tenant { id slug } virtualAccounts { id externalId name managed } }
}`;
const GENERATE_REPORT = `mutation($input: GenerateUsageReportInput!) {
  generateUsageReport(input: $input) { id status fileDigest downloadUrl measurements generatedBy tenant { id slug } }
}`;
const SYNCHRONIZE = 'mutation($input: SynchronizeLicensesInput) { synchronizeLicenses(input: $input) { id status errorMessage tenant { id slug } } }';
const UPLOAD_SUMMARY = `mutation($input: UploadFileInput!) {
  uploadLicenseSummary(input: $input) { serial smartAccount { id accountId name virtualAccounts { id externalId name managed } } syncRun { id status tenant { id slug } } }
}`;
const UPLOAD_ACK = `mutation($input: UploadFileInput!) {
  uploadAcknowledgement(input: $input) { id status ackId acknowledgedSmartAccount acknowledgedVirtualAccount tenant { id slug } }
}`;
const ADD_LICENSES = 'mutation($input: AddLicensesInput!) { addLicenses(input: $input) { id } }';
const CREATE_TENANT = 'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id slug } }';
const SET_SYNC_MODE = 'mutation($input: SetLicenseSyncModeInput!) { setLicenseSyncMode(input: $input) { mode } }';
/** Everything a tenant's own user can list, in one request: the id pools are built from this. */
const COLLECT = `{
  viewer { tenant { id } }
  devices(first: 100) { totalCount edges { cursor node { id uuid hostname model assignments { id } } } }
  smartAccounts { id accountId name virtualAccounts { id externalId } }
  licenses(first: 100) { totalCount edges { cursor node { id subscriptionId } } }
  auditEvents(first: 100) { totalCount edges { cursor node { id } } }
  alerts(first: 100) { totalCount edges { cursor node { id } } }
  syncRuns(first: 100) { totalCount edges { cursor node { id } } }
  usageReports(first: 100) { totalCount edges { cursor node { id fileDigest } } }
}`;

interface Conn<T> {
  totalCount: number;
  edges: { cursor: string; node: T }[];
}
interface CollectData {
  viewer: { tenant: { id: string } | null };
  devices: Conn<{ id: string; uuid: string; hostname: string; model: string; assignments: { id: string }[] }>;
  smartAccounts: { id: string; accountId: string; name: string; virtualAccounts: { id: string; externalId: string }[] }[];
  licenses: Conn<{ id: string; subscriptionId: string }>;
  auditEvents: Conn<{ id: string }>;
  alerts: Conn<{ id: string }>;
  syncRuns: Conn<{ id: string }>;
  usageReports: Conn<{ id: string; fileDigest: string | null }>;
}
interface GqlBody {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}
interface Answer {
  status: number;
  /** What the client received, as text (a downloaded gzip file: its unpacked bytes). */
  text: string;
  body: GqlBody | null;
}

// ---- Helpers ----------------------------------------------------------------------------------------

function globalId(type: string, uuid: string): string {
  return Buffer.from(`${type}:${uuid}`, 'utf8').toString('base64url');
}
function uuidOfGlobal(id: string): string {
  return Buffer.from(id, 'base64url').toString('utf8').split(':')[1] ?? '';
}
/** A deterministic uuid-shaped value from a seed string. */
function uuidFrom(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
function inDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}
const LETTERS = 'ghijklmnopqrstuvwxyz';
function letters(n: number, width: number): string {
  let out = '';
  for (let i = 0; i < width; i++) {
    out = LETTERS[n % LETTERS.length] + out;
    n = Math.floor(n / LETTERS.length);
  }
  return out;
}
const UUID_G = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const HEX64_G = /\b[0-9a-f]{64}\b/g;
const B64_G = /[A-Za-z0-9_+/-]{16,}={0,2}/g;
/** The text plus every base64 run in it that decodes to printable text (global ids, cursors, echoed files). */
function readable(text: string): string[] {
  const out = [text];
  for (const m of text.match(B64_G) ?? []) {
    const decoded = Buffer.from(m, /[+/]/.test(m) ? 'base64' : 'base64url').toString('utf8');
    if (/^[\x20-\x7e]+$/.test(decoded)) out.push(decoded);
  }
  return out;
}
function matches(text: string, re: RegExp): string[] {
  return text.toLowerCase().match(re) ?? [];
}
/** Every string leaf of a JSON-like value. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => strings(v, out));
  else if (value !== null && typeof value === 'object') Object.values(value).forEach((v) => strings(v, out));
  return out;
}
const clip = (s: string, n = 1500): string => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);
const errorCodes = (a: Answer): string[] => (a.body?.errors ?? []).map((e) => e.extensions?.code ?? '?');
const failed = (a: Answer): boolean => a.status >= 400 || (a.body?.errors?.length ?? 0) > 0;

interface RecordedAssign {
  deviceIds: string[];
  selector: Selector;
  billingType: 'PREPAID' | 'POSTPAID' | undefined;
  idempotencyKey: string;
}
/** What one tenant's own users could see of it: the values A's operations are drawn from. */
interface Pool {
  ids: Record<PoolType, string[]>;
  cursors: Record<ListName, string[]>;
  account: { accountId: string; name: string } | null;
  vaExternalIds: string[];
  deviceUuids: string[];
  models: string[];
  hostnames: string[];
  subscriptions: string[];
  reports: { id: string; digest: string }[];
  replay: RecordedAssign | null;
  idempotencyKey: string | null;
}
interface TenantRef {
  id: string;
  uuid: string;
  slug: string;
  token: string;
}

/** A violation of the properties; fast-check shrinks to the smallest world and operations that still throw it. */
class Violation extends Error {
  override name = 'IsolationViolation';
}

// ---- The test ---------------------------------------------------------------------------------------

describe('isolation fuzz', () => {
  let server: TestServer;
  const fileTag = letters(randomBytes(4).readUInt32BE(0), 5);
  let executions = 0;
  /** Every tenant created so far (all runs share one database), with its marker token. */
  const registry: TenantRef[] = [];
  let snapshotSql = '';
  /** Ids and digests anyone may see: the entitlement catalog and the instance settings. */
  let publicUuids = new Set<string>();
  const providerToken = (): string => server.token('PROVIDER_ADMIN', undefined, { sub: `provider-${fileTag}` });

  beforeAll(async () => {
    server = await startTestServer();
    const res = await post(SET_SYNC_MODE, { input: { mode: 'OFFLINE', trustedSigningKeys: [publicKeyPem(LICENSE_SERVER.publicKey)] } }, providerToken());
    if (failed(res)) throw new Error(`setLicenseSyncMode failed: ${res.text}`);
    const tables = await server.sql<{ table_name: string }>(
      `select c.table_name from information_schema.columns c
         join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
        where c.table_schema = 'public' and c.column_name = 'tenant_id' and t.table_type = 'BASE TABLE' order by 1`,
    );
    const agg = (name: string, from: string) =>
      `select '${name}' as t, coalesce(string_agg(x, E'\\n' order by x), '') as rows from (select to_jsonb(r)::text as x from ${from}) s`;
    snapshotSql = [
      agg('license_sync_settings', 'license_sync_settings r'),
      agg('tenant', 'tenant r where r.id <> $1::uuid'),
      ...tables.map(({ table_name: t }) => agg(t, `${t} r where r.tenant_id is distinct from $1::uuid`)),
    ].join('\nunion all\n');
    const catalog = await server.sql<{ id: string }>('select id from entitlement');
    publicUuids = new Set(catalog.map((r) => r.id));
  });

  afterAll(async () => {
    await server?.close();
  });

  async function post(query: string, variables: Record<string, unknown> | undefined, token: string): Promise<Answer> {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const text = await res.text();
    let body: GqlBody | null = null;
    try {
      body = JSON.parse(text) as GqlBody;
    } catch {
      body = null;
    }
    return { status: res.status, text, body };
  }

  async function download(id: string, token: string): Promise<Answer> {
    const res = await fetch(`${server.origin}/files/usage-reports/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${token}` } });
    const bytes = Buffer.from(await res.arrayBuffer());
    if (res.status === 200) return { status: 200, text: zlib.gunzipSync(bytes).toString('latin1'), body: null };
    const text = bytes.toString('utf8');
    let body: GqlBody | null = null;
    try {
      body = JSON.parse(text) as GqlBody;
    } catch {
      body = null;
    }
    return { status: res.status, text, body };
  }

  /** Every row that is not tenant `aUuid`'s, per table, as the owner stores it. */
  async function snapshot(aUuid: string): Promise<Map<string, string>> {
    const rows = await server.sql<{ t: string; rows: string }>(snapshotSql, [aUuid]);
    return new Map(rows.map((r) => [r.t, r.rows]));
  }

  async function ok<T>(query: string, variables: Record<string, unknown> | undefined, token: string): Promise<T> {
    const res = await post(query, variables, token);
    if (failed(res) || !res.body?.data) throw new Error(`setup call failed: ${clip(res.text)}`);
    return res.body.data as T;
  }

  /**
   * One run: builds A's and B's worlds, checks A's own setup against the properties, then A's operations.
   */
  class Execution {
    readonly n = ++executions;
    readonly a: TenantRef;
    readonly b: TenantRef;
    pools: Record<Owner, Pool> = { A: emptyPool(), B: emptyPool() };
    phantomB: Pool = emptyPool();
    /** Each B value substituted in the twin requests, with its stand-in. */
    phantomPairs: [string, string][] = [];
    baseline = new Map<string, string>();
    foreignUuids = new Map<string, string>();
    foreignHex = new Map<string, string>();
    foreignTokens: TenantRef[] = [];
    /** Strings A stored in its own data by successful requests (lower case). */
    acquired = new Set<string>();
    acquiredUuids = new Set<string>();
    acceptedSerial = 0;
    readonly trace: string[] = [];

    constructor(readonly world: { a: TenantSpec; b: TenantSpec }) {
      const token = (owner: Owner): string => `x${fileTag}${letters(this.n * 2 + (owner === 'A' ? 0 : 1), 3)}`;
      this.a = { id: '', uuid: '', slug: `t-${token('A')}`, token: token('A') };
      this.b = { id: '', uuid: '', slug: `t-${token('B')}`, token: token('B') };
    }

    userToken(t: TenantRef, role: TenantRole): string {
      return server.token(role, t.uuid, { sub: `${t.token}-${role === 'TENANT_ADMIN' ? 'admin' : 'operator'}` });
    }

    async createTenants(): Promise<void> {
      for (const t of [this.a, this.b]) {
        const data = await ok<{ createTenant: { id: string } }>(CREATE_TENANT, { input: { name: `Tenant ${t.token}`, slug: t.slug } }, providerToken());
        t.id = data.createTenant.id;
        t.uuid = uuidOfGlobal(t.id);
        registry.push(t);
      }
    }

    // ---- building a world through the API -------------------------------------------------------

    /** Builds one tenant's world as its own users (license lines by hand: the provider). `call` sends as that tenant. */
    async buildWorld(t: TenantRef, spec: TenantSpec, call: (role: TenantRole, q: string, v: Record<string, unknown>) => Promise<Answer>, pool: Pool): Promise<void> {
      const need = async <T>(role: TenantRole, q: string, v: Record<string, unknown>): Promise<T> => {
        const res = await call(role, q, v);
        if (failed(res) || !res.body?.data) throw new Error(`setup of ${t.slug} failed: ${clip(res.text)}`);
        return res.body.data as T;
      };
      const devices = spec.devices.map((d, i) => ({
        uuid: `C8K-${t.token}-${i}`,
        hostname: `edge-${i}.${t.token}.example`,
        model: `${MODELS[i % MODELS.length]}-${t.token}`,
        kind: d.kind,
        mode: d.mode,
        softwareVersion: d.softwareVersion,
        systemIp: d.systemIp,
        siteId: d.siteId,
        hsecCompatible: d.hsecCompatible,
      }));
      const registered = await need<{ registerDevices: { devices: { id: string }[] } }>('TENANT_ADMIN', REGISTER, { input: { devices } });
      const deviceIds = registered.registerDevices.devices.map((d) => d.id);

      const vas = Array.from({ length: spec.vaCount }, (_, i) => ({ externalId: `VA-${t.token}-${i}`, name: `Pool ${i} ${t.token}` }));
      const account = { accountId: `SA-${t.token}`, domain: `${t.token}.example`, name: `Account ${t.token}` };
      const line = (l: LineSpec, i: number) => ({
        entitlementTag: l.tag,
        billingType: l.billingType,
        billingModel: l.billingType === 'PREPAID' ? (l.altModel ? 'ENTERPRISE_AGREEMENT' : 'A_LA_CARTE') : l.altModel ? 'MSLA_C' : 'MSLA_U',
        subscriptionId: `SUB-${t.token}-${i}`,
        licenseType: l.licenseType,
        quantity: l.quantity,
        startDate: '2020-01-01',
        endDate: inDays(l.endInDays),
      });
      let vaIds: string[] = [];
      if (spec.account === 'manual') {
        const data = await need<{ configureSmartAccount: { virtualAccounts: { id: string; externalId: string }[] } }>('TENANT_ADMIN', CONFIGURE, {
          input: { ...account, virtualAccounts: vas },
        });
        vaIds = vas.map((v) => data.configureSmartAccount.virtualAccounts.find((x) => x.externalId === v.externalId)?.id ?? '');
        if (spec.lines.length > 0) {
          await ok(ADD_LICENSES, {
            input: { tenantId: t.id, licenses: spec.lines.map((l, i) => ({ virtualAccountId: vaIds[l.va % vaIds.length], ...line(l, i) })) },
          }, providerToken());
        }
      } else if (spec.account === 'file') {
        const file = await buildLicenseSummary(
          {
            smartAccount: account,
            serial: 1,
            virtualAccounts: vas.map((v, vi) => ({
              id: v.externalId,
              name: v.name,
              licenses: spec.lines
                .map((l, i) => ({ l, i }))
                .filter(({ l }) => l.va % vas.length === vi)
                .map(({ l, i }): LicenseLine => ({ lineId: `LINE-${t.token}-${i}`, inUse: 0, ...line(l, i) }) as LicenseLine),
            })),
          },
          LICENSE_SERVER.privateKey,
        );
        const data = await need<{ uploadLicenseSummary: { serial: number; smartAccount: { virtualAccounts: { id: string; externalId: string }[] } } }>(
          'TENANT_ADMIN',
          UPLOAD_SUMMARY,
          { input: { fileName: `${t.token}.tar.gz`, contentBase64: file.toString('base64') } },
        );
        if (t === this.a) this.acceptedSerial = data.uploadLicenseSummary.serial;
        vaIds = vas.map((v) => data.uploadLicenseSummary.smartAccount.virtualAccounts.find((x) => x.externalId === v.externalId)?.id ?? '');
      }
      if (vaIds.length > 0) {
        await need('TENANT_ADMIN', SET_MANAGED, { input: { virtualAccountIds: vaIds.filter((_, i) => spec.managed[i]) } });
      }
      for (const [k, as] of spec.assigns.entries()) {
        const ids = as.devices.filter((i) => i < deviceIds.length).map((i) => deviceIds[i]);
        if (ids.length === 0) continue;
        const selector: Selector =
          typeof as.selector !== 'number' ? as.selector
          : spec.lines.length > 0 && spec.account !== 'none' ? { entitlementTag: spec.lines[as.selector % spec.lines.length].tag }
          : { level: 'ESSENTIALS', tier: 'T0' };
        const key = as.withKey ? `key-${t.token}-${k}` : undefined;
        const res = await call('TENANT_OPERATOR', ASSIGN, { input: { deviceIds: ids, ...selector, billingType: as.billingType, idempotencyKey: key } });
        if (errorCodes(res).includes('INTERNAL_SERVER_ERROR')) throw new Error(`setup assignment of ${t.slug} failed: ${clip(res.text)}`);
        if (key && !failed(res) && !pool.replay) pool.replay = { deviceIds: ids, selector, billingType: as.billingType, idempotencyKey: key };
        if (key) pool.idempotencyKey = key;
      }
      if (spec.release) {
        const res = await call('TENANT_OPERATOR', RELEASE, { input: { deviceIds: [deviceIds[0]] } });
        if (failed(res)) throw new Error(`setup release of ${t.slug} failed: ${clip(res.text)}`);
        const released = (res.body?.data?.releaseLicenses as { releasedAssignments: { id: string }[] }).releasedAssignments;
        pool.ids.LicenseAssignment.push(...released.map((r) => r.id));
      }
      if (spec.report) {
        const res = await call('TENANT_ADMIN', GENERATE_REPORT, { input: {} });
        if (errorCodes(res).includes('INTERNAL_SERVER_ERROR')) throw new Error(`setup report of ${t.slug} failed: ${clip(res.text)}`);
      }
      if (spec.acknowledgeAlert) {
        const list = await need<{ alerts: Conn<{ id: string }> }>('TENANT_OPERATOR', ALERTS, { first: 1 });
        const first = list.alerts.edges[0]?.node.id;
        if (first) await need('TENANT_OPERATOR', ACKNOWLEDGE_ALERT, { id: first });
      }
    }

    /** Fills `pool` with everything the tenant's own operator can list (one request). */
    async collect(t: TenantRef, call: (role: TenantRole, q: string, v: Record<string, unknown>) => Promise<Answer>, pool: Pool): Promise<void> {
      const res = await call('TENANT_OPERATOR', COLLECT, {});
      if (failed(res) || !res.body?.data) throw new Error(`collecting the ids of ${t.slug} failed: ${clip(res.text)}`);
      const d = res.body.data as unknown as CollectData;
      const keep = (list: string[], more: string[]): string[] => [...new Set([...list, ...more])];
      pool.ids.Tenant = [d.viewer.tenant?.id ?? t.id];
      pool.ids.Device = d.devices.edges.map((e) => e.node.id);
      pool.ids.SmartAccount = d.smartAccounts.map((s) => s.id);
      pool.ids.VirtualAccount = d.smartAccounts.flatMap((s) => s.virtualAccounts.map((v) => v.id));
      pool.ids.License = d.licenses.edges.map((e) => e.node.id);
      pool.ids.LicenseAssignment = keep(pool.ids.LicenseAssignment, d.devices.edges.flatMap((e) => e.node.assignments.map((a) => a.id)));
      pool.ids.AuditEvent = d.auditEvents.edges.map((e) => e.node.id);
      pool.ids.Alert = d.alerts.edges.map((e) => e.node.id);
      pool.ids.SyncRun = d.syncRuns.edges.map((e) => e.node.id);
      pool.ids.UsageReport = d.usageReports.edges.map((e) => e.node.id);
      for (const list of LISTS) pool.cursors[list] = d[list].edges.map((e) => e.cursor);
      pool.account = d.smartAccounts[0] ? { accountId: d.smartAccounts[0].accountId, name: d.smartAccounts[0].name } : null;
      pool.vaExternalIds = d.smartAccounts.flatMap((s) => s.virtualAccounts.map((v) => v.externalId));
      pool.deviceUuids = d.devices.edges.map((e) => e.node.uuid);
      pool.hostnames = d.devices.edges.map((e) => e.node.hostname);
      pool.models = [...new Set(d.devices.edges.map((e) => e.node.model))];
      pool.subscriptions = d.licenses.edges.map((e) => e.node.subscriptionId);
      pool.reports = d.usageReports.edges.flatMap((e) => (e.node.fileDigest ? [{ id: e.node.id, digest: e.node.fileDigest }] : []));
    }

    /** B's pool is complete: every row of B the API can name was collected (checked against the owner's view). */
    async checkComplete(t: TenantRef, pool: Pool): Promise<void> {
      const tables: [PoolType, string][] = [
        ['Device', 'device'],
        ['SmartAccount', 'smart_account'],
        ['VirtualAccount', 'virtual_account'],
        ['License', 'license'],
        ['AuditEvent', 'audit_event'],
        ['Alert', 'alert'],
        ['SyncRun', 'sync_run'],
        ['UsageReport', 'usage_report'],
        ['LicenseAssignment', 'assignment'],
      ];
      for (const [type, table] of tables) {
        // Assignments replaced by another license are history no list names: only current ones are compared,
        // and the replaced ones join the pool from the table (B's ids all the same).
        const current = type === 'LicenseAssignment' ? ' and released_at is null' : '';
        const rows = await server.sql<{ id: string }>(`select id from ${table} where tenant_id = $1${current} order by id`, [t.uuid]);
        const api = pool.ids[type].map(uuidOfGlobal);
        const missing = rows.filter((r) => !api.includes(r.id));
        if (missing.length > 0 || (!current && api.length !== rows.length)) {
          throw new Error(`the API named ${api.length} ${type} ids of ${t.slug}, the table holds ${rows.length}`);
        }
        if (current) {
          const all = await server.sql<{ id: string }>(`select id from ${table} where tenant_id = $1 order by id`, [t.uuid]);
          for (const r of all) if (!api.includes(r.id)) pool.ids[type].push(globalId(type, r.id));
        }
      }
    }

    /** What A must never see: every uuid and digest in rows that are not A's, and every other tenant's token. */
    markForeign(): void {
      for (const [table, text] of this.baseline) {
        if (table === 'license_sync_settings') continue;
        for (const u of matches(text, UUID_G)) if (!publicUuids.has(u) && !this.foreignUuids.has(u)) this.foreignUuids.set(u, `a ${table} row`);
        for (const h of matches(text, HEX64_G)) if (!this.foreignHex.has(h)) this.foreignHex.set(h, `a ${table} row`);
      }
      for (const h of matches(this.baseline.get('license_sync_settings') ?? '', HEX64_G)) this.foreignHex.delete(h);
      this.foreignUuids.delete(this.a.uuid);
      this.foreignTokens = registry.filter((t) => t !== this.a);
    }

    /** B's pool with every B id, subscription and report digest replaced by a value nobody has. */
    makePhantom(): void {
      const b = this.pools.B;
      const byUuid = new Map<string, string>();
      const phantomGid = (gid: string): string => {
        const [type, uuid] = Buffer.from(gid, 'base64url').toString('utf8').split(':');
        let p = byUuid.get(uuid);
        if (!p) byUuid.set(uuid, (p = uuidFrom(`phantom:${this.n}:${uuid}`)));
        return globalId(type, p);
      };
      const ids = Object.fromEntries(POOL_TYPES.map((t) => [t, b.ids[t].map(phantomGid)])) as Record<PoolType, string[]>;
      const subscriptions = b.subscriptions.map((s, i) => `SUB-PHANTOM${this.n}-${i}`);
      const reports = b.reports.map((r, i) => ({ id: phantomGid(r.id), digest: createHash('sha256').update(`phantom:${this.n}:${i}`).digest('hex') }));
      this.phantomB = {
        ...b,
        ids,
        subscriptions,
        reports,
        replay: b.replay ? { ...b.replay, deviceIds: b.replay.deviceIds.map(phantomGid) } : null,
      };
      this.phantomPairs = [
        ...[...byUuid].flatMap(([u, p]): [string, string][] => [
          [u, p],
          [u.toUpperCase(), p.toUpperCase()],
          ...NODE_TYPES.flatMap((t): [string, string][] => [
            [globalId(t, u), globalId(t, p)],
            [globalId(t, u.toUpperCase()), globalId(t, p.toUpperCase())],
          ]),
        ]),
        ...b.subscriptions.map((s, i): [string, string] => [s, subscriptions[i]]),
        ...b.reports.map((r, i): [string, string] => [r.digest, reports[i].digest]),
      ];
    }

    // ---- the properties ----------------------------------------------------------------------------

    fail(what: string, detail: string): never {
      throw new Violation(`${what}\n${detail}\nA = ${this.a.slug} (${this.a.uuid}), B = ${this.b.slug} (${this.b.uuid})\nA's requests so far:\n${this.trace.join('\n')}`);
    }

    /** (a): nothing foreign in an answer to A, beyond what A itself supplied; no internal error. */
    checkAnswer(label: string, ans: Answer, supplied: readonly string[]): void {
      if (ans.status >= 500) this.fail(`(a) HTTP ${ans.status} for ${label}`, clip(ans.text));
      if (errorCodes(ans).includes('INTERNAL_SERVER_ERROR') || ans.text.includes('INTERNAL_SERVER_ERROR')) {
        this.fail(`(a) INTERNAL_SERVER_ERROR for ${label}`, clip(ans.text));
      }
      const suppliedUuids = new Set<string>(this.acquiredUuids);
      const suppliedHex = new Set<string>();
      for (const s of supplied) {
        for (const r of readable(s)) {
          matches(r, UUID_G).forEach((u) => suppliedUuids.add(u));
          matches(r, HEX64_G).forEach((h) => suppliedHex.add(h));
        }
      }
      // Echoes of what A sent (and what A stored itself) are A's own knowledge: cut out before looking.
      const echoes = [...new Set([...supplied.filter((s) => s.length >= 8), ...this.acquired])].sort((x, y) => y.length - x.length);
      let raw = ans.text;
      for (const s of echoes) raw = raw.split(s).join(' ');
      for (const text of readable(raw)) {
        let lower = text.toLowerCase();
        for (const s of echoes) lower = lower.split(s.toLowerCase()).join(' ');
        for (const u of matches(text, UUID_G)) {
          const what = this.foreignUuids.get(u);
          if (what && !suppliedUuids.has(u)) this.fail(`(a) ${label} answered A with the uuid ${u} of ${what}`, clip(ans.text));
        }
        for (const h of matches(text, HEX64_G)) {
          const what = this.foreignHex.get(h);
          if (what && !suppliedHex.has(h)) this.fail(`(a) ${label} answered A with the digest ${h} of ${what}`, clip(ans.text));
        }
        for (const t of this.foreignTokens) {
          if (lower.includes(t.token)) this.fail(`(a) ${label} answered A with data of tenant ${t.slug} (marker ${t.token})`, clip(ans.text));
        }
      }
    }

    /** (b): not one row that is not A's changed. */
    async checkRows(label: string): Promise<void> {
      const now = await snapshot(this.a.uuid);
      for (const [table, before] of this.baseline) {
        const after = now.get(table) ?? '';
        if (after === before) continue;
        const b = before.split('\n');
        const a = after.split('\n');
        const gone = b.filter((r) => !a.includes(r));
        const added = a.filter((r) => !b.includes(r));
        this.fail(`(b) ${label} changed rows of table ${table} that are not A's`, `before: ${clip(gone.join('\n'))}\nafter: ${clip(added.join('\n'))}`);
      }
    }

    /** Sends one request as A and checks it; what succeeded becomes A's own knowledge. */
    async asA(role: TenantRole, label: string, send: (token: string) => Promise<Answer>, supplied: string[], mutation: boolean): Promise<Answer> {
      this.trace.push(`  ${role} ${label}`);
      const ans = await send(this.userToken(this.a, role));
      this.checkAnswer(label, ans, supplied);
      if (mutation && !failed(ans)) {
        for (const s of supplied) {
          if (s.length >= 8) this.acquired.add(s);
          for (const r of readable(s)) matches(r, UUID_G).forEach((u) => this.acquiredUuids.add(u));
        }
      }
      await this.checkRows(label);
      return ans;
    }

    callA = (role: TenantRole, q: string, v: Record<string, unknown>): Promise<Answer> =>
      this.asA(role, `setup ${q.slice(0, 60).replace(/\s+/g, ' ')}`, (token) => post(q, v, token), strings(v), q.trimStart().startsWith('mutation'));

    callB = (role: TenantRole, q: string, v: Record<string, unknown>): Promise<Answer> => post(q, v, this.userToken(this.b, role));

    async run(ops: Op[]): Promise<void> {
      await this.createTenants();
      await this.buildWorld(this.b, this.world.b, this.callB, this.pools.B);
      await this.collect(this.b, this.callB, this.pools.B);
      await this.checkComplete(this.b, this.pools.B);
      this.baseline = await snapshot(this.a.uuid);
      this.markForeign();
      this.makePhantom();
      await this.buildWorld(this.a, this.world.a, this.callA, this.pools.A);
      await this.collect(this.a, this.callA, this.pools.A);
      for (const [i, op] of ops.entries()) await this.step(i, op);
    }

    async step(i: number, op: Op): Promise<void> {
      const at = new Date().toISOString();
      const real = new Scope(this, this.pools.B, i, at);
      const built = await build(op, real);
      const ans = await this.asA(op.role, built.label, built.send, built.supplied, built.mutation);
      if (built.mutation && (real.usesB || real.claimsB) && !failed(ans)) this.fail(`(c) ${built.label} naming B's values succeeded`, clip(ans.text));
      if (real.usesB) {
        const twin = await build(op, new Scope(this, this.phantomB, i, at));
        const twinAns = await this.asA(op.role, `${twin.label} (twin with ids that do not exist)`, twin.send, twin.supplied, twin.mutation);
        const norm = (a: Answer, side: 0 | 1): string => {
          let text = `${a.status} ${a.text}`;
          this.phantomPairs.forEach((pair, k) => {
            text = text.split(pair[side]).join(`<v${k}>`);
          });
          return text;
        };
        if (norm(ans, 0) !== norm(twinAns, 1)) {
          this.fail(
            `(c) ${built.label}: B's ids are answered differently from ids that do not exist`,
            `with B's: ${clip(norm(ans, 0))}\nwith none: ${clip(norm(twinAns, 1))}`,
          );
        }
      }
      if (built.count && !failed(ans)) {
        const got = built.count.read(ans.body?.data ?? {});
        const [row] = await server.sql<{ n: number }>(built.count.sql, [this.a.uuid]);
        if (got !== row.n) this.fail(`(a) ${built.label} counted ${got} where A has ${row.n}`, clip(ans.text));
      }
      if (built.mutation && !failed(ans)) {
        if (op.op === 'uploadSummary') this.acceptedSerial = (ans.body?.data?.uploadLicenseSummary as { serial: number }).serial;
        await this.collect(this.a, this.callA, this.pools.A);
      }
    }
  }

  function emptyPool(): Pool {
    return {
      ids: Object.fromEntries(POOL_TYPES.map((t) => [t, []])) as unknown as Record<PoolType, string[]>,
      cursors: Object.fromEntries(LISTS.map((l) => [l, []])) as unknown as Record<ListName, string[]>,
      account: null,
      vaExternalIds: [],
      deviceUuids: [],
      models: [],
      hostnames: [],
      subscriptions: [],
      reports: [],
      replay: null,
      idempotencyKey: null,
    };
  }

  /** Turns the abstract references of an operation into values; `b` is B's pool or its phantom twin. */
  class Scope {
    /** The request names one of B's ids, subscriptions or reports (or their twins): (c) applies. */
    usesB = false;
    /** The request claims B's smart account id: it must fail (CONFLICT), and is the documented exception to (c). */
    claimsB = false;
    constructor(
      readonly x: Execution,
      readonly b: Pool,
      readonly opIndex: number,
      readonly at: string,
    ) {}
    pool(owner: Owner): Pool {
      return owner === 'A' ? this.x.pools.A : this.b;
    }
    take<T>(owner: Owner, list: readonly T[], index: number): T | undefined {
      if (list.length === 0) return undefined;
      if (owner === 'B') this.usesB = true;
      return list[index % list.length];
    }
    id(ref: Ref): string {
      if (ref.kind === 'garbage') return ref.text;
      const gid = this.take(ref.owner, this.pool(ref.owner).ids[ref.type], ref.index) ?? globalId(ref.type, uuidFrom(`missing:${ref.index}`));
      const uuid = uuidOfGlobal(gid);
      switch (ref.spelling) {
        case 'global':
          return gid;
        case 'uuid':
          return uuid;
        case 'upper':
          return uuid.toUpperCase();
        case 'padded':
          return ` ${gid}\n`;
        case 'globalUpper':
          return globalId(ref.type, uuid.toUpperCase());
        case 'retyped': {
          const others = NODE_TYPES.filter((t) => t !== ref.type);
          return globalId(others[ref.index % others.length], uuid);
        }
      }
    }
    opt(ref: MaybeRef): string | undefined {
      return ref === undefined ? undefined : this.id(ref);
    }
    /** The tenant an operation acts on, when it is A's for sure (omitted, or A's own id): totals must be A's. */
    isA(ref: MaybeRef): boolean {
      return ref === undefined || (ref.kind === 'pool' && ref.owner === 'A' && ref.type === 'Tenant' && ref.spelling !== 'retyped');
    }
    cursor(arg: CursorRef | GarbageRef | undefined, own: ListName): string | undefined {
      if (arg === undefined) return undefined;
      if (arg.kind === 'garbage') return arg.text;
      // Cursors are not ids: B's are forged input like any other, and stay the same in the twin request.
      const list = (arg.owner === 'A' ? this.x.pools.A : this.x.pools.B).cursors[arg.list ?? own];
      return list.length ? list[arg.index % list.length] : undefined;
    }
    /** A string of one of the tenants' devices (chassis uuid, host name, model), or garbage. */
    text(arg: PickRef | GarbageRef | undefined, field: 'deviceUuids' | 'hostnames' | 'models'): string | undefined {
      if (arg === undefined) return undefined;
      if (arg.kind === 'garbage') return arg.text;
      const list = (arg.owner === 'A' ? this.x.pools.A : this.x.pools.B)[field];
      return list.length ? list[arg.index % list.length] : undefined;
    }
    subscription(arg: PickRef | GarbageRef | undefined): string | undefined {
      if (arg === undefined) return undefined;
      if (arg.kind === 'garbage') return arg.text;
      return this.take(arg.owner, this.pool(arg.owner).subscriptions, arg.index) ?? `SUB-NONE-${arg.index}`;
    }
    key(k: 'k1' | 'k2' | 'B' | undefined): string | undefined {
      if (k === 'B') return this.x.pools.B.idempotencyKey ?? 'k3';
      return k;
    }
    /** A's current smart account, or a fresh one; B's when asked for (the documented CONFLICT exception). */
    account(choice: AccountChoice, claim = true): { accountId: string; name: string; domain: string } {
      const a = this.x.a.token;
      if (choice === 'B' && this.x.pools.B.account) {
        if (claim) this.claimsB = true;
        return { accountId: this.x.pools.B.account.accountId, name: `Account ${a}`, domain: `${a}.example` };
      }
      if (choice === 'own' && this.x.pools.A.account) return { ...this.x.pools.A.account, domain: `${a}.example` };
      return { accountId: `SA-${a}-${choice === 'fresh' ? this.opIndex : 'own'}`, name: `Account ${a}`, domain: `${a}.example` };
    }
  }

  interface Built {
    label: string;
    mutation: boolean;
    send: (token: string) => Promise<Answer>;
    /** Every string the request carries, and every string inside the files it uploads. */
    supplied: string[];
    count?: { read: (data: Record<string, unknown>) => number; sql: string };
  }

  const gql = (label: string, mutation: boolean, query: string, variables: Record<string, unknown>, extra: string[] = []): Built => ({
    label,
    mutation,
    send: (token) => post(query, variables, token),
    supplied: [...strings(variables), ...extra],
  });
  const total = (field: string) => (data: Record<string, unknown>): number => (data[field] as { totalCount: number }).totalCount;

  async function build(op: Op, s: Scope): Promise<Built> {
    const x = s.x;
    const label = `${op.op}#${s.opIndex}`;
    switch (op.op) {
      case 'node':
        return gql(label, false, NODE, { id: s.id(op.id) });
      case 'tenant':
        return gql(label, false, TENANT, { id: s.id(op.id) });
      case 'overview':
        return { ...gql(label, false, OVERVIEW, { first: op.first }), count: { read: total('tenants'), sql: 'select count(*)::int as n from tenant where id = $1' } };
      case 'devices': {
        const filter = op.filter && {
          kind: op.filter.kind,
          mode: op.filter.mode,
          model: s.text(op.filter.model, 'models'),
          search: s.text(op.filter.search, 'hostnames')?.slice(0, 40),
        };
        const built = gql(label, false, DEVICES, { tenantId: s.opt(op.tenantId), filter, first: op.first, after: s.cursor(op.after, 'devices') });
        return s.isA(op.tenantId) && !filter && !op.after
          ? { ...built, count: { read: total('devices'), sql: 'select count(*)::int as n from device where tenant_id = $1' } }
          : built;
      }
      case 'licenses': {
        const built = gql(label, false, LICENSES, {
          tenantId: s.opt(op.tenantId),
          virtualAccountId: s.opt(op.virtualAccountId),
          billingType: op.billingType,
          entitlementTag: op.entitlementTag,
          first: op.first,
          after: s.cursor(op.after, 'licenses'),
        });
        return s.isA(op.tenantId) && !op.virtualAccountId && !op.billingType && !op.entitlementTag && !op.after
          ? { ...built, count: { read: total('licenses'), sql: 'select count(*)::int as n from license where tenant_id = $1 and removed_at is null' } }
          : built;
      }
      case 'smartAccounts': {
        const built = gql(label, false, SMART_ACCOUNTS, { tenantId: s.opt(op.tenantId) });
        return s.isA(op.tenantId)
          ? { ...built, count: { read: (d) => (d.smartAccounts as unknown[]).length, sql: 'select count(*)::int as n from smart_account where tenant_id = $1' } }
          : built;
      }
      case 'auditEvents':
      case 'syncRuns':
      case 'usageReports': {
        const doc = { auditEvents: AUDIT_EVENTS, syncRuns: SYNC_RUNS, usageReports: USAGE_REPORTS }[op.op];
        const table = { auditEvents: 'audit_event', syncRuns: 'sync_run', usageReports: 'usage_report' }[op.op];
        const built = gql(label, false, doc, { tenantId: s.opt(op.tenantId), first: op.first, after: s.cursor(op.after, op.op) });
        return s.isA(op.tenantId) && !op.after ? { ...built, count: { read: total(op.op), sql: `select count(*)::int as n from ${table} where tenant_id = $1` } } : built;
      }
      case 'alerts': {
        const built = gql(label, false, ALERTS, { tenantId: s.opt(op.tenantId), active: op.active, first: op.first, after: s.cursor(op.after, 'alerts') });
        const state = op.active === undefined ? '' : op.active ? ' and resolved_at is null' : ' and resolved_at is not null';
        return s.isA(op.tenantId) && !op.after ? { ...built, count: { read: total('alerts'), sql: `select count(*)::int as n from alert where tenant_id = $1${state}` } } : built;
      }
      case 'dashboard': {
        const built = gql(label, false, DASHBOARD, { tenantId: s.opt(op.tenantId) });
        return s.isA(op.tenantId)
          ? {
              ...built,
              count: {
                read: (d) => (d.licenseDashboard as { devices: { total: number } }).devices.total,
                sql: 'select count(*)::int as n from device where tenant_id = $1',
              },
            }
          : built;
      }
      case 'download': {
        const id = s.id(op.id);
        return { label, mutation: false, send: (token) => download(id, token), supplied: [id] };
      }
      case 'registerDevices': {
        const devices = op.devices.map((d, k) => ({
          uuid: d.reuse === 'fresh' ? `N-${x.a.token}-${s.opIndex}-${k}` : (s.text(d.reuse, 'deviceUuids') ?? `N-${x.a.token}-${s.opIndex}-${k}`),
          hostname: `new-${s.opIndex}-${k}.${x.a.token}.example`,
          model: MODELS[k % MODELS.length],
          kind: d.spec.kind,
          mode: d.spec.mode,
          softwareVersion: d.spec.softwareVersion,
          systemIp: d.spec.systemIp,
          siteId: d.spec.siteId,
          hsecCompatible: d.spec.hsecCompatible,
        }));
        return gql(label, true, REGISTER, { input: { tenantId: s.opt(op.tenantId), devices } });
      }
      case 'assign':
        return gql(label, true, ASSIGN, {
          input: {
            tenantId: s.opt(op.tenantId),
            deviceIds: [...new Set(op.deviceIds.map((r) => s.id(r)))],
            ...op.selector,
            billingType: op.billingType,
            virtualAccountId: s.opt(op.virtualAccountId),
            subscriptionId: s.subscription(op.subscription),
            idempotencyKey: s.key(op.idempotencyKey),
          },
        });
      case 'release':
        return gql(label, true, RELEASE, {
          input: { tenantId: s.opt(op.tenantId), deviceIds: [...new Set(op.deviceIds.map((r) => s.id(r)))], category: op.category, idempotencyKey: s.key(op.idempotencyKey) },
        });
      case 'replayB': {
        // B's own earlier request, idempotency key included: A must not get B's stored result.
        const replay = s.b.replay;
        if (replay) s.usesB = true;
        const input = replay
          ? { tenantId: s.opt(op.tenantId), deviceIds: replay.deviceIds, ...replay.selector, billingType: replay.billingType, idempotencyKey: replay.idempotencyKey }
          : { tenantId: s.opt(op.tenantId), deviceIds: [globalId('Device', uuidFrom(`missing:${s.opIndex}`))], hsec: true, idempotencyKey: 'k1' };
        return gql(label, true, ASSIGN, { input });
      }
      case 'reconcile':
        return gql(label, true, RECONCILE, { input: { tenantId: s.opt(op.tenantId) } });
      case 'setManaged':
        return gql(label, true, SET_MANAGED, { input: { tenantId: s.opt(op.tenantId), virtualAccountIds: op.ids.map((r) => s.id(r)) } });
      case 'acknowledgeAlert':
        return gql(label, true, ACKNOWLEDGE_ALERT, { id: s.id(op.id) });
      case 'configureSmartAccount': {
        const account = s.account(op.account);
        const virtualAccounts = op.vas.map((v, k) => ({
          externalId: v === 'fresh' ? `VA-${x.a.token}-n${s.opIndex}-${k}` : pickVa(x, v, k, s.opIndex),
          name: `Pool n${s.opIndex}-${k} ${x.a.token}`,
        }));
        return gql(label, true, CONFIGURE, { input: { tenantId: s.opt(op.tenantId), ...account, virtualAccounts } });
      }
      case 'generateReport':
        return gql(label, true, GENERATE_REPORT, { input: { tenantId: s.opt(op.tenantId), virtualAccountId: s.opt(op.virtualAccountId) } });
      case 'synchronize':
        return gql(label, true, SYNCHRONIZE, { input: { tenantId: s.opt(op.tenantId) } });
      case 'uploadSummary': {
        const account = s.account(op.account);
        const a = x.a.token;
        const virtualAccounts: VirtualAccountLicenses[] = [
          {
            id: `VA-${a}-0`,
            name: `Pool 0 ${a}`,
            licenses: op.lines.map((l, k): LicenseLine => ({
              lineId: `LINE-${a}-n${s.opIndex}-${k}`,
              entitlementTag: l.tag,
              billingType: l.billingType,
              billingModel: l.billingType === 'PREPAID' ? 'A_LA_CARTE' : 'MSLA_U',
              subscriptionId: `SUB-${a}-n${s.opIndex}-${k}`,
              licenseType: l.licenseType,
              quantity: l.quantity,
              inUse: 0,
              startDate: '2020-01-01',
              endDate: inDays(l.endInDays),
            })),
          },
        ];
        const serial = op.replay ? Math.max(1, x.acceptedSerial) : 100 + s.opIndex;
        const file = await buildLicenseSummary({ smartAccount: account, serial, generatedAt: s.at, virtualAccounts }, LICENSE_SERVER.privateKey);
        return gql(label, true, UPLOAD_SUMMARY, { input: { tenantId: s.opt(op.tenantId), fileName: 'summary.tar.gz', contentBase64: file.toString('base64') } }, [
          ...strings(account),
          ...strings(virtualAccounts),
        ]);
      }
      case 'uploadAck': {
        const report =
          s.take(op.report.owner, s.pool(op.report.owner).reports, op.report.index) ??
          { id: globalId('UsageReport', uuidFrom(`missing:${s.opIndex}`)), digest: createHash('sha256').update(`none:${s.opIndex}`).digest('hex') };
        // Naming B's account in an ACK is no claim on it (only a trial report adopts it, and that is CONFLICT).
        const account = s.account(op.account, false);
        const va = { id: `VA-${x.a.token}-0`, name: `Pool 0 ${x.a.token}` };
        const ack = {
          ackId: uuidFrom(`ack:${x.n}:${s.opIndex}`),
          reportId: uuidOfGlobal(report.id),
          reportDigest: report.digest,
          acknowledgedAt: s.at,
          smartAccount: { accountId: account.accountId, name: account.name },
          virtualAccount: va,
          measurements: 0,
        };
        const file = await buildAck({ ...ack, devices: [] }, LICENSE_SERVER.privateKey);
        return gql(label, true, UPLOAD_ACK, { input: { tenantId: s.opt(op.tenantId), fileName: 'ack.tar.gz', contentBase64: file.toString('base64') } }, strings(ack));
      }
    }
  }

  /** A virtual account external id to reuse: one of A's own or one of B's (a string A may legitimately use too). */
  function pickVa(x: Execution, v: PickRef, k: number, opIndex: number): string {
    const list = (v.owner === 'A' ? x.pools.A : x.pools.B).vaExternalIds;
    return list.length ? list[v.index % list.length] : `VA-${x.a.token}-p${opIndex}-${k}`;
  }

  it('tenant A never sees nor changes anything of tenant B, whatever it asks with whichever ids', async () => {
    await fc.assert(
      fc.asyncProperty(fc.record({ a: tenantSpecArb, b: tenantSpecArb }), fc.array(opArb, { minLength: 4, maxLength: MAX_OPS, size: 'max' }), async (world, ops) => {
        await new Execution(world).run(ops);
      }),
      // A run that cannot finish in time fails rather than passing with fewer worlds.
      { numRuns: NUM_RUNS, seed: SEED, interruptAfterTimeLimit: 120_000, markInterruptAsFailure: true },
    );
  }, 150_000);

  it('the fuzz checks are live: a planted leak and a planted change are caught', async () => {
    // A guard against a fuzz that cannot fail: the same checks, fed a foreign uuid and a foreign row change.
    const x = new Execution({ a: emptySpec(), b: emptySpec() });
    await x.createTenants();
    await registerOne(x.b);
    x.baseline = await snapshot(x.a.uuid);
    x.markForeign();
    const [row] = await server.sql<{ id: string }>('select id from device where tenant_id = $1', [x.b.uuid]);
    const leak: Answer = { status: 200, text: JSON.stringify({ data: { node: { id: globalId('Device', row.id) } } }), body: null };
    expect(() => x.checkAnswer('planted', leak, [])).toThrow(Violation);
    expect(() => x.checkAnswer('planted echo', leak, [globalId('Device', row.id)])).not.toThrow();
    const marker: Answer = { status: 200, text: JSON.stringify({ data: { x: `edge.${x.b.token}.example` } }), body: null };
    expect(() => x.checkAnswer('planted marker', marker, [])).toThrow(Violation);
    await server.sql("update device set hostname = hostname || '-x' where tenant_id = $1", [x.b.uuid]);
    await expect(x.checkRows('planted change')).rejects.toThrow(Violation);
  });

  function emptySpec(): TenantSpec {
    return { devices: [], account: 'none', vaCount: 1, managed: [], lines: [], assigns: [], release: false, report: false, acknowledgeAlert: false };
  }

  async function registerOne(t: TenantRef): Promise<void> {
    await ok(REGISTER, {
      input: {
        tenantId: t.id,
        devices: [{ uuid: `C8K-${t.token}-0`, hostname: `edge-0.${t.token}.example`, model: 'C8000V', kind: 'IOS_XE_SDWAN', mode: 'CONTROLLER', softwareVersion: '17.9.3a' }],
      },
    }, providerToken());
  }

});
