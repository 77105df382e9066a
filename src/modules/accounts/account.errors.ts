import { badInput, conflict, notFound, type AppError } from '../../common/errors';

export const invalidAccountField = (field: string, value: string, rule: string): AppError =>
  badInput(`${field} ${JSON.stringify(value.slice(0, 100))} ${rule}`, { field });

export const duplicateVirtualAccount = (externalId: string): AppError =>
  badInput(`virtualAccounts lists externalId ${JSON.stringify(externalId)} more than once`, { field: 'virtualAccounts' });

export const accountIdChangeWithLicenses = (from: string, to: string, lines: number): AppError =>
  conflict(
    `the tenant's smart account ${from} holds ${lines} license line(s); it cannot be replaced by ${to} while they exist`,
    { field: 'accountId' },
  );

export const virtualAccountsNotFound = (ids: string[]): AppError =>
  notFound(`virtual account(s) not found: ${ids.join(', ')}`);
