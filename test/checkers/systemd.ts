// systemd units: `systemd-analyze verify` in a throw-away root (so the host's own units and
// generators play no part), and the offline `security` exposure score.
import { chmod, copyFile, mkdir, readdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { type CheckResult, linesOf, skipped } from "./result.js";
import { runTool, withTempDir } from "./process.js";

const HOST_UNIT_DIR = "/usr/lib/systemd/system";
const EXEC_KEY = /^(ExecStart|ExecStartPre|ExecStartPost|ExecCondition|ExecReload|ExecStop|ExecStopPost)\s*=\s*(.*)$/;
/** Highest exposure the project accepts; `--threshold` takes it times ten. */
export const MAX_EXPOSURE = 2.0;

export interface VerifyOptions {
  /** More absolute paths to provide as executable stubs (beyond the unit's Exec* commands). */
  stubs?: string[];
  /**
   * Other files to place beside the unit in /etc/systemd/system, by relative path:
   * units it refers to, drop-ins such as `NAME.service.d/10-env.conf`.
   */
  siblings?: Record<string, string>;
}

/** Joins backslash-continued lines, as systemd reads them. */
function logicalLines(content: string): string[] {
  return content.replace(/\\\n/g, " ").split("\n");
}

/** The absolute program paths of every Exec*= line (after systemd's `-@:+!` prefixes). */
export function findExecPaths(content: string): string[] {
  const paths: string[] = [];
  for (const line of logicalLines(content)) {
    const match = EXEC_KEY.exec(line.trim());
    if (!match) continue;
    const value = (match[2] ?? "").replace(/^[-@:+!]+/, "");
    const program = value.split(/\s+/)[0] ?? "";
    if (program.startsWith("/")) paths.push(program);
  }
  return paths;
}

function insideRoot(root: string, absolute: string): string {
  const target = resolve(root, `.${absolute}`);
  if (!target.startsWith(root + sep)) throw new Error(`path ${absolute} escapes the verify root`);
  return target;
}

async function copyHostTargetsAndSlices(root: string): Promise<void> {
  const destination = join(root, HOST_UNIT_DIR);
  await mkdir(destination, { recursive: true });
  let names: string[];
  try {
    names = await readdir(HOST_UNIT_DIR);
  } catch {
    return; // verify itself will then report the missing targets
  }
  await Promise.all(
    names
      .filter((name) => name.endsWith(".target") || name.endsWith(".slice"))
      .map((name) => copyFile(join(HOST_UNIT_DIR, name), join(destination, name))),
  );
}

export async function verifyUnit(name: string, content: string, options: VerifyOptions = {}): Promise<CheckResult> {
  const tool = "systemd-analyze verify";
  return withTempDir("verify", async (root) => {
    await copyHostTargetsAndSlices(root);
    const unitDir = join(root, "etc/systemd/system");
    const files: Record<string, string> = { ...options.siblings, [name]: content };
    for (const [relative, text] of Object.entries(files)) {
      const path = insideRoot(unitDir, `/${relative}`);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, text);
    }
    const stubs = new Set([...(options.stubs ?? []), ...Object.values(files).flatMap(findExecPaths)]);
    for (const stub of stubs) {
      const path = insideRoot(root, stub);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, "#!/bin/sh\nexit 0\n");
      await chmod(path, 0o755);
    }
    const run = await runTool("systemd-analyze", ["verify", "--man=no", "--generators=no", `--root=${root}`, name]);
    if (run.missing) return skipped(tool, run.reason);
    // Warnings about unknown keys or bad values exit 0: any output at all is a finding.
    const findings = linesOf(`${run.stdout}\n${run.stderr}`.split(unitDir + "/").join("").split(root).join(""));
    if (run.code !== 0 && findings.length === 0) findings.push(`exited with status ${run.code}`);
    return { tool, findings };
  });
}

export interface SecurityResult extends CheckResult {
  /** The overall exposure level systemd-analyze printed (0.0 safest … 10.0). */
  exposure?: number;
}

export async function scoreUnitSecurity(name: string, content: string): Promise<SecurityResult> {
  const tool = "systemd-analyze security";
  const unit = name.includes(".") ? name : `${name}.service`;
  return withTempDir("security", async (dir) => {
    await writeFile(join(dir, unit), content);
    const threshold = String(Math.round(MAX_EXPOSURE * 10));
    const run = await runTool("systemd-analyze", ["security", "--offline=true", `--threshold=${threshold}`, `./${unit}`], {
      cwd: dir,
    });
    if (run.missing) return skipped(tool, run.reason);
    const match = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(run.stdout);
    const exposure = match?.[1] === undefined ? undefined : Number(match[1]);
    const findings = linesOf(run.stderr.split(dir + "/").join(""));
    if (exposure === undefined) findings.push("no overall exposure level in the output");
    else if (exposure > MAX_EXPOSURE) findings.push(`overall exposure ${exposure.toFixed(1)} is above ${MAX_EXPOSURE.toFixed(1)}`);
    if (run.code !== 0 && (exposure === undefined || exposure <= MAX_EXPOSURE)) {
      findings.push(`exited with status ${run.code}`);
    }
    return exposure === undefined ? { tool, findings } : { tool, findings, exposure };
  });
}
