// The dashboard's build (into web/dist, served by `vigil serve` at /) and its component tests.
// The root is given by the caller (scripts/build.mjs, `vitest --root web`), so nothing here needs Node.
import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

export default defineConfig({
  base: '/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 400 },
  // `npx vite web` during development: the API of a `vigil serve` on its default port.
  server: { proxy: { '/api': 'http://127.0.0.1:8600' } },
  test: { environment: 'jsdom', include: ['src/**/*.test.{ts,tsx}'] },
});
