import { AppError, badInput } from '../../common/errors';

export const devicesNotFound = (ids: string[]): AppError =>
  new AppError('NOT_FOUND', `device(s) not found: ${ids.slice(0, 20).join(', ')}${ids.length > 20 ? ` and ${ids.length - 20} more` : ''}`, {
    deviceIds: ids,
  });

export interface InapplicableDevice {
  deviceId: string;
  uuid: string;
  hostname: string;
  reasons: string[];
  message: string;
}

export const notApplicable = (entitlement: string, devices: InapplicableDevice[]): AppError =>
  badInput(
    `${entitlement} cannot be assigned to ${devices.length} device(s): ${devices
      .slice(0, 10)
      .map((d) => `${d.uuid} (${d.hostname}): ${d.message}`)
      .join('; ')}${devices.length > 10 ? `; and ${devices.length - 10} more` : ''}`,
    { inapplicableDevices: devices },
  );

export const insufficientLicenses = (entitlement: string, requested: number, available: number, scope: string): AppError =>
  new AppError(
    'INSUFFICIENT_LICENSES',
    `${requested} device(s) need ${entitlement}${scope} but only ${available} ${available === 1 ? 'is' : 'are'} available`,
    { requested, available },
  );

export const devicesDecommissioned = (ids: string[]): AppError =>
  badInput(
    `device(s) decommissioned, they take no license: ${ids.slice(0, 20).join(', ')}${ids.length > 20 ? ` and ${ids.length - 20} more` : ''}; register the uuid again to bring a router back`,
    { argumentName: 'deviceIds', decommissionedDeviceIds: ids },
  );
