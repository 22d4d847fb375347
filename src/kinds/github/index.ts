// GitHub workflows: one that builds every image on pull requests and pushes it from the
// publishing branches and version tags (with an optional deploy job after it), and one
// that fails a pull request whose generated files do not match deploy.yaml. Planned after
// every kind that writes files, because the drift check lists them all.
import { VERSION } from "../../commands/version.js";
import type { Descriptor, GithubTarget } from "../../model/descriptor.js";
import { docsPath } from "../docs/index.js";
import type { ArtifactKind, PlanContext, PlannedFile } from "../types.js";
import { checkGithub } from "./check.js";
import { githubSections } from "./docs.js";
import { driftWorkflow } from "./drift.js";
import { type DeployPlan, deployJob, planDeploy } from "./deploy.js";
import { branchesOf, builtImageServices, imageJobs, imageTriggers } from "./images.js";
import { DRIFT_WORKFLOW_PATH, mainWorkflowPath } from "./paths.js";
import { registryLoginOf } from "./registry.js";
import { expr } from "./steps.js";

function targetOf(d: Descriptor): GithubTarget {
  const target = d.targets?.github;
  if (target === undefined) throw new Error("targets.github is not set");
  return target;
}

function mainWorkflow(d: Descriptor, target: GithubTarget, deploy: DeployPlan | undefined): PlannedFile | undefined {
  const jobs = imageJobs(d, target);
  const images = Object.keys(jobs);
  if (deploy !== undefined) jobs["deploy"] = deployJob(deploy, images);
  if (Object.keys(jobs).length === 0) return undefined;
  const login = registryLoginOf(d);
  const building = images.length > 0;
  const comments = building
    ? [
        "Pull requests build every image (no login, no push). Pushes to the publishing branches",
        `and version tags log in to ${login.host} and push, tagged by metadata-action.`,
        ...(deploy === undefined ? [] : [`Then, from the default branch only, the deploy job applies the files on ${deploy.node}.`]),
        "Actions are pinned to release commits; permissions are raised per job only where needed.",
      ]
    : [`Pushes to the default branch apply the deployment files on ${deploy?.node ?? ""} over SSH.`];
  return {
    path: mainWorkflowPath(d),
    kind: "workflow",
    purpose: building
      ? `GitHub workflow: builds the images on pull requests, pushes them to ${login.host}${deploy === undefined ? "" : `, deploys to ${deploy.node}`}`
      : `GitHub workflow: deploys to ${deploy?.node ?? ""} over SSH`,
    comments,
    document: {
      name: building ? "Images" : "Deploy",
      on: building ? imageTriggers(target) : { push: { branches: branchesOf(target) } },
      permissions: { contents: "read" },
      concurrency: {
        group: `${expr("github.workflow")}-${expr("github.ref")}`,
        // A newer commit on a pull request makes the older build pointless; pushes finish in order.
        "cancel-in-progress": expr("github.event_name == 'pull_request'"),
      },
      jobs,
    },
  };
}

function planGithub(d: Descriptor, context: PlanContext): PlannedFile[] {
  const target = targetOf(d);
  const files: PlannedFile[] = [];
  const main = mainWorkflow(d, target, planDeploy(d, context.files, builtImageServices(d).length > 0));
  if (main !== undefined) files.push(main);
  if (target.driftCheck !== false) {
    const generated = [...context.files, ...files].map((f) => f.path);
    files.push({
      path: DRIFT_WORKFLOW_PATH,
      kind: "workflow",
      purpose: "GitHub workflow: fails a pull request whose generated files do not match deploy.yaml, and summarises its change",
      comments: [
        `Runs create-deploy ${VERSION}, the release that generated these files, on pull requests that touch them.`,
        "The job summary shows what the change does to the deployment, and the diff when the files are stale.",
      ],
      document: driftWorkflow(d, VERSION, [...generated, DRIFT_WORKFLOW_PATH, docsPath(d)]),
    });
  }
  return files;
}

export const githubKind: ArtifactKind = {
  name: "github",
  enabled: (d) => d.targets?.github !== undefined,
  check: checkGithub,
  plan: planGithub,
  runbook: githubSections,
};
