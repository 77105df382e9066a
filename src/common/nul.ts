/**
 * PostgreSQL text cannot hold U+0000; left alone, such input would fail deep in the driver as an
 * internal error. Requests are checked once, before execution (server/http.ts, server/ws.ts).
 * Returns the path of the first string holding U+0000 inside `value`, or null.
 */
export function findNul(value: unknown, path: string): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNul(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  // Plain objects only, as JSON makes them: an UploadedFile (whose bytes may hold any value, and
  // whose name is cleaned when it is made) is not walked byte by byte.
  if (value !== null && typeof value === 'object' && isPlainObject(value)) {
    for (const [key, inner] of Object.entries(value)) {
      const found = findNul(inner, `${path}.${key}`);
      if (found) return found;
    }
  }
  return null;
}


function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
