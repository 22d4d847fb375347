// validate: is the descriptor one generate would accept?
import { buildFiles } from "../pipeline.js";
import { type Context, EXIT_FAILURE, EXIT_OK, printProblems, resolveTarget, showPath } from "./common.js";

export async function runValidate(ctx: Context, flags: { config?: string }): Promise<number> {
  const target = resolveTarget(ctx, flags);
  if (target === undefined) return EXIT_FAILURE;
  const built = await buildFiles(target.configPath, target.outDir);
  if (!built.ok) {
    printProblems(ctx.io, built.problems);
    return EXIT_FAILURE;
  }
  ctx.io.out(`${showPath(ctx.cwd, target.configPath)}: valid`);
  return EXIT_OK;
}
