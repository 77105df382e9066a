import fc from 'fast-check';
import { DeviceKind, DeviceMode } from './device.enums';
import type { DeviceInput } from './device.types';
import { validateDevice, validateDevices } from './device.validation';

const valid = (overrides: Partial<DeviceInput> = {}): DeviceInput => ({
  uuid: 'C8K-9A3F2C1B-0001',
  hostname: 'branch-01.nyc.example',
  model: 'C8000V',
  kind: DeviceKind.IOS_XE_SDWAN,
  mode: DeviceMode.CONTROLLER,
  softwareVersion: '17.9.3a',
  systemIp: '10.1.1.1',
  siteId: '100',
  hsecCompatible: true,
  ...overrides,
});

describe('device validation', () => {
  it.each(['17.9.3a', '17.12.1', '20.9.1', '20.6.3.1', '17.06.05'])('accepts the release %s', (softwareVersion) => {
    expect(validateDevice(valid({ softwareVersion }), 0)).toEqual([]);
  });

  it.each(['17', 'v17.9', '17.9.3-beta', '', '17..3'])('refuses the release %j', (softwareVersion) => {
    expect(validateDevice(valid({ softwareVersion }), 0).map((p) => p.field)).toEqual(['softwareVersion']);
  });

  it('names every problem of a row at once', () => {
    const problems = validateDevice(
      valid({ hostname: '-bad-', systemIp: '300.1.1.1', siteId: '0', kind: DeviceKind.VEDGE, mode: DeviceMode.AUTONOMOUS }),
      4,
    );
    expect(problems.map((p) => p.field).sort()).toEqual(['hostname', 'hsecCompatible', 'mode', 'siteId', 'systemIp']);
    expect(problems.every((p) => p.index === 4)).toBe(true);
  });

  it('flags the second and later rows of a duplicated uuid', () => {
    const problems = validateDevices([valid(), valid({ uuid: 'other' }), valid()]);
    expect(problems).toEqual([expect.objectContaining({ index: 2, field: 'uuid', reason: expect.stringContaining('devices[0]') })]);
  });

  it('never throws, whatever strings arrive', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.option(fc.string()), (uuid, hostname, softwareVersion, siteId) => {
        const problems = validateDevice(valid({ uuid, hostname, softwareVersion, siteId }), 0);
        expect(Array.isArray(problems)).toBe(true);
      }),
    );
  });
});
