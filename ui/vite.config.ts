import { defineConfig } from 'vite';

// The Rust binary embeds ui/dist and serves it at `/`, so every asset path is relative.
export default defineConfig({
  base: './',
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev` proxies the API to a running gateway (or tests/ui/mock-api.mjs).
    proxy: {
      '/api': { target: process.env.LOOPGATE_URL ?? 'http://127.0.0.1:7337', changeOrigin: false },
      '/auth': { target: process.env.LOOPGATE_URL ?? 'http://127.0.0.1:7337', changeOrigin: false },
    },
  },
});
