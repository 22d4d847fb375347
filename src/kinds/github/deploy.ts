// The optional deploy job: after the images are pushed from the default branch, copy the
// generated files to one node over SSH and apply them there (docker compose, or docker
// stack deploy on a swarm manager). SSH trusts only the host key stored in a secret, and
// the job runs in a GitHub environment, so its required reviewers approve every deploy.
import type { Descriptor, GithubTarget } from "../../model/descriptor.js";
import { environmentNames, envFilePath, nodesOfService } from "../../model/derive.js";
import { quoteShell } from "../../render/escape.js";
import { COMPOSE_FILE, composeServiceNames, overlayPath, splitsByNode } from "../compose/index.js";
import { IMAGE_TAG_VARIABLE } from "../compose/model.js";
import type { PlannedFile } from "../types.js";
import { RUNNER, type Step, checkoutStep, expr, runStep } from "./steps.js";

export type DeployTarget = NonNullable<GithubTarget["deploy"]>;

export const DEFAULT_DEPLOY_ENVIRONMENT = "production";
export const SSH_KEY_SECRET = "DEPLOY_SSH_KEY";
export const KNOWN_HOSTS_SECRET = "DEPLOY_KNOWN_HOSTS";
/** The name the job's ssh config gives the node. */
const SSH_HOST_ALIAS = "deploy-target";
const DEFAULT_SSH_PORT = 22;

/** Deploy only from the repository's default branch, never from a tag or another branch. */
export const DEPLOY_CONDITION = "github.event_name == 'push' && github.ref == format('refs/heads/{0}', github.event.repository.default_branch)";

export interface DeployPlan {
  mode: "compose" | "swarm";
  node: string;
  address: string;
  user: string;
  path: string;
  sshPort: number;
  environment: string;
  /** Files copied to the node, relative to the output folder (and to `path` there). */
  files: string[];
  /** Commands run in `path` on the node, in order. */
  commands: string[];
  /** Services started on the node (empty: every service of the files). */
  services: string[];
  /** Compose files this job does not apply (a swarm's side files). */
  leftOut: string[];
  /** Built images are pulled by the tag of the pushed commit. */
  tagged: boolean;
}

function stackNameOf(d: Descriptor): string {
  return d.targets?.swarm?.stackName ?? d.name;
}

/** Compose services the deploy job starts on its node: all of them, or with node overlays those placed there. */
export function composeServicesOnNode(d: Descriptor, node: string): string[] {
  const names = composeServiceNames(d);
  if (!splitsByNode(d)) return names;
  return names.filter((name) => nodesOfService(d, d.services[name] ?? {}).includes(node));
}

/**
 * What the job copies and runs. Undefined when the descriptor asks for no deploy job (the
 * kind's check reports why one cannot be planned). A swarm's stack files come from what the
 * other kinds planned; without that list (DEPLOY.md is planned before it exists) they are
 * named in general words.
 */
export function planDeploy(d: Descriptor, files: readonly PlannedFile[] | undefined, tagged: boolean): DeployPlan | undefined {
  const deploy = d.targets?.github?.deploy;
  const node = deploy === undefined ? undefined : d.nodes?.[deploy.node];
  if (deploy === undefined || node === undefined) return undefined;
  const envFile = envFilePath(d, deploy.environmentFile ?? environmentNames(d)[0] ?? "default");
  const base = {
    node: deploy.node,
    address: node.address,
    user: deploy.user,
    path: deploy.path,
    sshPort: d.targets?.firewall?.sshPort ?? DEFAULT_SSH_PORT,
    environment: deploy.environment ?? DEFAULT_DEPLOY_ENVIRONMENT,
    tagged,
  };
  if (d.targets?.swarm !== undefined) {
    const planned = (kind: PlannedFile["kind"]): string[] => (files ?? []).filter((f) => f.kind === kind).map((f) => f.path);
    const stacks = planned("swarm-stack");
    return {
      ...base,
      mode: "swarm",
      files: stacks,
      commands: stacks.map((stack) => `docker stack deploy --with-registry-auth -c ${quoteShell(stack)} ${quoteShell(stackNameOf(d))}`),
      services: [],
      leftOut: planned("compose"),
    };
  }
  const split = splitsByNode(d);
  const services = split ? composeServicesOnNode(d, deploy.node) : [];
  const used = split ? [COMPOSE_FILE, overlayPath(deploy.node)] : [COMPOSE_FILE];
  const compose = ["docker compose", ...used.map((f) => `-f ${quoteShell(f)}`), `--env-file ${quoteShell(envFile)}`].join(" ");
  const names = services.map(quoteShell).join(" ");
  const withNames = (command: string): string => (names === "" ? command : `${command} ${names}`);
  return {
    ...base,
    mode: "compose",
    files: [...used, envFile],
    commands: [withNames(`${compose} pull`), withNames(`${compose} up -d --remove-orphans`)],
    services,
    leftOut: [],
  };
}

function sshSetupScript(plan: DeployPlan): string[] {
  return [
    "install -d -m 700 ~/.ssh",
    "(",
    "  umask 077",
    `  printf '%s\\n' "$SSH_KEY" > ~/.ssh/deploy_key`,
    // Only this key is trusted for the host: no first-use prompt, no other key accepted.
    `  printf '%s\\n' "$KNOWN_HOSTS" > ~/.ssh/known_hosts`,
    "  cat > ~/.ssh/config <<EOF",
    `Host ${SSH_HOST_ALIAS}`,
    "  HostName $DEPLOY_HOST",
    `  Port ${plan.sshPort}`,
    "  User $DEPLOY_USER",
    "  IdentityFile ~/.ssh/deploy_key",
    "  IdentitiesOnly yes",
    "  UserKnownHostsFile ~/.ssh/known_hosts",
    "  StrictHostKeyChecking yes",
    "  BatchMode yes",
    "EOF",
    ")",
  ];
}

/**
 * The remote command as one double-quoted word of the local script: the node's shell reads
 * the single-quoted words inside, and the local shell expands nothing in them. Double
 * quotes outside keep single quotes inside readable, with no `'\''`. `expanded` goes first,
 * as written: the local shell expands it (the image tag).
 */
function remoteWord(command: string, expanded = ""): string {
  return `"${expanded}${command.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
}

function copyScript(plan: DeployPlan): string {
  const remote = `mkdir -p -- ${quoteShell(plan.path)} && tar -xf - -C ${quoteShell(plan.path)}`;
  return `tar -cf - ${plan.files.map(quoteShell).join(" ")} | ssh ${SSH_HOST_ALIAS} ${remoteWord(remote)}\n`;
}

function applyScript(plan: DeployPlan): string[] {
  const remote = `cd -- ${quoteShell(plan.path)} && ${plan.commands.join(" && ")}`;
  if (!plan.tagged) return [`ssh ${SSH_HOST_ALIAS} ${remoteWord(remote)}`];
  return [
    // The images this run pushed carry the tag sha-<first 7 characters of the commit> (metadata-action's type=sha).
    'tag="sha-${GITHUB_SHA::7}"',
    "# $tag expands here on purpose, before ssh sends the command.",
    "# shellcheck disable=SC2029",
    `ssh ${SSH_HOST_ALIAS} ${remoteWord(remote, `export ${IMAGE_TAG_VARIABLE}=$tag && `)}`,
  ];
}

export function deployJob(plan: DeployPlan, needs: string[]): Record<string, unknown> {
  const steps: Step[] = [
    checkoutStep(),
    runStep("Trust only the pinned host key", sshSetupScript(plan), {
      env: { SSH_KEY: expr(`secrets.${SSH_KEY_SECRET}`), KNOWN_HOSTS: expr(`secrets.${KNOWN_HOSTS_SECRET}`) },
    }),
    runStep(`Copy the deployment files to ${plan.node}`, copyScript(plan)),
    runStep(plan.mode === "swarm" ? "Deploy the stack" : "Pull the images and start the services", applyScript(plan)),
  ];
  return {
    name: `Deploy to ${plan.node}`,
    ...(needs.length === 0 ? {} : { needs }),
    if: DEPLOY_CONDITION,
    "runs-on": RUNNER,
    "timeout-minutes": 15,
    environment: plan.environment,
    // One deploy at a time per environment; a newer push waits instead of cancelling one half done.
    concurrency: { group: `deploy-${plan.environment}`, "cancel-in-progress": false },
    env: { DEPLOY_HOST: plan.address, DEPLOY_USER: plan.user },
    steps,
  };
}
