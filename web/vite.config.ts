import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Served by Herald itself under /console (src/console/console-static.ts): no CDN, works offline.
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1024 },
  server: { proxy: { '/v1': 'http://127.0.0.1:3000' } },
});
