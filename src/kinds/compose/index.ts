// docker compose: one compose.yaml, or with `overlays: nodes` a base compose.yaml plus
// compose.<node>.yaml per node; the script that creates the secret files; and the
// runbook sections that deploy and operate them. Environment profiles are the env files:
// every plain variable is read from the one passed with --env-file.
import type { Descriptor } from "../../model/descriptor.js";
import {
  HOST_USER_KEYS,
  SECRETS_DIR,
  environmentNames,
  envFilePath,
  exposureOf,
  isDataStore,
  nodesOfService,
  secretFilePath,
  usesHostUser,
} from "../../model/derive.js";
import { joinPointer } from "../../problems.js";
import { markdownCode } from "../../render/escape.js";
import { formatTable } from "../../render/markdown.js";
import type { ArtifactKind, PlannedFile, RuleProblem, RunbookSection } from "../types.js";
import {
  buildBaseComposeFile,
  buildNodeOverlay,
  buildSingleComposeFile,
  nodesRunning,
  reachesOutside,
  resolveHostOf,
} from "./files.js";
import {
  DEFAULT_IMAGE_TAG,
  IMAGE_TAG_VARIABLE,
  hostReferences,
  isInterpolationSafeDefault,
  isPublished,
  servicesRunningIn,
  soleNodeOf,
  unprobeableHealthcheck,
  usedSecrets,
  usesBuiltImage,
} from "./model.js";
import { CREATE_SECRETS_PATH, secretsScriptFile } from "./secrets-script.js";

export const COMPOSE_FILE = "compose.yaml";

export function overlayPath(node: string): string {
  return `compose.${node}.yaml`;
}

/** Services compose runs: container services, minus those the swarm stack runs. */
export function composeServiceNames(d: Descriptor): string[] {
  return servicesRunningIn(d, "compose");
}

export function splitsByNode(d: Descriptor): boolean {
  return d.targets?.compose?.overlays === "nodes" && Object.keys(d.nodes ?? {}).length > 0;
}

function sharedNetworkOf(d: Descriptor): string | undefined {
  return d.targets?.swarm?.network;
}

/** Problems common to every compose file, whoever writes it (this kind or the swarm kind's side files). */
export function checkComposeServices(d: Descriptor, names: readonly string[], splitByNode: boolean): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const inFile = new Set(names);
  for (const name of names) {
    const service = d.services[name];
    if (!service) continue;
    for (const [key, value] of Object.entries(service.environment ?? {})) {
      if (
        typeof value === "object" &&
        "fromHost" in value &&
        value.default !== undefined &&
        !isInterpolationSafeDefault(value.default)
      ) {
        problems.push({
          pointer: joinPointer(["services", name, "environment", key, "default"]),
          message: "is written inside ${…:-default}, where $ and } cannot be escaped",
          hint: "choose a default without $ or }, or leave default out and export the variable",
        });
      }
    }
    const probe = unprobeableHealthcheck(d, name);
    if (probe !== undefined) {
      problems.push({
        pointer: joinPointer(["services", name, "healthcheck", probe]),
        message: `an image create-deploy does not build may have no curl, wget or interpreter to run a ${probe.toUpperCase()} probe with`,
        hint: "write the probe as healthcheck.command with a tool the image has, e.g. [pg_isready] or [wget, -q, --spider, URL]",
      });
    }
    const nodes = nodesOfService(d, service);
    (service.ports ?? []).forEach((port, index) => {
      if (!isPublished(port)) return;
      if (port.address !== undefined && splitByNode && nodes.length > 1) {
        problems.push({
          pointer: joinPointer(["services", name, "ports", index, "address"]),
          message: `is the address of one host, but ${name} runs on the nodes ${nodes.join(", ")}`,
          hint: "leave address out: each node's overlay binds the port to that node's address",
        });
      }
      if (
        exposureOf(port) === "cluster" &&
        port.address === undefined &&
        !splitByNode &&
        soleNodeOf(d, name) === undefined
      ) {
        problems.push({
          pointer: joinPointer(["services", name, "ports", index, "exposure"]),
          message:
            "a cluster port is bound to the address of the node running the service, and there is no single such node",
          hint:
            nodes.length > 1
              ? "use targets.compose.overlays: nodes, pin the service to one node, or set the port's address"
              : "set the port's address to this host's address on the cluster network, or declare nodes",
        });
      }
    });
    for (const ref of hostReferences(service)) {
      const at = joinPointer(["services", name, "environment", ref.key, "hostOf"]);
      const target = d.services[ref.target];
      if (!target) continue;
      const placements = splitByNode ? nodes : [undefined];
      const outside = placements.some((node) => reachesOutside(d, inFile, node, ref.target));
      if (!outside) continue;
      if (resolveHostOf(d, inFile, undefined)(ref.target) === ref.target && nodesOfService(d, target).length === 0) {
        problems.push({
          pointer: at,
          message: `${ref.target} runs outside compose and no node address is known for it`,
          hint: "declare nodes with addresses and roles",
        });
      } else if (!(target.ports ?? []).some((p) => ["cluster", "public"].includes(exposureOf(p)))) {
        problems.push({
          pointer: at,
          message: `${ref.target} runs on another node, but publishes no port with exposure cluster or public, so ${name} cannot reach it`,
          hint: `set exposure: cluster on the port of ${ref.target} that ${name} connects to`,
        });
      }
    }
  }
  return problems;
}

function checkCompose(d: Descriptor): RuleProblem[] {
  return checkComposeServices(d, composeServiceNames(d), splitsByNode(d));
}

function planCompose(d: Descriptor): PlannedFile[] {
  const names = composeServiceNames(d);
  if (names.length === 0) return [];
  const options = { project: d.name, values: { kind: "env-file" } as const, ...optionalShared(d) };
  const env = envFilePath(d, environmentNames(d)[0] ?? "default");
  const files: PlannedFile[] = [];
  if (!splitsByNode(d)) {
    files.push({
      path: COMPOSE_FILE,
      kind: "compose",
      purpose: "docker compose file of every container service",
      document: buildSingleComposeFile(d, names, options),
      comments: [`Deploy: docker compose --env-file ${env} up -d (see DEPLOY.md for the other environments).`],
    });
  } else {
    files.push({
      path: COMPOSE_FILE,
      kind: "compose",
      purpose: "Base compose file: every container service, nothing node-specific",
      document: buildBaseComposeFile(d, names, options),
      comments: [
        "Base file: what every node shares. Deploy a node with its overlay:",
        `docker compose -f ${COMPOSE_FILE} -f compose.<node>.yaml --env-file ${env} up -d <its services> (see DEPLOY.md).`,
      ],
    });
    for (const node of nodesRunning(d, names)) {
      const overlay = buildNodeOverlay(d, names, node, options);
      files.push({
        path: overlayPath(node),
        kind: "compose",
        purpose: `Overlay of node ${node}: its published ports and the addresses of services on other nodes`,
        document: overlay.document,
        comments: [
          `Overlay of node ${node} (${d.nodes?.[node]?.address ?? ""}), which runs: ${overlay.services.join(", ")}.`,
          `docker compose -f ${COMPOSE_FILE} -f ${overlayPath(node)} --env-file ${env} up -d ${overlay.services.join(" ")}`,
        ],
      });
    }
  }
  if (d.targets?.swarm === undefined && usedSecrets(d, names).length > 0) {
    files.push(secretsScriptFile(d, { swarm: [], files: usedSecrets(d, names) }));
  }
  return files;
}

function optionalShared(d: Descriptor): { sharedNetwork?: string } {
  const shared = sharedNetworkOf(d);
  return shared === undefined ? {} : { sharedNetwork: shared };
}

interface CommandSet {
  node: string;
  heading: string;
  prefix: string;
  services: string[];
  secrets: string[];
  folders: string[];
}

function hostFolders(d: Descriptor, names: readonly string[]): string[] {
  const folders: string[] = [];
  for (const name of names) {
    for (const mount of d.services[name]?.mounts ?? []) {
      if (mount.hostPath !== undefined && !folders.includes(mount.hostPath)) folders.push(mount.hostPath);
    }
  }
  return folders;
}

function commandSets(d: Descriptor, names: string[], env: string): CommandSet[] {
  if (!splitsByNode(d)) {
    return [
      {
        node: "",
        heading: "",
        prefix: `docker compose --env-file ${env}`,
        services: [],
        secrets: usedSecrets(d, names),
        folders: hostFolders(d, names),
      },
    ];
  }
  return nodesRunning(d, names).map((node) => {
    const services = names.filter((name) => nodesOfService(d, d.services[name] ?? {}).includes(node));
    return {
      node,
      heading: `Node ${node} (${d.nodes?.[node]?.address ?? ""})`,
      prefix: `docker compose -f ${COMPOSE_FILE} -f ${overlayPath(node)} --env-file ${env}`,
      services,
      secrets: usedSecrets(d, services),
      folders: hostFolders(d, services),
    };
  });
}

function composeRunbook(d: Descriptor): RunbookSection[] {
  const names = composeServiceNames(d);
  if (names.length === 0) return [];
  const envs = environmentNames(d);
  const env = envFilePath(d, envs[0] ?? "default");
  const split = splitsByNode(d);
  const sets = commandSets(d, names, env);
  const overlayDocs = split
    ? sets.map((set) =>
        buildNodeOverlay(d, names, set.node, { project: d.name, values: { kind: "env-file" }, ...optionalShared(d) }),
      )
    : [];
  const usesTags = overlayDocs.some((o) =>
    Object.values(o.document["services"] as Record<string, Record<string, unknown>>).some((s) => "depends_on" in s),
  );
  const gpu = names.filter((name) => d.services[name]?.gpu !== undefined);
  const publicStores = names.filter((name) => {
    const service = d.services[name];
    return (
      service !== undefined && isDataStore(service) && (service.ports ?? []).some((p) => exposureOf(p) === "public")
    );
  });
  const built = names.filter((name) => usesBuiltImage(d.services[name] ?? {}));
  const nodeRows = sets.map((set) => [
    set.node,
    d.nodes?.[set.node]?.address ?? "",
    overlayPath(set.node),
    set.services.join(", "),
  ]);
  const deploy: RunbookSection = {
    id: "compose-deploy",
    title: "Deploy with docker compose",
    order: 50,
    template: "compose/deploy",
    context: {
      split,
      nodeTable: formatTable(["Node", "Address", "Overlay", "Services"], nodeRows, { code: [0, 2] }),
      hasFirewall: d.targets?.firewall !== undefined,
      usesTags,
      hasSecrets: sets.some((set) => set.secrets.length > 0),
      secretsDir: SECRETS_DIR,
      sharedNetwork: sharedNetworkOf(d) ?? "",
      hasSharedNetwork: sharedNetworkOf(d) !== undefined,
      env,
      otherEnvs: envs.slice(1).map((e) => envFilePath(d, e)),
      hasOtherEnvs: envs.length > 1,
      hostUser: usesHostUser(d),
      hostUid: HOST_USER_KEYS.uid,
      hostGid: HOST_USER_KEYS.gid,
      hasBuilt: built.length > 0,
      imageTag: IMAGE_TAG_VARIABLE,
      defaultTag: DEFAULT_IMAGE_TAG,
      gpu: gpu.join(", "),
      hasGpu: gpu.length > 0,
      publicStores: publicStores.join(", "),
      hasPublicStores: publicStores.length > 0,
      sets: sets.map((set) => ({
        ...set,
        hasHeading: set.heading !== "",
        up: `${set.prefix} up -d${set.services.length > 0 ? ` ${set.services.join(" ")}` : ""}`,
        pull: `${set.prefix} pull${set.services.length > 0 ? ` ${set.services.join(" ")}` : ""}`,
        config: `${set.prefix} config --quiet`,
        secretList: set.secrets.map((s) => markdownCode(secretFilePath(s))).join(", "),
        folderList: set.folders.map(markdownCode).join(", "),
        hasSecrets: set.secrets.length > 0,
        hasFolders: set.folders.length > 0,
      })),
    },
  };
  const first = sets[0];
  const operate: RunbookSection = {
    id: "compose-operate",
    title: "Operate the compose services",
    order: 70,
    template: "compose/operate",
    context: {
      split,
      prefix: first?.prefix ?? "docker compose",
      example: first?.services[0] ?? names[0] ?? "SERVICE",
    },
  };
  return [deploy, operate];
}

export const composeKind: ArtifactKind = {
  name: "compose",
  enabled: (d) => d.targets?.compose !== undefined,
  check: checkCompose,
  plan: planCompose,
  runbook: composeRunbook,
};

export { CREATE_SECRETS_PATH };
