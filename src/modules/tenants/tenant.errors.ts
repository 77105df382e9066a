import { badInput, conflict, notFound, type AppError } from '../../common/errors';

export const tenantNotFound = (id: string): AppError => notFound(`tenant ${id} not found`);
export const slugTaken = (slug: string): AppError =>
  conflict(`a tenant with slug "${slug}" already exists`, { field: 'slug' });
export const invalidSlug = (slug: string): AppError =>
  badInput(
    `slug ${JSON.stringify(slug)} must be 1 to 63 lowercase letters, digits or hyphens, not starting or ending with a hyphen`,
    { field: 'slug' },
  );
export const invalidName = (): AppError => badInput('name must be 1 to 200 characters', { field: 'name' });
export const tenantRequired = (): AppError =>
  badInput('tenantId is required: provider roles act on one tenant at a time here', { argumentName: 'tenantId' });
export const slugNotConfirmed = (confirmSlug: string, slug: string): AppError =>
  badInput(`confirmSlug ${JSON.stringify(confirmSlug)} does not match the slug of the tenant to delete ("${slug}")`, {
    argumentName: 'confirmSlug',
  });
export const tenantNotSuspended = (slug: string): AppError =>
  conflict(`tenant "${slug}" is ACTIVE: suspend it (suspendTenant) before deleting it`, { reason: 'TENANT_NOT_SUSPENDED' });
export const unreportedUsage = (slug: string, devices: number, reportedUntil: string | null): AppError =>
  conflict(
    `tenant "${slug}" has usage that was never reported: the license assignments of ${devices} device(s) changed ` +
      (reportedUntil ? `after the last acknowledged usage report (which ends ${reportedUntil})` : '(no usage report of it was ever acknowledged)') +
      '; report it first (synchronizeLicenses, or generateUsageReport and uploadAcknowledgement) or delete with force: true',
    { reason: 'UNREPORTED_USAGE', unreportedDevices: devices, reportedUntil },
  );
