// The whole job from a descriptor path to rendered files:
// load → validate → plan → render (→ format is built into render: output is canonical).
// It reads the descriptor and nothing else, writes nothing and prints nothing.
import { existsSync } from "node:fs";
import { basename, dirname, relative, resolve, sep } from "node:path";
import { kinds } from "./kinds/index.js";
import { readDescriptor } from "./load.js";
import type { Descriptor } from "./model/descriptor.js";
import { planFiles } from "./plan.js";
import type { Problem } from "./problems.js";
import { renderFiles, type RenderedFile } from "./render/index.js";
import { validateDescriptor } from "./validate/index.js";

export type { RenderedFile } from "./render/index.js";

export type BuildResult =
  | { ok: true; descriptorFile: string; descriptor: Descriptor; files: RenderedFile[] }
  | { ok: false; problems: Problem[] };

export type ValidateResult = { ok: true; descriptor: Descriptor } | { ok: false; problems: Problem[] };

export const DEFAULT_CONFIG_NAMES = ["deploy.yaml", "deploy.yml"] as const;

/** `--config` when given, else ./deploy.yaml, else ./deploy.yml (the first that exists). */
export function resolveConfigPath(cwd: string, flag?: string): string {
  if (flag !== undefined) return resolve(cwd, flag);
  for (const name of DEFAULT_CONFIG_NAMES) {
    const candidate = resolve(cwd, name);
    if (existsSync(candidate)) return candidate;
  }
  return resolve(cwd, DEFAULT_CONFIG_NAMES[0]);
}

/** How messages and markers name the descriptor: relative to the output folder. */
export function descriptorLabel(configPath: string, outDir: string): string {
  const rel = relative(outDir, configPath);
  return rel === "" || rel.startsWith("..") ? basename(configPath) : rel.split(sep).join("/");
}

export async function loadAndValidate(configPath: string): Promise<ValidateResult> {
  const file = basename(configPath);
  const parsed = await readDescriptor(configPath);
  if (parsed.problems.length > 0) return { ok: false, problems: parsed.problems };
  const result = validateDescriptor(parsed, file, kinds);
  if (result.problems.length > 0 || !result.descriptor) return { ok: false, problems: result.problems };
  return { ok: true, descriptor: result.descriptor };
}

export async function buildFiles(configPath: string, outDir: string = dirname(configPath)): Promise<BuildResult> {
  const validated = await loadAndValidate(configPath);
  if (!validated.ok) return validated;
  const descriptorFile = descriptorLabel(configPath, outDir);
  const files = renderFiles(planFiles(validated.descriptor), { descriptorFile });
  return { ok: true, descriptorFile, descriptor: validated.descriptor, files };
}
