import { registerEnumType } from 'type-graphql';

export enum DeviceKind {
  IOS_XE_SDWAN = 'IOS_XE_SDWAN',
  VEDGE = 'VEDGE',
}
export enum DeviceMode {
  CONTROLLER = 'CONTROLLER',
  AUTONOMOUS = 'AUTONOMOUS',
}

registerEnumType(DeviceKind, { name: 'DeviceKind', description: 'IOS XE SD-WAN (Catalyst 8000, ISR) or vEdge.' });
registerEnumType(DeviceMode, { name: 'DeviceMode', description: 'Operating mode of the device software.' });

export enum DeviceState {
  ACTIVE = 'ACTIVE',
  DECOMMISSIONED = 'DECOMMISSIONED',
}

registerEnumType(DeviceState, {
  name: 'DeviceState',
  description: 'ACTIVE: in service. DECOMMISSIONED: retired; holds no license, counts nowhere, its history stays readable.',
});
