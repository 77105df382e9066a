import { AppError, badInput, conflict } from '../../common/errors';
import type { LicenseSource } from './license.enums';

export interface InvalidLicense {
  index: number;
  field: string;
  reason: string;
}

export const invalidLicenses = (problems: InvalidLicense[]): AppError =>
  badInput(
    `${problems.length} invalid license line(s), nothing was added: ${problems
      .slice(0, 10)
      .map((p) => `licenses[${p.index}].${p.field} ${p.reason}`)
      .join('; ')}${problems.length > 10 ? `; and ${problems.length - 10} more` : ''}`,
    { invalidLicenses: problems },
  );

/** Lines that came from the license server (SYNC) or a summary file (FILE) are corrected there, not here. */
export const licenseNotEditable = (lines: { id: string; source: LicenseSource }[], operation: string): AppError =>
  new AppError(
    'LICENSE_NOT_EDITABLE',
    `${operation} changes only hand-recorded (MANUAL) lines; ${lines
      .slice(0, 10)
      .map((l) => `${l.id} came from ${l.source === 'SYNC' ? 'the license server (SYNC)' : 'a license summary file (FILE)'}`)
      .join(', ')}${lines.length > 10 ? ` and ${lines.length - 10} more` : ''}: correct it at the license server and synchronise again`,
    { licenses: lines },
  );

export const licenseInUse = (id: string, inUse: number, fields: string[]): AppError =>
  conflict(`license ${id} is held by ${inUse} device(s): ${fields.join(', ')} can change only while no device holds it (release them or remove the line)`, {
    reason: 'LICENSE_IN_USE',
    fields,
    inUse,
  });

export const licenseRemoved = (id: string): AppError =>
  conflict(`license ${id} was removed; a removed line cannot be corrected`, { reason: 'LICENSE_REMOVED' });

/** Another tenant's line (for a tenant viewer) is reported exactly like one that does not exist. */
export const licensesNotFound = (ids: string[]): AppError =>
  new AppError('NOT_FOUND', `license(s) not found: ${ids.slice(0, 20).join(', ')}${ids.length > 20 ? ` and ${ids.length - 20} more` : ''}`, {
    licenseIds: ids,
  });
