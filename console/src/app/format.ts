const dateTime = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
const date = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeZone: 'UTC' });

export function formatDateTime(value: string | null | undefined): string {
  return value ? `${dateTime.format(new Date(value))} UTC` : '—';
}

export function formatDate(value: string | null | undefined): string {
  return value ? date.format(new Date(value)) : '—';
}

/** "in 12 days" / "3 days ago" / "today". */
export function relativeDays(value: string | null | undefined, now = Date.now()): string {
  if (!value) return '—';
  const days = Math.round((new Date(value).getTime() - now) / 86_400_000);
  if (days === 0) return 'today';
  return days > 0 ? `in ${days} day${days === 1 ? '' : 's'}` : `${-days} day${days === -1 ? '' : 's'} ago`;
}

/** SCREAMING_CASE enum values as words: OUT_OF_COMPLIANCE -> "Out of compliance". */
export function words(value: string | null | undefined): string {
  if (!value) return '—';
  const text = value.toLowerCase().replace(/_/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export const REASON_WORDS: Record<string, string> = {
  UNASSIGNED: 'No DNA license',
  PENDING_RECONCILIATION: 'Waiting for a license line',
  LICENSE_EXPIRED: 'License term ended',
  NOT_APPLICABLE: 'License does not fit the device',
  OVER_ALLOCATED: 'More devices than purchased',
};
