// check: CI's question "are the committed files exactly what generate would write?".
import { formatChangeLine, MANIFEST_PATH, type Manifest } from "../write/index.js";
import { type Context, EXIT_FAILURE, EXIT_OK, prepare } from "./common.js";

/**
 * The manifest agrees when it names the same descriptor and the same files with the same
 * hashes. The recorded version is left out: a new create-deploy that writes identical
 * files must not fail every pipeline that upgrades it.
 */
function manifestAgrees(onDisk: Manifest | undefined, expected: Manifest): boolean {
  if (onDisk === undefined || onDisk.descriptor !== expected.descriptor) return false;
  if (onDisk.files.length !== expected.files.length) return false;
  return onDisk.files.every((f, i) => {
    const e = expected.files[i];
    return e !== undefined && f.path === e.path && f.kind === e.kind && f.sha256 === e.sha256;
  });
}

export async function runCheck(ctx: Context, flags: { config?: string; out?: string }): Promise<number> {
  const prepared = await prepare(ctx, flags);
  if (typeof prepared === "number") return prepared;
  const { plan, state } = prepared;
  const { io } = ctx;

  const findings: string[] = [];
  for (const change of plan.changes) {
    switch (change.action) {
      case "create":
        findings.push(formatChangeLine("missing", change.path));
        break;
      case "update":
        findings.push(formatChangeLine("stale", change.path));
        break;
      case "remove":
        findings.push(formatChangeLine("obsolete", change.path));
        break;
      case "hand-edited":
      case "conflict":
        findings.push(formatChangeLine("edited", change.path));
        break;
      case "unchanged":
        break;
    }
  }
  if (state.manifestProblem !== undefined) {
    io.err(`create-deploy: ${state.manifestProblem}`);
    findings.push(formatChangeLine("edited", MANIFEST_PATH));
  } else if (state.manifest === undefined) {
    findings.push(formatChangeLine("missing", MANIFEST_PATH));
  } else if (!manifestAgrees(state.manifest, plan.manifest)) {
    findings.push(formatChangeLine("stale", MANIFEST_PATH));
  }

  if (findings.length === 0) {
    io.out(`check: ${plan.changes.length} generated files match deploy.yaml and the manifest.`);
    return EXIT_OK;
  }
  for (const line of findings) io.err(line);
  io.err(
    `check: ${findings.length} out of date. Run \`create-deploy generate\` ` +
      "(files edited by hand: move the change into deploy.yaml, or overwrite with --force).",
  );
  return EXIT_FAILURE;
}
