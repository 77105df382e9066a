import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is served by the API server (src/server/console.ts) from console/dist: hashed files under
// /assets/, index.html for every page. `npm run build` builds it through scripts/build-console.ts.
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
    target: ['chrome110', 'firefox110', 'safari16'],
    // No inline script in index.html: the page's CSP allows scripts from this server only.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 800,
  },
  server: {
    // `npx vite` in console/ during development: the API runs on :4000.
    proxy: {
      '/graphql': { target: 'http://127.0.0.1:4000', ws: true },
      '/files': 'http://127.0.0.1:4000',
      '/console/config.json': 'http://127.0.0.1:4000',
      '/dev/token': 'http://127.0.0.1:4000',
    },
  },
});
