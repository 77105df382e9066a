import { badInput, type AppError } from '../../common/errors';

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
