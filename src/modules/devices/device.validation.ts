import { isIPv4 } from 'node:net';
import { DeviceKind, DeviceMode } from './device.enums';
import type { InvalidDevice } from './device.errors';
import type { DeviceInput } from './device.types';

export const MAX_DEVICES_PER_CALL = 10_000;

const UUID_RE = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;
const HOST_LABEL_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const MODEL_RE = /^[A-Za-z0-9][A-Za-z0-9 ._/+-]{0,63}$/;
// IOS XE (17.9.3a, 17.12.1) and vEdge (20.9.1, 20.6.3.1) releases.
const RELEASE_RE = /^\d{1,2}\.\d{1,2}(?:\.\d{1,3}){0,2}[a-z]{0,2}$/;
const SITE_ID_RE = /^[1-9]\d{0,9}$/;
const MAX_SITE_ID = 4_294_967_295;

function hostnameProblem(hostname: string): string | null {
  if (hostname.length < 1 || hostname.length > 253) return 'must be 1 to 253 characters';
  if (!hostname.split('.').every((label) => HOST_LABEL_RE.test(label))) {
    return `${JSON.stringify(hostname)} is not a valid host name (labels of letters, digits and hyphens, separated by dots)`;
  }
  return null;
}

/** Checks one device row; returns every problem found, so a client can fix them all at once. */
export function validateDevice(d: DeviceInput, index: number): InvalidDevice[] {
  const problems: InvalidDevice[] = [];
  const uuid = UUID_RE.test(d.uuid) ? d.uuid : null;
  const add = (field: string, reason: string): void => {
    problems.push({ index, uuid, field, reason });
  };
  if (!uuid) add('uuid', `${JSON.stringify(d.uuid.slice(0, 140))} must be 1 to 128 of A-Z a-z 0-9 . _ : / - (starting with a letter or digit)`);
  const hostProblem = hostnameProblem(d.hostname);
  if (hostProblem) add('hostname', hostProblem);
  if (d.systemIp != null && !isIPv4(d.systemIp)) add('systemIp', `${JSON.stringify(d.systemIp)} is not an IPv4 address`);
  if (!MODEL_RE.test(d.model)) add('model', `${JSON.stringify(d.model.slice(0, 80))} must be 1 to 64 characters starting with a letter or digit`);
  if (!RELEASE_RE.test(d.softwareVersion)) {
    add('softwareVersion', `${JSON.stringify(d.softwareVersion.slice(0, 40))} is not a release such as 17.9.3a or 20.9.1`);
  }
  if (d.siteId != null && (!SITE_ID_RE.test(d.siteId) || Number(d.siteId) > MAX_SITE_ID)) {
    add('siteId', `${JSON.stringify(d.siteId.slice(0, 20))} must be a number from 1 to ${MAX_SITE_ID}`);
  }
  if (d.kind === DeviceKind.VEDGE && d.mode === DeviceMode.AUTONOMOUS) {
    add('mode', 'AUTONOMOUS is not possible for a vEdge device (vEdge runs only in controller mode)');
  }
  if (d.kind === DeviceKind.VEDGE && d.hsecCompatible) {
    add('hsecCompatible', 'HSEC applies only to IOS XE SD-WAN devices, not to a vEdge');
  }
  return problems;
}

/** Validates a whole registerDevices call: every row, and uuids unique within the call. */
export function validateDevices(devices: DeviceInput[]): InvalidDevice[] {
  const problems = devices.flatMap((d, i) => validateDevice(d, i));
  const firstIndex = new Map<string, number>();
  devices.forEach((d, i) => {
    const seen = firstIndex.get(d.uuid);
    if (seen === undefined) firstIndex.set(d.uuid, i);
    else problems.push({ index: i, uuid: d.uuid, field: 'uuid', reason: `duplicates devices[${seen}] in this call` });
  });
  return problems.sort((a, b) => a.index - b.index);
}
