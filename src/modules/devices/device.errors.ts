import { badInput, type AppError } from '../../common/errors';

export interface InvalidDevice {
  index: number;
  uuid: string | null;
  field: string;
  reason: string;
}

/** How many offending rows the message spells out; extensions.invalidDevices lists them all. */
const MESSAGE_LIMIT = 10;

export const invalidDevices = (problems: InvalidDevice[]): AppError => {
  const shown = problems
    .slice(0, MESSAGE_LIMIT)
    .map((p) => `devices[${p.index}]${p.uuid ? ` (uuid ${p.uuid})` : ''}: ${p.field} ${p.reason}`);
  const more = problems.length > MESSAGE_LIMIT ? `; and ${problems.length - MESSAGE_LIMIT} more` : '';
  return badInput(`${problems.length} invalid device row(s), nothing was registered: ${shown.join('; ')}${more}`, {
    invalidDevices: problems,
  });
};

export const tooManyDevices = (count: number, max: number): AppError =>
  badInput(`registerDevices takes at most ${max} devices per call, got ${count}`, { argumentName: 'devices' });

export const noDevices = (): AppError => badInput('devices must not be empty', { argumentName: 'devices' });
