import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/setup/codegen.ts"],
    setupFiles: ["test/setup/fast-check.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    env: {
      // The bins the tests run keep their compiled code here, not in the user's own cache.
      CREATE_DEPLOY_CACHE_DIR: join(tmpdir(), "create-deploy-test-code-cache"),
    },
  },
});
