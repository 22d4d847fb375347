// The installed package's own folder: examples/ and schemas/ ship beside dist/, and this
// module runs from src/wizard (tests) or from a chunk under dist/ (the bundle).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function isOwnPackage(dir: string): boolean {
  const manifest = join(dir, "package.json");
  if (!existsSync(manifest)) return false;
  try {
    return (JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown }).name === "create-deploy";
  } catch {
    return false;
  }
}

let cached: string | undefined;

export function findPackageRoot(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (isOwnPackage(dir)) return (cached = dir);
    const parent = dirname(dir);
    if (parent === dir) throw new Error("cannot find the create-deploy package folder (examples/, schemas/)");
    dir = parent;
  }
}
