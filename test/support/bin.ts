// Runs the built command line (bin/create-deploy.js → dist/start.js → dist/cli.cjs) as a user would, in
// throw-away copies of the examples.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const BIN = join(REPO, "bin", "create-deploy.js");
export const EXAMPLES = ["bids-flux", "dicom-pipeline", "genui", "mlops-api"] as const;

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the bin without a terminal (stdin closed, output piped), as scripts and CI do. */
export function runCli(args: readonly string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, CREATE_DEPLOY_DEBUG: "", ...env },
      timeout: 120_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** These tests run the bundle, which `npm run build` makes (npm test builds first). */
export function assertBuilt(): void {
  if (!existsSync(join(REPO, "dist", "cli.cjs"))) {
    throw new Error("dist/cli.cjs is missing: run `npm run build` (npm test does it) before these tests");
  }
}

/** A fresh temp folder holding a copy of examples/<name>/deploy.yaml and nothing else. */
export async function copyExample(name: string): Promise<string> {
  const dir = await fs.realpath(await fs.mkdtemp(join(tmpdir(), `create-deploy-${name}-`)));
  await fs.copyFile(join(REPO, "examples", name, "deploy.yaml"), join(dir, "deploy.yaml"));
  return dir;
}

/** Every entry under a folder (links not followed): path → type, mode and content hash. */
export async function hashTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const entry of (await fs.readdir(d)).sort()) {
      const path = join(d, entry);
      const rel = relative(dir, path).split("\\").join("/");
      const stats = await fs.lstat(path);
      if (stats.isSymbolicLink()) out[rel] = `link ${await fs.readlink(path)}`;
      else if (stats.isDirectory()) {
        out[rel] = "dir";
        await walk(path);
      } else {
        const sha = createHash("sha256")
          .update(await fs.readFile(path))
          .digest("hex");
        out[rel] = `${(stats.mode & 0o777).toString(8)} ${sha}`;
      }
    }
  };
  await walk(dir);
  return out;
}

export interface ManifestOnDisk {
  generator: string;
  version: string;
  descriptor: string;
  files: { path: string; kind: string; sha256: string }[];
}

export async function readManifestFile(dir: string): Promise<ManifestOnDisk> {
  return JSON.parse(await fs.readFile(join(dir, ".create-deploy", "manifest.json"), "utf8")) as ManifestOnDisk;
}
