// Swarm stack files: the docker CLI's own loader (`docker stack config`) validates against
// the swarm (v3) schema and needs no daemon.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve, sep } from "node:path";
import { type CheckResult, linesOf, skipped } from "./result.js";
import { runTool, withTempDir } from "./process.js";

export interface StackOptions {
  /** The stack's file name (default stack.yaml). */
  name?: string;
  /** Files the stack reads (env_file, file-based secrets), by path relative to the stack file. */
  siblings?: Record<string, string>;
}

export async function checkSwarmStack(content: string, options: StackOptions = {}): Promise<CheckResult> {
  const tool = "docker stack config";
  return withTempDir("stack", async (dir) => {
    for (const [relative, text] of Object.entries(options.siblings ?? {})) {
      const path = resolve(dir, relative);
      if (!path.startsWith(dir + sep)) throw new Error(`sibling ${relative} escapes the stack folder`);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, text);
    }
    const file = join(dir, basename(options.name ?? "stack.yaml"));
    await writeFile(file, content);
    // A private, empty client configuration: no contexts, plugins or credentials of the host.
    const config = await mkdtemp(join(dir, ".docker-config-"));
    const run = await runTool("docker", ["stack", "config", "-c", file], { cwd: dir, env: { DOCKER_CONFIG: config } });
    if (run.missing) return skipped(tool, `${run.reason}; install the docker CLI client`);
    const findings = linesOf(run.stderr.split(dir + "/").join(""));
    if (run.code !== 0 && findings.length === 0) findings.push(`exited with status ${run.code}`);
    return { tool, findings };
  });
}
