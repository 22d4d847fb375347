// The paths the last generate recorded, read back for the next steps.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { MANIFEST_PATH } from "../write/index.js";

export async function readManifestPaths(dir: string): Promise<string[]> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, MANIFEST_PATH), "utf8")) as { files?: { path?: unknown }[] };
    return (manifest.files ?? []).map((f) => f.path).filter((p): p is string => typeof p === "string");
  } catch {
    return [];
  }
}
