import { defineConfig } from 'vitest/config';

// Tiers: `default` and `apiserver` run in CI (unit, real tools, sshd in netns; then the testbed apiserver);
// `vm` and `e2e` boot real VMs, `nodes` boots system containers; each has its own npm script.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'default',
          include: ['test/{unit,tools,ssh}/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 600_000,
        },
      },
      {
        // Part of `npm test`, after `default`. Each file starts its own control plane and spends most of its
        // time waiting on controllers, so files run side by side; every wait is a poll with a named limit.
        test: {
          name: 'apiserver',
          include: ['test/apiserver/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 600_000,
          maxWorkers: 3,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: 'vm',
          include: ['test/vm/**/*.test.ts'],
          testTimeout: 3_600_000,
          hookTimeout: 3_600_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          // system-container machines (systemd-nspawn) on a private bridge: `npm run test:nodes`
          name: 'nodes',
          include: ['test/nodes/**/*.test.ts'],
          testTimeout: 3_600_000,
          hookTimeout: 1_800_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          // bench/serve's served internet and a network-namespace node (needs root; `npm run serve:selftest`).
          name: 'serve',
          include: ['test/serve/**/*.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 1_800_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 14_400_000, // verify alone takes over an hour under software emulation
          hookTimeout: 5_400_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
