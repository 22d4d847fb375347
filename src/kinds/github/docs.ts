// DEPLOY.md sections of the GitHub workflows: what each workflow does and the secrets to
// set for it, the drift check on pull requests, and the deploy job with the one-time setup
// of its node, environment and SSH trust.
import { VERSION } from "../../commands/version.js";
import type { Descriptor, GithubTarget } from "../../model/descriptor.js";
import { buildContextOf, dockerfilePath, SECRETS_DIR } from "../../model/derive.js";
import { markdownCode, quoteShell } from "../../render/escape.js";
import { formatTable } from "../../render/markdown.js";
import type { RunbookSection } from "../types.js";
import { KNOWN_HOSTS_SECRET, SSH_KEY_SECRET, planDeploy } from "./deploy.js";
import { packageSpec } from "./drift.js";
import { branchesOf, builtImageServices, foreignPlatforms, imageJobId, platformsOf } from "./images.js";
import { DRIFT_WORKFLOW_PATH, mainWorkflowPath } from "./paths.js";
import { ACTION_PINS, type PinnedAction } from "./pins.js";
import { DOCKER_HUB, GHCR, pushedImageForPeople, registryLoginOf } from "./registry.js";

function codeList(values: readonly string[]): string {
  const quoted = values.map(markdownCode);
  if (quoted.length <= 1) return quoted.join("");
  return `${quoted.slice(0, -1).join(", ")} and ${quoted[quoted.length - 1] ?? ""}`;
}

/** Where the registry's robot account or token comes from, in one sentence. */
function loginAdvice(host: string): string {
  if (host === "quay.io") {
    return "On quay.io, create a robot account (organisation settings, Robot Accounts) with write permission on the image repositories; its name is the user, its token the password.";
  }
  if (host === DOCKER_HUB) {
    return "On Docker Hub, create a personal or organisation access token with read and write scope; the user is your Docker ID.";
  }
  if (host === GHCR) {
    return "On ghcr.io, the password is a token with the write:packages scope.";
  }
  return `Use an account of ${host} that may push to the image repositories, preferably a robot or service account rather than a person's.`;
}

function usedActions(d: Descriptor, target: GithubTarget): PinnedAction[] {
  const actions: PinnedAction[] = [];
  const building = builtImageServices(d).length > 0;
  if (building || target.deploy !== undefined || target.driftCheck !== false) actions.push("actions/checkout");
  if (target.driftCheck !== false) actions.push("actions/setup-node");
  if (building) {
    if (foreignPlatforms(target).length > 0) actions.push("docker/setup-qemu-action");
    actions.push("docker/setup-buildx-action", "docker/login-action", "docker/metadata-action", "docker/build-push-action");
    if (target.sign === true) actions.push("sigstore/cosign-installer");
  }
  return actions;
}

function workflowsSection(d: Descriptor, target: GithubTarget): RunbookSection {
  const built = builtImageServices(d);
  const login = registryLoginOf(d);
  const branches = branchesOf(target);
  const rows = built.map((name) => {
    const build = d.services[name]?.build;
    return [name, pushedImageForPeople(d, name), dockerfilePath(name), build === undefined ? "." : buildContextOf(build), imageJobId(name)];
  });
  const sharers = Object.entries(d.services)
    .filter(([, s]) => s.imageOf !== undefined && built.includes(s.imageOf))
    .map(([name, s]) => `${markdownCode(name)} runs the image of ${markdownCode(s.imageOf ?? "")}`);
  const pins = usedActions(d, target).map((action) => [action, ACTION_PINS[action].version, ACTION_PINS[action].commit]);
  const permissions: string[] = [];
  if (built.length > 0 && login.githubToken) permissions.push("`packages: write` to push to GHCR");
  if (built.length > 0 && target.sign === true) permissions.push("`id-token: write` for keyless signing");
  return {
    id: "github-workflows",
    title: "GitHub workflows",
    order: 45,
    template: "github/workflows",
    context: {
      hasImages: built.length > 0,
      workflow: mainWorkflowPath(d),
      branches: codeList(branches),
      registryHost: login.host,
      imageTable: formatTable(["Service", "Image", "Dockerfile", "Context", "Job"], rows, { code: [0, 1, 2, 3, 4] }),
      sharers,
      hasSharers: sharers.length > 0,
      platforms: codeList(platformsOf(target)),
      hasForeign: foreignPlatforms(target).length > 0,
      sign: target.sign === true,
      verifyImage: built[0] === undefined ? "" : `${pushedImageForPeople(d, built[0])}:latest`,
      ownerFromRepository: login.ownerFromRepository,
      githubToken: login.githubToken,
      secretCommands: login.secrets.map((name) => `gh secret set ${name}`),
      usernameSecret: login.secrets[0] ?? "",
      passwordSecret: login.secrets[1] ?? "",
      loginAdvice: loginAdvice(login.host),
      permissions: permissions.join(" and "),
      hasRaisedPermissions: permissions.length > 0,
      pinTable: formatTable(["Action", "Release", "Commit"], pins, { code: [0, 2] }),
    },
  };
}

function driftSection(d: Descriptor): RunbookSection {
  return {
    id: "github-drift-check",
    title: "Pull request checks",
    order: 46,
    template: "github/drift",
    context: {
      workflow: DRIFT_WORKFLOW_PATH,
      version: VERSION,
      spec: packageSpec(VERSION),
      job: `create-deploy check (${d.name})`,
    },
  };
}

function deploySection(d: Descriptor): RunbookSection | undefined {
  const plan = planDeploy(d, undefined, builtImageServices(d).length > 0);
  if (plan === undefined) return undefined;
  const login = registryLoginOf(d);
  const path = quoteShell(plan.path);
  const target_ = `${plan.user}@${plan.address}`;
  return {
    id: "github-deploy",
    title: "Deploy from GitHub",
    order: 55,
    template: "github/deploy",
    context: {
      workflow: mainWorkflowPath(d),
      node: plan.node,
      address: plan.address,
      user: plan.user,
      path: plan.path,
      environment: plan.environment,
      swarm: plan.mode === "swarm",
      files: codeList(plan.files),
      commands: plan.commands,
      tagged: plan.tagged,
      hasRegistry: d.registry !== undefined,
      registryHost: login.host,
      secretsDir: `${plan.path.replace(/\/$/, "")}/${SECRETS_DIR}/`,
      sshPort: plan.sshPort,
      keySecret: SSH_KEY_SECRET,
      knownHostsSecret: KNOWN_HOSTS_SECRET,
      envQuoted: quoteShell(plan.environment),
      setupAccount: `sudo useradd --create-home --groups docker ${quoteShell(plan.user)}`,
      setupFolder: `sudo install -d -o ${quoteShell(plan.user)} -g ${quoteShell(plan.user)} ${path}`,
      authorize: `ssh-copy-id -i deploy_key.pub ${quoteShell(target_)}`,
      keyscan: `ssh-keyscan -p ${plan.sshPort} -t ed25519 ${quoteShell(plan.address)} > known_hosts`,
    },
  };
}

export function githubSections(d: Descriptor): RunbookSection[] {
  const target = d.targets?.github;
  if (target === undefined) return [];
  const sections: RunbookSection[] = [];
  if (builtImageServices(d).length > 0 || target.deploy !== undefined) sections.push(workflowsSection(d, target));
  if (target.driftCheck !== false) sections.push(driftSection(d));
  const deploy = deploySection(d);
  if (deploy !== undefined) sections.push(deploy);
  return sections;
}
