import { badInput } from './errors';

/**
 * Opaque global ids: base64url("<Type>:<uuid>"). Clients treat them as strings; the server
 * decodes them to route `node(id:)` and to accept ids of the right type only.
 */
export type NodeTypeName =
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

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function toGlobalId(type: NodeTypeName, id: string): string {
  return Buffer.from(`${type}:${id}`, 'utf8').toString('base64url');
}

export function fromGlobalId(globalId: string): { type: string; id: string } | null {
  if (globalId.length > 200) return null;
  const decoded = Buffer.from(globalId, 'base64url').toString('utf8');
  const sep = decoded.indexOf(':');
  if (sep <= 0) return null;
  const id = decoded.slice(sep + 1).toLowerCase();
  if (!UUID_RE.test(id)) return null;
  return { type: decoded.slice(0, sep), id };
}

/**
 * Reads an id argument that must name a `type`: its global id, or (for convenience in scripts and
 * for tenant ids taken from a JWT) the bare uuid. Anything else is BAD_USER_INPUT naming the argument.
 */
export function parseIdArg(value: string, type: NodeTypeName, argName: string): string {
  const lower = value.trim().toLowerCase();
  if (UUID_RE.test(lower)) return lower;
  const parsed = fromGlobalId(value.trim());
  if (!parsed || parsed.type !== type) {
    throw badInput(`${argName} ${JSON.stringify(value)} is not a valid ${type} id`, { argumentName: argName });
  }
  return parsed.id;
}

/** Parses a list of id arguments of one type (see parseIdArg). */
export function parseIdArgs(values: readonly string[], type: NodeTypeName, argName: string): string[] {
  return values.map((v, i) => parseIdArg(v, type, `${argName}[${i}]`));
}
