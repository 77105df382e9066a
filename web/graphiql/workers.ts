/**
 * Monaco (GraphiQL's editor) runs its language services in web workers. They are bundled by
 * scripts/build-graphiql.ts next to the page's script and started from this server's own URLs,
 * so the page needs nothing from outside (CSP: worker-src 'self').
 */
/** Where src/server/graphiql.ts serves the built files. */
const ASSETS = '/graphiql/assets/';

(globalThis as { MonacoEnvironment?: unknown }).MonacoEnvironment = {
  getWorker(_workerId: string, label: string): Worker {
    const name = label === 'json' ? 'json.worker.js' : label === 'graphql' ? 'graphql.worker.js' : 'editor.worker.js';
    return new Worker(ASSETS + name);
  },
};
