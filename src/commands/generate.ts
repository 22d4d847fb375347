// generate: write what the descriptor asks for, refusing to overwrite a person's edits.
import {
  applyChanges,
  blockedChanges,
  effectOf,
  formatChangeLine,
  labelOf,
  type PlannedChange,
} from "../write/index.js";
import { type Context, EXIT_FAILURE, EXIT_OK, prepare, showPath } from "./common.js";

export interface GenerateFlags {
  config?: string;
  out?: string;
  dryRun: boolean;
  force: boolean;
}

/** The label of a change as generate carries it out (forced edits become updates and removals). */
function appliedLabel(change: PlannedChange, effect: "write" | "delete"): string {
  if (effect === "delete") return "remove";
  return change.current === undefined ? "create" : "update";
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export async function runGenerate(ctx: Context, flags: GenerateFlags): Promise<number> {
  const prepared = await prepare(ctx, flags);
  if (typeof prepared === "number") return prepared;
  const { plan, state } = prepared;
  const { io } = ctx;

  if (state.manifestProblem !== undefined && !flags.force) {
    io.err(`create-deploy: ${state.manifestProblem}`);
    io.err("The record of generated files cannot be trusted, so nothing was written.");
    io.err("Fix or delete it, or run `create-deploy generate --force` to overwrite every generated file.");
    return EXIT_FAILURE;
  }

  if (state.manifestProblem !== undefined) {
    io.err(`note: ${state.manifestProblem}; --force: replacing it and every generated file`);
  }

  if (flags.dryRun) {
    // Forced, a hand-edited file is listed by what generate will do to it.
    const lines = plan.changes.map((c) => {
      const effect = effectOf(c, flags.force);
      const label = !flags.force || effect === "none" ? labelOf(c) : appliedLabel(c, effect);
      return { label, path: c.path };
    });
    for (const { label, path } of lines) io.out(formatChangeLine(label, path));
    const count = (label: string): number => lines.filter((l) => l.label === label).length;
    io.out(
      `Dry run: ${count("create")} to create, ${count("update")} to update, ${count("remove")} to remove, ` +
        `${count("keep")} unchanged, ${count("edited")} edited by hand; nothing written.`,
    );
    const blocked = blockedChanges(plan);
    if (blocked.length > 0 && !flags.force) {
      io.err(`generate would refuse: ${plural(blocked.length, "file")} changed by hand (--force overwrites them).`);
    }
    return EXIT_OK;
  }

  const result = await applyChanges(prepared.target.outDir, plan, { force: flags.force, cwd: ctx.cwd });
  if (!result.ok) {
    io.err(
      `create-deploy: refusing to overwrite ${plural(result.blocked.length, "file")} changed by hand ` +
        "or not written by create-deploy; nothing was written:",
    );
    for (const change of result.blocked) io.err(formatChangeLine("edited", change.path));
    io.err("Move the change into deploy.yaml, or run `create-deploy generate --force` to overwrite.");
    return EXIT_FAILURE;
  }

  let created = 0;
  let updated = 0;
  let removed = 0;
  for (const applied of result.applied) {
    const label = appliedLabel(applied.change, applied.effect);
    if (label === "create") created++;
    else if (label === "update") updated++;
    else removed++;
    io.out(formatChangeLine(label, applied.path));
  }
  const unchanged = plan.changes.filter((c) => effectOf(c, flags.force) === "none").length;
  const where = showPath(ctx.cwd, prepared.target.outDir);
  io.out(`Generated in ${where}: ${created} created, ${updated} updated, ${removed} removed, ${unchanged} unchanged.`);
  return EXIT_OK;
}
