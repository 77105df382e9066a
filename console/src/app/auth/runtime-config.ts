/** GET /console/config.json (src/server/console.ts): how this server signs people in. */
export type RuntimeConfig =
  | { signIn: 'oidc'; issuer: string; clientId: string; scope: string; audience?: string }
  | { signIn: 'dev' }
  | { signIn: 'none'; reason: string };

export async function loadRuntimeConfig(): Promise<RuntimeConfig> {
  const res = await fetch('/console/config.json', { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`the server answered ${res.status} for /console/config.json`);
  return (await res.json()) as RuntimeConfig;
}
