// docker swarm: the stack file (one per environment when there are several), a plain
// compose file beside it for each service that cannot run in swarm, the script that
// creates the swarm secrets, a preflight check of each node, and the runbook sections.
import type { Descriptor } from "../../model/descriptor.js";
import { environmentNames, envFilePath, exposureOf, isDataStore, nodesOfService } from "../../model/derive.js";
import { joinPointer } from "../../problems.js";
import { markdownCode, quoteShell } from "../../render/escape.js";
import { formatTable } from "../../render/markdown.js";
import { checkComposeServices } from "../compose/index.js";
import { buildSingleComposeFile } from "../compose/files.js";
import {
  DEFAULT_IMAGE_TAG,
  IMAGE_TAG_VARIABLE,
  networkName,
  servicesRunningIn,
  soleNodeOf,
  usedSecrets,
  usesBuiltImage,
} from "../compose/model.js";
import { CREATE_SECRETS_PATH, secretsScriptFile } from "../compose/secrets-script.js";
import type { ArtifactKind, PlannedFile, RuleProblem, RunbookSection } from "../types.js";
import {
  buildStack,
  isConfigMount,
  placementOf,
  roleLabels,
  stackNameOf,
  stackServiceNames,
  swarmNetworkOf,
} from "./stack.js";

export const PREFLIGHT_PATH = "preflight.sh";
const DEFAULT_DATA_PATH_PORT = 4789;

export function stackPath(d: Descriptor, environment: string): string {
  return environmentNames(d).length > 1 ? `stack.${environment}.yaml` : "stack.yaml";
}

/** Services the swarm kind writes plain compose files for: those outside swarm, unless the compose target covers them. */
export function standaloneServiceNames(d: Descriptor): string[] {
  return d.targets?.compose !== undefined ? [] : servicesRunningIn(d, "compose");
}

export function standalonePath(name: string): string {
  return `compose.${name}.yaml`;
}

function checkSwarm(d: Descriptor): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const names = stackServiceNames(d);
  for (const name of names) {
    const service = d.services[name];
    if (!service) continue;
    const at = (...rest: Array<string | number>): string => joinPointer(["services", name, ...rest]);
    if (service.user === "host") {
      problems.push({
        pointer: at("user"),
        message: "a swarm task runs on any node, so there is no one host user to run it as",
        hint: 'give numeric ids, e.g. "10001:10001"',
      });
    }
    if (service.privileged === true) {
      problems.push({
        pointer: at("privileged"),
        message: "swarm services cannot run privileged",
        hint: "use capAdd for the capabilities it needs, or swarm: false",
      });
    }
    (service.ports ?? []).forEach((port, index) => {
      if (exposureOf(port) === "local") {
        problems.push({
          pointer: at("ports", index, "exposure"),
          message: "swarm publishes ports on every node's addresses and cannot bind one to 127.0.0.1",
          hint: "use exposure internal (reachable on the overlay network) or cluster (the firewall limits it)",
        });
      } else if (port.address !== undefined && exposureOf(port) !== "internal") {
        problems.push({
          pointer: at("ports", index, "address"),
          message: "swarm's routing mesh publishes a port on every node; it cannot bind it to one address",
          hint: "leave address out and let the firewall limit who reaches the port",
        });
      }
    });
    (service.mounts ?? []).forEach((mount, index) => {
      if (mount.hostPath !== undefined && !mount.hostPath.startsWith("/") && !isConfigMount(mount)) {
        problems.push({
          pointer: at("mounts", index, "hostPath"),
          message:
            "a relative path is resolved on the machine running docker stack deploy, not on the node running the task",
          hint: "use an absolute path that exists on the node, or mount it readOnly so it travels as a swarm config",
        });
      }
    });
    const placement = placementOf(d, name);
    if ("unplaceable" in placement) {
      problems.push(
        placement.unplaceable === "hostname"
          ? {
              pointer: joinPointer(["nodes", placement.node, "hostname"]),
              message: `is needed: swarm places ${name} by node hostnames`,
              hint: "set hostname to the node's hostname (`hostname` on that machine)",
            }
          : {
              pointer: at("roles"),
              message: `swarm cannot express where ${name} runs`,
              hint: "give it one role, or list its nodes under placement.nodes",
            },
      );
    }
  }
  problems.push(...checkComposeServices(d, names, false).filter((p) => !p.pointer.includes("/ports/")));
  const standalone = standaloneServiceNames(d);
  problems.push(...checkComposeServices(d, standalone, false));
  const shared = d.targets?.swarm?.network;
  const network = shared === undefined ? undefined : d.networks?.[shared];
  if (
    shared !== undefined &&
    network !== undefined &&
    servicesRunningIn(d, "compose").length > 0 &&
    network.attachable !== true &&
    network.external !== true
  ) {
    const outside = servicesRunningIn(d, "compose").join(", ");
    problems.push({
      pointer: joinPointer(["networks", shared, "attachable"]),
      message: `must be true: ${outside} run outside the stack and join this network`,
      hint: "set attachable: true",
    });
  }
  return problems;
}

interface FolderCheck {
  path: string;
  /** The path as one shell word. */
  word: string;
  services: string;
  owner: string;
}

/**
 * One shell word. A value holding `$` or a backquote is double-quoted with those escaped:
 * single quotes would be as inert, but shellcheck flags them as a likely mistake.
 */
export function shellWord(value: string): string {
  if (!/[$`]/.test(value)) return quoteShell(value);
  return `"${value.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
}

function foldersOf(d: Descriptor, names: readonly string[], node: string | undefined): FolderCheck[] {
  const folders: FolderCheck[] = [];
  for (const name of names) {
    const service = d.services[name];
    if (!service) continue;
    const nodes = nodesOfService(d, service);
    if (node !== undefined && !nodes.includes(node)) continue;
    const uid = /^([0-9]+)(?::[0-9]+)?$/.exec(service.user ?? "")?.[1];
    for (const mount of service.mounts ?? []) {
      if (mount.hostPath === undefined || !mount.hostPath.startsWith("/")) continue;
      const existing = folders.find((f) => f.path === mount.hostPath);
      if (existing) existing.services += `, ${name}`;
      else
        folders.push({
          path: mount.hostPath,
          word: shellWord(mount.hostPath),
          services: name,
          owner: mount.readOnly !== true && uid !== undefined ? uid : "",
        });
    }
  }
  return folders;
}

function preflightFile(d: Descriptor): PlannedFile {
  const swarmNames = stackServiceNames(d);
  const everything = [...swarmNames, ...servicesRunningIn(d, "compose")];
  const shared = swarmNetworkOf(d);
  const network = d.networks?.[shared];
  const needsAttachable = servicesRunningIn(d, "compose").length > 0 || network?.attachable === true;
  return {
    path: PREFLIGHT_PATH,
    kind: "shell",
    executable: true,
    purpose: "Checks a node before deploying: host folders, swarm membership, overlay network, secrets, labels",
    template: "swarm/preflight",
    context: {
      stack: stackNameOf(d),
      nodes: Object.entries(d.nodes ?? {}).map(([name, node]) => ({
        name,
        // Quoted even when plain: shellcheck reads node=web-1 as arithmetic gone wrong.
        assignment: `'${name}'`,
        hostname: node.hostname ?? "",
        hasHostname: node.hostname !== undefined,
        folders: foldersOf(d, everything, name),
      })),
      hasNodes: Object.keys(d.nodes ?? {}).length > 0,
      nodeNames: Object.keys(d.nodes ?? {}).join(", "),
      allFolders: foldersOf(d, everything, undefined),
      network: networkName(d, shared),
      networkExternal: network?.external === true,
      expectedNetwork: needsAttachable ? "overlay true" : "overlay",
      needsAttachable,
      createNetwork: `docker network create --driver overlay${needsAttachable || network?.attachable === true ? " --attachable" : ""}${network?.encrypted === true ? " --opt encrypted" : ""} ${networkName(d, shared)}`,
      secrets: usedSecrets(d, swarmNames),
      labels: roleLabels(d, swarmNames),
      hasLabels: roleLabels(d, swarmNames).length > 0,
      stateFormat: "{{.Swarm.LocalNodeState}}",
      managerFormat: "{{.Swarm.ControlAvailable}}",
      networkFormat: needsAttachable ? "{{.Driver}} {{.Attachable}}" : "{{.Driver}}",
    },
  };
}

function planSwarm(d: Descriptor): PlannedFile[] {
  const names = stackServiceNames(d);
  const files: PlannedFile[] = [];
  const stack = stackNameOf(d);
  const envs = environmentNames(d);
  for (const env of envs) {
    const path = stackPath(d, env);
    files.push({
      path,
      kind: "swarm-stack",
      purpose: `Swarm stack of the ${env} environment: services, placement, update and rollback, secrets`,
      document: buildStack(d, env),
      comments: [
        `Swarm stack ${stack}, environment ${env} (values written in; secrets are external, see create-secrets.sh).`,
        `Deploy on a manager: docker stack deploy --with-registry-auth -c ${path} ${stack}`,
      ],
    });
  }
  const standalone = standaloneServiceNames(d);
  const env = envFilePath(d, envs[0] ?? "default");
  for (const name of standalone) {
    files.push({
      path: standalonePath(name),
      kind: "compose",
      purpose: `${name} as a plain compose container beside the stack (it cannot run in swarm), on the overlay network`,
      document: buildSingleComposeFile(d, [name], {
        project: `${d.name}-${name}`,
        values: { kind: "env-file" },
        sharedNetwork: swarmNetworkOf(d),
      }),
      comments: [
        `${name} runs outside the swarm (swarm: false) and joins the stack's overlay network.`,
        `Deploy after the stack: docker compose -f ${standalonePath(name)} --env-file ${env} up -d`,
      ],
    });
  }
  const secrets = usedSecrets(d, names);
  // Containers outside the swarm read files, whichever kind writes their compose file.
  const fileSecrets = usedSecrets(d, servicesRunningIn(d, "compose"));
  if (secrets.length > 0 || fileSecrets.length > 0)
    files.push(secretsScriptFile(d, { swarm: secrets, files: fileSecrets }));
  files.push(preflightFile(d));
  return files;
}

function swarmRunbook(d: Descriptor): RunbookSection[] {
  const names = stackServiceNames(d);
  const stack = stackNameOf(d);
  const envs = environmentNames(d);
  const shared = swarmNetworkOf(d);
  const network = d.networks?.[shared];
  const nodes = Object.entries(d.nodes ?? {});
  const managers = nodes.filter(([, n]) => n.manager === true);
  const first = managers[0];
  const dataPathPort = d.targets?.swarm?.dataPathPort ?? DEFAULT_DATA_PATH_PORT;
  const others = nodes.filter(([name]) => name !== first?.[0]);
  const standalone = standaloneServiceNames(d);
  const envFile = envFilePath(d, envs[0] ?? "default");
  const labels = roleLabels(d, names);
  const rows = names.map((name) => {
    const service = d.services[name];
    const placement = placementOf(d, name);
    return [
      name,
      String(service?.replicas ?? 1),
      "constraints" in placement && placement.constraints.length > 0 ? placement.constraints.join(", ") : "any node",
    ];
  });
  const publicStores = names.filter((name) => {
    const service = d.services[name];
    return (
      service !== undefined && isDataStore(service) && (service.ports ?? []).some((p) => exposureOf(p) === "public")
    );
  });
  const deploy: RunbookSection = {
    id: "swarm-deploy",
    title: "Deploy the swarm stack",
    order: 50,
    template: "swarm/deploy",
    context: {
      stack,
      network: networkName(d, shared),
      encrypted: network?.encrypted === true,
      external: network?.external === true,
      createNetwork: `docker network create --driver overlay${network?.attachable === true ? " --attachable" : ""}${network?.encrypted === true ? " --opt encrypted" : ""} ${networkName(d, shared)}`,
      table: formatTable(["Service", "Replicas", "Placement"], rows, { code: [0, 2] }),
      hasNodes: nodes.length > 0,
      firstManager: first?.[0] ?? "",
      managerAddress: first?.[1].address ?? "",
      dataPathPort,
      customDataPath: dataPathPort !== DEFAULT_DATA_PATH_PORT,
      joins: others.map(([name, node]) => ({
        name,
        address: node.address,
        role: node.manager === true ? "manager" : "worker",
      })),
      hasJoins: others.length > 0,
      hasFirewall: d.targets?.firewall !== undefined,
      hasLabels: labels.length > 0,
      labelCommands: labels.flatMap((label) =>
        label.nodes.map(
          (node) => `docker node update --label-add role.${label.role}=true ${d.nodes?.[node]?.hostname ?? node}`,
        ),
      ),
      preflight: PREFLIGHT_PATH,
      nodeList: nodes.map(([name]) => markdownCode(name)).join(", "),
      hasSecrets: usedSecrets(d, names).length > 0 || usedSecrets(d, servicesRunningIn(d, "compose")).length > 0,
      secretsScript: CREATE_SECRETS_PATH,
      hasFileSecrets: usedSecrets(d, servicesRunningIn(d, "compose")).length > 0,
      deployCommands: envs.map(
        (env) => `docker stack deploy --with-registry-auth --detach=false -c ${stackPath(d, env)} ${stack}`,
      ),
      multipleEnvs: envs.length > 1,
      hasBuilt: names.some((name) => usesBuiltImage(d.services[name] ?? {})),
      imageTag: IMAGE_TAG_VARIABLE,
      defaultTag: DEFAULT_IMAGE_TAG,
      standalone: standalone.map((name) => {
        const node = soleNodeOf(d, name);
        return {
          name,
          file: standalonePath(name),
          where:
            node === undefined
              ? "on the host that runs it"
              : `on ${markdownCode(node)} (${d.nodes?.[node]?.address ?? ""})`,
          command: `docker compose -f ${standalonePath(name)} --env-file ${envFile} up -d`,
        };
      }),
      hasStandalone: standalone.length > 0,
      publicStores: publicStores.join(", "),
      hasPublicStores: publicStores.length > 0,
    },
  };
  const example = names[0] ?? "SERVICE";
  const operate: RunbookSection = {
    id: "swarm-operate",
    title: "Operate the swarm stack",
    order: 70,
    template: "swarm/operate",
    context: {
      stack,
      service: `${stack}_${example}`,
      hasStandalone: standalone.length > 0,
      standaloneFile: standalone[0] === undefined ? "" : standalonePath(standalone[0]),
      envFile,
    },
  };
  return [deploy, operate];
}

export const swarmKind: ArtifactKind = {
  name: "swarm",
  enabled: (d) => d.targets?.swarm !== undefined,
  check: checkSwarm,
  plan: planSwarm,
  runbook: swarmRunbook,
};
