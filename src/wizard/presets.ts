// Presets: each bundled example, with the project's name in place of the example's.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { findPackageRoot } from "./package-root.js";

export const PRESET_NAMES: readonly string[] = ["bids-flux", "dicom-pipeline", "genui", "mlops-api"];

export async function presetText(preset: string, name: string): Promise<string> {
  const source = await readFile(join(findPackageRoot(), "examples", preset, "deploy.yaml"), "utf8");
  const doc = parseDocument(source);
  doc.set("name", name);
  return doc.toString({ lineWidth: 0 });
}
