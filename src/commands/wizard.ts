// The interactive paths live in src/wizard and load plop; they are imported only when a
// command needs them, so generate, check, diff and validate start without them.
import type { AddFlags, InitFlags } from "./args.js";
import type { Context } from "./common.js";

export async function runInit(ctx: Context, flags: InitFlags): Promise<number> {
  const { runWizard } = await import("../wizard/index.js");
  return runWizard({ ...flags, cwd: ctx.cwd, interactive: ctx.interactive, io: ctx.io, env: ctx.env });
}

export async function runAdd(ctx: Context, flags: AddFlags): Promise<number> {
  const { runAddService } = await import("../wizard/index.js");
  const { type, ...rest } = flags;
  return runAddService({ ...rest, ...(type === undefined ? {} : { kind: type }), cwd: ctx.cwd, interactive: ctx.interactive, io: ctx.io, env: ctx.env });
}
