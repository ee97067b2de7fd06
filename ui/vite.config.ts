import { defineConfig, type ProxyOptions } from 'vite';

// `npm run dev` forwards the API to a running gateway (LOOPGATE_URL, default the standard port),
// presenting the gateway's own Origin so its DNS-rebinding guard accepts the browser's requests.
const gateway = process.env.LOOPGATE_URL ?? 'http://127.0.0.1:7337';
const proxy: ProxyOptions = {
  target: gateway,
  changeOrigin: true,
  configure: (p) => {
    p.on('proxyReq', (req) => {
      if (req.getHeader('origin')) req.setHeader('origin', new URL(gateway).origin);
    });
  },
};

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
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: { '/api': proxy, '/auth': proxy },
  },
});
