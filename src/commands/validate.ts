// validate: is the descriptor one generate would accept?
import { buildOrReport, type Context, EXIT_FAILURE, EXIT_OK, resolveTarget, showPath } from "./common.js";

export async function runValidate(ctx: Context, flags: { config?: string }): Promise<number> {
  const target = resolveTarget(ctx, flags);
  if (target === undefined) return EXIT_FAILURE;
  if ((await buildOrReport(ctx, target)) === undefined) return EXIT_FAILURE;
  ctx.io.out(`${showPath(ctx.cwd, target.configPath)}: valid`);
  return EXIT_OK;
}
