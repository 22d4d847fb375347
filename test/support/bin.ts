// Runs the built command line (bin/create-deploy.js → dist/cli.js) as a user would, in
// throw-away copies of the examples.
import { spawnSync } from "node:child_process";
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

export function runCli(args: readonly string[], cwd: string, env: Record<string, string> = {}): Run {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, CREATE_DEPLOY_DEBUG: "", ...env },
    timeout: 30_000,
  });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** These tests run the bundle, which `npm run build` makes (npm test builds first). */
export function assertBuilt(): void {
  if (!existsSync(join(REPO, "dist", "cli.js"))) {
    throw new Error("dist/cli.js is missing: run `npm run build` (npm test does it) before these tests");
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
