// Runs an external checker. A missing executable is reported as such (so the caller can
// skip with a reason) rather than as a failure of the file under test.
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

export type ToolRun =
  | { missing: false; code: number; stdout: string; stderr: string }
  | { missing: true; reason: string };

export interface RunOptions {
  input?: string;
  cwd?: string;
  env?: Record<string, string>;
}

export function runTool(command: string, args: string[], options: RunOptions = {}): Promise<ToolRun> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      // Plain, uncoloured, untranslated output so findings read the same everywhere.
      env: { ...process.env, LC_ALL: "C.UTF-8", NO_COLOR: "1", SYSTEMD_COLORS: "0", SYSTEMD_PAGER: "", ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") resolve({ missing: true, reason: `${command} is not installed (not found on PATH)` });
      else resolve({ missing: false, code: -1, stdout, stderr: `${stderr}${error.message}` });
    });
    child.on("close", (code, signal) => {
      resolve({ missing: false, code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
    // A tool that exits before reading all of stdin must not crash the test run.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}

/** Runs `use` with a fresh temporary directory that is removed afterwards. */
export async function withTempDir<T>(prefix: string, use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), `create-deploy-${prefix}-`));
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The absolute path of an executable on PATH or in the sbin folders (which a non-root
 * PATH often lacks, yet nft lives there), or null.
 */
export async function findExecutable(name: string): Promise<string | null> {
  const folders = [...(process.env["PATH"] ?? "").split(delimiter), "/usr/local/sbin", "/usr/sbin", "/sbin"];
  for (const folder of folders) {
    if (folder === "") continue;
    const candidate = join(folder, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return null;
}
