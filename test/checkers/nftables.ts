// nftables rulesets: `nft -c` parses and checks against the kernel without applying anything.
// Without root it runs in a private user and network namespace, which nft -c accepts too.
import { writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { type CheckResult, linesOf, skipped } from "./result.js";
import { findExecutable, runTool, withTempDir } from "./process.js";

export async function checkNftables(content: string, name = "rules.nft"): Promise<CheckResult> {
  const tool = "nft -c";
  return withTempDir("nft", async (dir) => {
    const file = join(dir, basename(name));
    await writeFile(file, content);
    const nft = await findExecutable("nft");
    if (!nft) return skipped(tool, "nft is not installed; install the nftables package");
    const asRoot = process.getuid?.() === 0;
    const run = asRoot
      ? await runTool(nft, ["-c", "-f", file])
      : await runTool("unshare", ["--user", "--map-root-user", "--net", nft, "-c", "-f", file]);
    if (run.missing) return skipped(tool, `${run.reason}; it comes with util-linux`);
    // unshare's own failures (no user namespaces here) say nothing about the ruleset.
    if (!asRoot && run.code !== 0 && /^unshare: /m.test(run.stderr)) {
      return skipped(tool, `no user namespace for nft: ${run.stderr.trim()}`);
    }
    const findings = linesOf(`${run.stdout}\n${run.stderr}`.split(dir + "/").join(""));
    if (run.code !== 0 && findings.length === 0) findings.push(`exited with status ${run.code}`);
    return { tool, findings };
  });
}
