// Generated YAML, JSON and Markdown must already be in prettier's canonical form.
import { structuredPatch } from "diff";
import { format, getFileInfo } from "prettier";
import { resolve } from "node:path";
import { type CheckResult } from "./result.js";
import { repoRoot } from "./paths.js";

const MAX_DIFF_LINES = 20;

function shortDiff(path: string, actual: string, formatted: string): string[] {
  const patch = structuredPatch(path, path, actual, formatted, "", "", { context: 1 });
  const lines = patch.hunks.flatMap((hunk) => [
    `@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`,
    ...hunk.lines,
  ]);
  return lines.length > MAX_DIFF_LINES ? [...lines.slice(0, MAX_DIFF_LINES), `… ${lines.length - MAX_DIFF_LINES} more diff lines`] : lines;
}

/**
 * `path` names the file (relative to the repository or absolute) and so picks the parser.
 * Prettier's defaults, not a configuration found near the file: generated files land in
 * other people's repositories, and the project's own source style must not leak into them.
 */
export async function checkPrettierClean(path: string, content: string): Promise<CheckResult> {
  const tool = "prettier";
  const absolute = resolve(repoRoot, path);
  const info = await getFileInfo(absolute);
  if (!info.inferredParser) return { tool, findings: [`${path}: prettier infers no parser for this file name`] };
  const formatted = await format(content, { filepath: absolute });
  if (formatted === content) return { tool, findings: [] };
  return { tool, findings: [`${path}: not prettier-clean`, ...shortDiff(path, content, formatted)] };
}
