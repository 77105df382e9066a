import { useCallback, useState } from 'react';

/** Relay cursor paging forwards, remembering the cursors behind so "Previous" goes back. */
export function useCursorPager() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const after = cursors[cursors.length - 1];
  return {
    after,
    page: cursors.length,
    next: useCallback((endCursor: string | null | undefined) => endCursor && setCursors((c) => [...c, endCursor]), []),
    prev: useCallback(() => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)), []),
    reset: useCallback(() => setCursors([null]), []),
  };
}
