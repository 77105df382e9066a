import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { GraphQLError, GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { TokenVerifier } from '../auth/jwt';
import type { Viewer } from '../auth/viewer';
import type { RequestContext } from '../common/context';
import { badInput } from '../common/errors';
import { findNul } from '../common/nul';
import type { Logger } from '../logger';
import { formatError } from './errors';
import { GRAPHQL_PATH } from './http';

/** graphql-ws close code for a refused or expired token (the protocol's "Forbidden"). */
export const CLOSE_FORBIDDEN = 4403;

export interface WsDeps {
  httpServer: http.Server;
  schema: GraphQLSchema;
  verifier: TokenVerifier;
  log: Logger;
  contextFor: (viewer: Viewer, requestId: string) => RequestContext;
}

type ConnectionExtra = {
  viewer?: Viewer;
  expiryTimer?: NodeJS.Timeout;
};

/**
 * GraphQL over WebSocket (graphql-transport-ws) on the HTTP server's port and path. The token
 * arrives in `connectionParams.authorization`; a bad one closes the socket with 4403, and the
 * socket is closed with 4403 when the token expires.
 */
export function attachWebSocketServer(deps: WsDeps): { close(): Promise<void> } {
  const wss = new WebSocketServer({ server: deps.httpServer, path: GRAPHQL_PATH });
  const server = useServer<Record<string, unknown> | undefined, ConnectionExtra>(
    {
      schema: deps.schema,
      onConnect: (ctx) => {
        const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        if (typeof raw !== 'string') return false;
        try {
          const viewer = deps.verifier.viewerFromAuthorization(/^bearer\s/i.test(raw) ? raw : `Bearer ${raw}`);
          ctx.extra.viewer = viewer;
          const msLeft = viewer.expiresAt * 1000 - Date.now();
          ctx.extra.expiryTimer = setTimeout(
            () => ctx.extra.socket.close(CLOSE_FORBIDDEN, 'token expired'),
            Math.max(0, Math.min(msLeft, 2 ** 31 - 1)),
          );
          ctx.extra.expiryTimer.unref();
          return true;
        } catch {
          return false;
        }
      },
      onClose: (ctx) => {
        clearTimeout(ctx.extra.expiryTimer);
      },
      context: (ctx) => {
        const viewer = ctx.extra.viewer;
        if (!viewer) throw new Error('graphql-ws context requested before onConnect accepted the connection');
        return deps.contextFor(viewer, randomUUID());
      },
      onSubscribe: (_ctx, _id, payload) => {
        const nulAt = findNul(payload, 'payload');
        if (nulAt) return [badInput(`${nulAt} contains a NUL character (U+0000), which is not allowed`)];
      },
      onNext: (_ctx, _id, _payload, _args, result) => {
        if (!('errors' in result) || !result.errors) return result;
        return { ...result, errors: result.errors.map((e) => formatError(toFormatted(e), e) as GraphQLError) };
      },
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatError(toFormatted(e), e) as GraphQLError),
    },
    wss,
  );
  return {
    async close() {
      await server.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function toFormatted(e: GraphQLError | GraphQLFormattedError): GraphQLFormattedError {
  return 'toJSON' in e && typeof e.toJSON === 'function' ? e.toJSON() : (e as GraphQLFormattedError);
}
