// diff: what generate would change, as a unified diff a reviewer can read or apply.
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from "diff";
import { blockedChanges, type PlannedChange } from "../write/index.js";
import { type Context, EXIT_OK, prepare } from "./common.js";
import { runDiffSummary } from "./summary.js";

/**
 * The patch for one change, or undefined when generate would leave the file as it is.
 * A created or removed file is a patch from or to /dev/null, as git writes it, so that
 * `git apply` and `patch` create and delete the file rather than leave an empty one.
 */
export function patchOf(change: PlannedChange): string | undefined {
  if (change.action === "unchanged") return undefined;
  const before = change.current === undefined ? "" : Buffer.from(change.current).toString("utf8");
  const after = change.file?.content ?? "";
  const from = change.current === undefined ? "/dev/null" : `a/${change.path}`;
  const to = change.file === undefined ? "/dev/null" : `b/${change.path}`;
  return createTwoFilesPatch(from, to, before, after, undefined, undefined, {
    context: 3,
    headerOptions: FILE_HEADERS_ONLY,
  });
}

export async function runDiff(ctx: Context, flags: { config?: string; out?: string; summary?: boolean; base?: string }): Promise<number> {
  const prepared = await prepare(ctx, flags);
  if (typeof prepared === "number") return prepared;
  if (flags.summary === true) return runDiffSummary(ctx, prepared, flags.base);
  const { plan, state } = prepared;
  for (const change of plan.changes) {
    const patch = patchOf(change);
    if (patch !== undefined) ctx.io.out(patch.replace(/\n$/u, ""));
  }
  if (state.manifestProblem !== undefined) ctx.io.err(`note: ${state.manifestProblem}`);
  const blocked = blockedChanges(plan);
  if (blocked.length > 0) {
    ctx.io.err(
      `note: generate will refuse to touch these files changed by hand unless --force: ${blocked.map((c) => c.path).join(", ")}`,
    );
  }
  return EXIT_OK;
}
