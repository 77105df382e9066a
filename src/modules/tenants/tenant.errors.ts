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
