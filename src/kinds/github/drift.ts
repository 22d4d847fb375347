// The drift check: on pull requests touching deploy.yaml or a generated file, the exact
// create-deploy release that wrote the files checks them. When they are stale or edited
// by hand the job fails and its summary shows the diff; either way the summary explains
// what the descriptor change does to the deployment (`diff --summary`).
import type { Descriptor } from "../../model/descriptor.js";
import { MANIFEST_PATH } from "../docs/index.js";
import { RUNNER, type Step, actionStep, checkoutStep, runStep } from "./steps.js";

/** The Node.js major the check runs on (create-deploy needs 20 or later). */
export const NODE_VERSION = "20";
/** The names `create-deploy` finds a descriptor under without --config, in its order. */
export const DESCRIPTOR_NAMES = ["deploy.yaml", "deploy.yml"];

/** The package spec the workflow runs: always an exact version, never a floating one. */
export function packageSpec(version: string): string {
  if (!/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/.test(version)) throw new Error(`not an exact version: ${JSON.stringify(version)}`);
  return `create-deploy@${version}`;
}

/** The pull request's base is the merge commit's first parent, so fetch-depth 2 reaches it without credentials. */
const BASE_DESCRIPTOR_SCRIPT = [
  'base="$RUNNER_TEMP/base-deploy.yaml"',
  "# An empty file says the base branch had no descriptor yet.",
  ': > "$base"',
  `for name in ${DESCRIPTOR_NAMES.join(" ")}; do`,
  '  if git cat-file -e "HEAD^1:$name" 2>/dev/null; then',
  '    git show "HEAD^1:$name" > "$base"',
  "    break",
  "  fi",
  "done",
  'npx --yes "$CREATE_DEPLOY" diff --summary --base "$base" >> "$GITHUB_STEP_SUMMARY"',
];

const DIFF_SCRIPT = [
  "{",
  '  echo "### Generated files do not match deploy.yaml"',
  "  echo",
  '  echo "Run \\`npx create-deploy generate\\` and commit the result. What it would change:"',
  "  echo",
  // Four backticks: the diff of DEPLOY.md holds three-backtick fences of its own.
  "  echo '````diff'",
  '  npx --yes "$CREATE_DEPLOY" diff',
  "  echo '````'",
  "  echo",
  '} >> "$GITHUB_STEP_SUMMARY"',
];

/** What a pull request must touch to run the check: the descriptor and every generated file. */
export function driftPaths(generated: readonly string[]): string[] {
  return [...new Set([...DESCRIPTOR_NAMES, MANIFEST_PATH, ...generated])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function driftWorkflow(d: Descriptor, version: string, generated: readonly string[]): Record<string, unknown> {
  const steps: Step[] = [
    checkoutStep(2),
    actionStep("Set up Node.js", "actions/setup-node", { with: { "node-version": NODE_VERSION } }),
    runStep("Check the generated files against deploy.yaml", 'npx --yes "$CREATE_DEPLOY" check', { id: "check" }),
    runStep("Show what generate would change", DIFF_SCRIPT, { if: "failure() && steps.check.outcome == 'failure'" }),
    runStep("Summarise the deployment change", BASE_DESCRIPTOR_SCRIPT, { if: "!cancelled()" }),
  ];
  return {
    name: "Deployment files",
    on: { pull_request: { paths: driftPaths(generated) } },
    permissions: { contents: "read" },
    jobs: {
      check: {
        name: `create-deploy check (${d.name})`,
        "runs-on": RUNNER,
        "timeout-minutes": 10,
        env: { CREATE_DEPLOY: packageSpec(version) },
        steps,
      },
    },
  };
}
