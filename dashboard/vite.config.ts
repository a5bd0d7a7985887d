import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

declare const process: { env: Record<string, string | undefined> };

// The Worker's URL is baked in at build time (VITE_API_BASE); `npm start`
// builds with the local Worker's port.
export default defineConfig({
  plugins: [vue()],
  build: { target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 400 },
  server: { port: Number(process.env.AIRL_DASHBOARD_PORT || 3001), host: '127.0.0.1' },
});
