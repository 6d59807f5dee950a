import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests bind loopback ports and compare wall-clock phases with the simulator:
    // run files one after another so they do not steal each other's event-loop time.
    fileParallelism: false,
  },
});
