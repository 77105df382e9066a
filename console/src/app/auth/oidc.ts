import type { User, UserManager } from 'oidc-client-ts';
import { session } from './session';
import type { RuntimeConfig } from './runtime-config';

export const CALLBACK_PATH = '/auth/callback';
export const SILENT_PATH = '/auth/silent';

let manager: Promise<UserManager> | undefined;

/**
 * oidc-client-ts, loaded on demand (development sign-in never downloads it): authorization code flow
 * with PKCE, the user (and its tokens) kept in memory only, renewed silently before the access token
 * expires (with a refresh token when the provider gives one, else in a hidden iframe).
 */
export function oidcManager(config: Extract<RuntimeConfig, { signIn: 'oidc' }>): Promise<UserManager> {
  manager ??= import('oidc-client-ts').then(({ UserManager, WebStorageStateStore, InMemoryWebStorage }) => {
    const origin = window.location.origin;
    const audience = config.audience ? { resource: config.audience, audience: config.audience } : undefined;
    const mgr = new UserManager({
      authority: config.issuer,
      client_id: config.clientId,
      redirect_uri: `${origin}${CALLBACK_PATH}`,
      silent_redirect_uri: `${origin}${SILENT_PATH}`,
      post_logout_redirect_uri: `${origin}/`,
      response_type: 'code',
      scope: config.scope,
      automaticSilentRenew: true,
      userStore: new WebStorageStateStore({ store: new InMemoryWebStorage() }),
      extraQueryParams: audience,
      extraTokenParams: audience,
    });
    const take = (user: User | null): void => session.set(user && !user.expired ? user.access_token : null);
    mgr.events.addUserLoaded(take);
    mgr.events.addUserUnloaded(() => session.set(null));
    mgr.events.addAccessTokenExpired(() => session.set(null));
    return mgr;
  });
  return manager;
}

export async function oidcSignIn(config: Extract<RuntimeConfig, { signIn: 'oidc' }>): Promise<void> {
  const mgr = await oidcManager(config);
  await mgr.signinRedirect({ state: { returnTo: window.location.pathname + window.location.search } });
}

/** On /auth/callback: trades the code for tokens, then returns the path the person started from. */
export async function oidcCallback(config: Extract<RuntimeConfig, { signIn: 'oidc' }>): Promise<string> {
  const mgr = await oidcManager(config);
  const user = await mgr.signinCallback();
  if (user) session.set(user.access_token);
  const returnTo = (user?.state as { returnTo?: string } | undefined)?.returnTo;
  return returnTo && returnTo.startsWith('/') && !returnTo.startsWith('//') ? returnTo : '/';
}

export async function oidcSilentCallback(config: Extract<RuntimeConfig, { signIn: 'oidc' }>): Promise<void> {
  const mgr = await oidcManager(config);
  await mgr.signinSilentCallback();
}

export async function oidcSignOut(config: Extract<RuntimeConfig, { signIn: 'oidc' }>): Promise<void> {
  const mgr = await oidcManager(config);
  session.set(null);
  const hasEndSession = await mgr.metadataService.getEndSessionEndpoint().catch(() => undefined);
  if (hasEndSession) await mgr.signoutRedirect();
  else await mgr.removeUser();
}
