// The review summary of a descriptor change (`create-deploy diff --summary`): what the
// change does to the deployment, in plain words, for a pull request's reviewer. First
// what must not be missed (a port opened to the world, a service running as root or
// privileged, a secret added or removed, a firewall rule opened, an image left to float),
// then every other change, then the generated files. Pure: descriptors and file changes in,
// Markdown out.
import { baseImageOf, splitImageReference } from "./kinds/docker/image.js";
import { describeSources, describeTarget, planFirewall, type FirewallPlan } from "./kinds/firewall/plan.js";
import type { FileKind } from "./kinds/types.js";
import type { Descriptor, Exposure, Port, Service } from "./model/descriptor.js";
import { exposureOf, isDataStore, platformOf, serviceSecretNames } from "./model/derive.js";
import { markdownCode } from "./render/escape.js";
import { formatTable } from "./render/markdown.js";

export type FileChangeKind = "create" | "update" | "remove";

export interface FileChange {
  path: string;
  kind: FileKind;
  change: FileChangeKind;
}

/** What changed, in sentences (Markdown), split by whether a reviewer must look twice. */
export interface DeploymentChanges {
  attention: string[];
  other: string[];
}

const code = markdownCode;

function list(values: readonly string[]): string {
  const quoted = values.map(code);
  return quoted.length <= 1 ? quoted.join("") : `${quoted.slice(0, -1).join(", ")} and ${quoted[quoted.length - 1] ?? ""}`;
}

function keysAdded<T>(before: Record<string, T> | undefined, after: Record<string, T> | undefined): string[] {
  return Object.keys(after ?? {}).filter((key) => !Object.hasOwn(before ?? {}, key));
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Keys whose values differ between two objects, in the order they first appear. */
function changedFields(before: object, after: object): string[] {
  const a = before as Record<string, unknown>;
  const b = after as Record<string, unknown>;
  return Object.keys({ ...a, ...b }).filter((key) => !same(a[key], b[key]));
}

// ---- ports -------------------------------------------------------------------------

const EXPOSURE_RANK: Record<Exposure, number> = { internal: 0, local: 1, cluster: 2, public: 3 };

const EXPOSURE_WORDS: Record<Exposure, string> = {
  internal: "reachable from the other services only",
  local: "published on this host's loopback only",
  cluster: "reachable from the cluster network",
  public: "reachable from anywhere",
};

function portKey(port: Port): string {
  return `${port.port}/${port.protocol ?? "tcp"}`;
}

function publishedNote(port: Port): string {
  return port.published !== undefined && port.published !== port.port ? `, published as ${port.published}` : "";
}

function comparePorts(name: string, before: Service | undefined, after: Service, changes: DeploymentChanges): void {
  const old = new Map((before?.ports ?? []).map((p) => [portKey(p), p]));
  const now = new Map((after.ports ?? []).map((p) => [portKey(p), p]));
  for (const [key, port] of now) {
    const exposure = exposureOf(port);
    const previous = old.get(key);
    const was = previous === undefined ? undefined : exposureOf(previous);
    const wider = was === undefined ? EXPOSURE_RANK[exposure] > 0 : EXPOSURE_RANK[exposure] > EXPOSURE_RANK[was];
    const subject = `${code(name)} port ${code(key)}`;
    if (exposure === "public" && wider) {
      const origin = was === undefined ? (before === undefined ? "new service" : "new port") : `was ${was}`;
      changes.attention.push(`**${subject} is public** (${origin}${publishedNote(port)}): anyone who can reach the host can connect.`);
    } else if (exposure === "cluster" && wider && isDataStore(after)) {
      const origin = was === undefined ? "new" : `was ${was}`;
      changes.attention.push(`**${subject} of a ${after.type ?? "data store"} is reachable from the cluster network** (${origin}).`);
    } else if (was === undefined) {
      changes.other.push(`${subject} added, ${EXPOSURE_WORDS[exposure]}.`);
    } else if (was !== exposure) {
      changes.other.push(`${subject} is now ${exposure} (was ${was}): ${EXPOSURE_WORDS[exposure]}.`);
    } else if (!same(previous, port)) {
      changes.other.push(`${subject} changed (${describePortChange(previous, port)}).`);
    }
    if (port.allowPublic === true && previous?.allowPublic !== true && isDataStore(after)) {
      changes.attention.push(`**${subject}: \`allowPublic\` now lets a ${after.type ?? "data store"} port be public.**`);
    }
  }
  for (const key of old.keys()) if (!now.has(key)) changes.other.push(`${code(name)} port ${code(key)} removed.`);
}

function describePortChange(before: Port | undefined, after: Port): string {
  const parts: string[] = [];
  if (before?.published !== after.published) parts.push(`published ${before?.published ?? "same"} → ${after.published ?? "same"}`);
  if (before?.address !== after.address) parts.push(`address ${before?.address ?? "default"} → ${after.address ?? "default"}`);
  return parts.length > 0 ? parts.join(", ") : "description";
}

// ---- users, privileges -------------------------------------------------------------

/** The account a service runs as, when the descriptor says; undefined means the image's own choice. */
function userOf(d: Descriptor, service: Service): string | undefined {
  return platformOf(service) === "systemd" ? d.targets?.systemd?.user : service.user;
}

export function isRootUser(user: string | undefined): boolean {
  if (user === undefined) return false;
  const account = user.split(":")[0];
  return account === "root" || account === "0";
}

/** Host paths whose mount hands a container control of the host. */
const HOST_CONTROL_PATHS = ["/", "/etc", "/root", "/proc", "/sys", "/dev", "/var/run/docker.sock", "/run/docker.sock", "/var/lib/docker", "/boot"];

function comparePrivileges(
  name: string,
  before: { d: Descriptor; service: Service } | undefined,
  after: { d: Descriptor; service: Service },
  changes: DeploymentChanges,
): void {
  const subject = code(name);
  const service = after.service;
  const user = userOf(after.d, service);
  const oldUser = before === undefined ? undefined : userOf(before.d, before.service);
  if (isRootUser(user) && (before === undefined || !isRootUser(oldUser))) {
    changes.attention.push(`**${subject} runs as root** (user ${code(user ?? "")}${oldUser !== undefined ? `, was ${code(oldUser)}` : ""}).`);
  } else if (before !== undefined && oldUser !== undefined && user === undefined && service.build === undefined && service.imageOf === undefined) {
    changes.attention.push(`**${subject} no longer sets a user** (was ${code(oldUser)}): it runs as its image's default user, which is root for many images.`);
  } else if (before !== undefined && oldUser !== user) {
    changes.other.push(`${subject} runs as ${user === undefined ? "its image's default user" : code(user)} (was ${oldUser === undefined ? "the image's default user" : code(oldUser)}).`);
  }
  if (service.privileged === true && before?.service.privileged !== true) {
    changes.attention.push(`**${subject} runs privileged**: every device and kernel capability of the host.`);
  }
  const gained = (service.capAdd ?? []).filter((cap) => !(before?.service.capAdd ?? []).includes(cap));
  if (gained.length > 0) changes.attention.push(`**${subject} gains the capabilit${gained.length === 1 ? "y" : "ies"} ${list(gained)}.**`);
  if (before?.service.readOnly === true && service.readOnly !== true) {
    changes.attention.push(`**${subject} no longer has a read-only root filesystem.**`);
  }
  const oldHostPaths = new Set((before?.service.mounts ?? []).map((m) => m.hostPath).filter((p) => p !== undefined));
  for (const mount of service.mounts ?? []) {
    const path = mount.hostPath;
    if (path === undefined || oldHostPaths.has(path)) continue;
    const normalized = path.replace(/\/+$/, "") || "/";
    if (HOST_CONTROL_PATHS.includes(normalized)) {
      changes.attention.push(`**${subject} mounts the host's ${code(path)}**${mount.readOnly === true ? " (read-only)" : ""}: that can give it control of the host.`);
    } else {
      changes.other.push(`${subject} mounts the host folder ${code(path)} at ${code(mount.target)}.`);
    }
  }
}

// ---- images ------------------------------------------------------------------------

type PinState = "digest" | "tag" | "floating";

function pinState(image: string): PinState {
  const { tag, digest } = splitImageReference(image);
  if (digest !== undefined) return "digest";
  return tag === undefined || tag === "latest" ? "floating" : "tag";
}

function imagePinFinding(subject: string, image: string, previous: string | undefined, base: boolean): string | undefined {
  const now = pinState(image);
  const was = previous === undefined ? undefined : pinState(previous);
  const what = base ? `${subject} base image` : `${subject} image`;
  const from = previous === undefined ? "" : ` (was ${code(previous)})`;
  if (now === "floating" && was !== "floating") {
    return `**${what} ${code(image)} is not pinned**${from}: each pull may bring a different version.`;
  }
  if (now === "tag" && was === "digest") {
    return `**${what} ${code(image)} is no longer pinned by digest**${from}: the tag can be moved to other content.`;
  }
  return undefined;
}

function compareImages(name: string, before: Service | undefined, after: Service, changes: DeploymentChanges): void {
  const subject = code(name);
  if (after.image !== undefined) {
    const finding = imagePinFinding(subject, after.image, before?.image, false);
    if (finding !== undefined) changes.attention.push(finding);
    else if (before !== undefined && before.image !== after.image) {
      changes.other.push(`${subject} image ${before.image === undefined ? "set to" : `${code(before.image)} →`} ${code(after.image)}.`);
    }
  }
  if (after.build !== undefined) {
    const base = baseImageOf(after.build);
    const reference = (build: Service["build"]): string | undefined => {
      if (build === undefined) return undefined;
      const image = baseImageOf(build);
      return image !== undefined && build.digest !== undefined && !image.includes("@") ? `${image}@${build.digest}` : image;
    };
    const now = reference(after.build);
    const finding = now === undefined || base === undefined ? undefined : imagePinFinding(subject, now, reference(before?.build), true);
    if (finding !== undefined) changes.attention.push(finding);
    else if (before?.build !== undefined && !same(before.build, after.build)) {
      changes.other.push(`${subject} build changed: ${list(changedFields(before.build, after.build))}.`);
    }
  }
  if (before !== undefined && before.imageOf !== after.imageOf) {
    changes.other.push(`${subject} ${after.imageOf === undefined ? "no longer runs another service's image" : `runs the image of ${code(after.imageOf)}`}.`);
  }
}

// ---- services ----------------------------------------------------------------------

/** Service fields the comparisons above speak about; the rest are summed up by name. */
const DESCRIBED_FIELDS = new Set([
  "ports",
  "user",
  "privileged",
  "capAdd",
  "readOnly",
  "mounts",
  "image",
  "build",
  "imageOf",
  "secrets",
  "environment",
  "replicas",
  "description",
]);

function compareEnvironment(name: string, before: Service, after: Service, changes: DeploymentChanges): void {
  const old = before.environment ?? {};
  const now = after.environment ?? {};
  const added = keysAdded(old, now);
  const removed = keysAdded(now, old);
  const changed = Object.keys(now).filter((key) => Object.hasOwn(old, key) && !same(old[key], now[key]));
  const parts: string[] = [];
  if (added.length > 0) parts.push(`added ${list(added)}`);
  if (removed.length > 0) parts.push(`removed ${list(removed)}`);
  if (changed.length > 0) parts.push(`changed ${list(changed)}`);
  if (parts.length > 0) changes.other.push(`${code(name)} environment: ${parts.join("; ")}.`);
}

function compareService(name: string, before: Descriptor | undefined, after: Descriptor, changes: DeploymentChanges): void {
  const service = after.services[name];
  if (service === undefined) return;
  const old = before?.services[name];
  const subject = code(name);
  if (before !== undefined && old === undefined) {
    const runs = service.image ?? (service.imageOf !== undefined ? `the image of ${code(service.imageOf)}` : service.build !== undefined ? "a built image" : "");
    changes.other.push(`Service ${subject} added${runs === "" ? "" : ` (${service.image !== undefined ? code(runs) : runs})`}.`);
  }
  comparePorts(name, old, service, changes);
  comparePrivileges(name, old === undefined || before === undefined ? undefined : { d: before, service: old }, { d: after, service }, changes);
  compareImages(name, old, service, changes);
  if (old === undefined) return;
  const readsNow = serviceSecretNames(service);
  const readsBefore = serviceSecretNames(old);
  const reads = readsNow.filter((s) => !readsBefore.includes(s));
  const stops = readsBefore.filter((s) => !readsNow.includes(s));
  if (reads.length > 0) changes.other.push(`${subject} now reads the secret${reads.length === 1 ? "" : "s"} ${list(reads)}.`);
  if (stops.length > 0) changes.other.push(`${subject} no longer reads the secret${stops.length === 1 ? "" : "s"} ${list(stops)}.`);
  compareEnvironment(name, old, service, changes);
  if (old.replicas !== service.replicas) changes.other.push(`${subject} replicas ${old.replicas ?? 1} → ${service.replicas ?? 1}.`);
  const rest = changedFields(old, service).filter((key) => !DESCRIBED_FIELDS.has(key));
  if (rest.length > 0) changes.other.push(`${subject} settings changed: ${list(rest)}.`);
}

// ---- secrets, firewall, the rest ---------------------------------------------------

function compareSecrets(before: Descriptor | undefined, after: Descriptor, changes: DeploymentChanges): void {
  for (const name of keysAdded(before?.secrets, after.secrets)) {
    const secret = after.secrets?.[name];
    const how = secret?.external === true ? "created outside create-deploy" : secret?.generate === false ? "its value must be provided" : "a random value is generated";
    changes.attention.push(`**Secret ${code(name)} added** (${how}): make it exist on every host before deploying.`);
  }
  for (const name of keysAdded(after.secrets, before?.secrets)) {
    changes.attention.push(`**Secret ${code(name)} removed**: delete its value from the hosts once nothing reads it.`);
  }
  for (const [name, secret] of Object.entries(after.secrets ?? {})) {
    const old = before?.secrets?.[name];
    if (old !== undefined && !same({ ...old, description: undefined }, { ...secret, description: undefined })) {
      changes.other.push(`Secret ${code(name)} changed (how it is named, made or delivered).`);
    }
  }
}

interface OpenRule {
  host: string;
  target: string;
  source: string;
  reason: string;
}

function openRules(plan: FirewallPlan): Map<string, OpenRule> {
  const rules = new Map<string, OpenRule>();
  for (const host of plan.hosts) {
    const hostName = host.node ?? "the host";
    for (const rule of host.rules) {
      const target = describeTarget(rule);
      const sources = rule.sources === "any" ? ["any"] : rule.sources;
      for (const source of sources) {
        rules.set(`${hostName}|${target}|${source}`, { host: hostName, target, source: source === "any" ? describeSources("any") : source, reason: rule.reason });
      }
    }
  }
  return rules;
}

function compareFirewall(before: Descriptor | undefined, after: Descriptor, changes: DeploymentChanges): void {
  const old = before === undefined ? undefined : planFirewall(before);
  const now = planFirewall(after);
  if (now === undefined) {
    if (old !== undefined) changes.attention.push("**The firewall rules are no longer generated** (`targets.firewall` removed): the hosts keep whatever rules they have.");
    return;
  }
  if (old === undefined) {
    changes.other.push(`Firewall rules are now generated (${now.backend}), default deny, for ${now.hosts.length === 1 ? "one host" : `${now.hosts.length} hosts`}.`);
    return;
  }
  if (old.backend !== now.backend) changes.other.push(`Firewall backend ${old.backend} → ${now.backend}.`);
  const was = openRules(old);
  const is = openRules(now);
  for (const [key, rule] of is) {
    if (was.has(key)) continue;
    const host = rule.host === "the host" ? "the host" : code(rule.host);
    changes.attention.push(`**Firewall opens ${code(rule.target)} on ${host} to ${rule.source === "anywhere" ? "anywhere" : code(rule.source)}** (${rule.reason}).`);
  }
  for (const [key, rule] of was) {
    if (is.has(key)) continue;
    const host = rule.host === "the host" ? "the host" : code(rule.host);
    changes.other.push(`Firewall closes ${code(rule.target)} on ${host} to ${rule.source === "anywhere" ? "anywhere" : code(rule.source)}.`);
  }
}

function compareNamed<T>(label: string, before: Record<string, T> | undefined, after: Record<string, T> | undefined, changes: DeploymentChanges): void {
  const added = keysAdded(before, after);
  const removed = keysAdded(after, before);
  const changed = Object.keys(after ?? {}).filter((key) => Object.hasOwn(before ?? {}, key) && !same(before?.[key], after?.[key]));
  if (added.length > 0) changes.other.push(`${label} added: ${list(added)}.`);
  if (removed.length > 0) changes.other.push(`${label} removed: ${list(removed)}.`);
  if (changed.length > 0) changes.other.push(`${label} changed: ${list(changed)}.`);
}

function compareDeployment(before: Descriptor | undefined, after: Descriptor, changes: DeploymentChanges): void {
  if (before === undefined) return;
  for (const name of keysAdded(after.services, before.services)) changes.other.push(`Service ${code(name)} removed.`);
  compareNamed("Volumes", before.volumes, after.volumes, changes);
  compareNamed("Networks", before.networks, after.networks, changes);
  compareNamed("Nodes", before.nodes, after.nodes, changes);
  compareNamed("Environment profiles", before.environments, after.environments, changes);
  if (!same(before.registry, after.registry)) {
    const host = (d: Descriptor): string => (d.registry === undefined ? "none" : `${d.registry.host}/${d.registry.namespace}`);
    changes.other.push(`Registry ${code(host(before))} → ${code(host(after))}.`);
  }
  if (!same(before.cluster, after.cluster)) changes.other.push(`Cluster network ${list(before.cluster?.cidr ?? [])} → ${list(after.cluster?.cidr ?? [])}.`);
  const targetNames = (d: Descriptor): Record<string, unknown> => (d.targets ?? {}) as Record<string, unknown>;
  compareNamed("Targets", targetNames(before), targetNames(after), changes);
}

/** Every change the descriptor makes to the deployment; `before` undefined means a new descriptor. */
export function compareDescriptors(before: Descriptor | undefined, after: Descriptor): DeploymentChanges {
  const changes: DeploymentChanges = { attention: [], other: [] };
  for (const name of Object.keys(after.services)) compareService(name, before, after, changes);
  compareSecrets(before, after, changes);
  compareFirewall(before, after, changes);
  compareDeployment(before, after, changes);
  return changes;
}

// ---- the Markdown ------------------------------------------------------------------

const CHANGE_WORDS: Record<FileChangeKind, string> = { create: "added", update: "changed", remove: "removed" };

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

function fileSummary(files: readonly FileChange[]): string[] {
  if (files.length === 0) return ["No generated file changes."];
  const count = (change: FileChangeKind): number => files.filter((f) => f.change === change).length;
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return [
    `${count("create")} added, ${count("update")} changed, ${count("remove")} removed.`,
    "",
    formatTable(["File", "Change", "Kind"], sorted.map((f) => [f.path, CHANGE_WORDS[f.change], f.kind]), { code: [0] }),
  ];
}

function bullets(items: readonly string[]): string[] {
  return items.map((item) => `- ${item}`);
}

export interface SummaryOptions {
  /** Why the previous descriptor is unknown; then only the generated files are compared. */
  baseUnknown?: string;
}

/**
 * The summary in Markdown. `before` is the descriptor as it was (undefined when there was
 * none); `files` are the generated files the change adds, rewrites or removes.
 */
export function summarizeChange(before: Descriptor | undefined, after: Descriptor, files: readonly FileChange[], options: SummaryOptions = {}): string {
  const lines: string[] = [`## Deployment change: ${code(after.name)}`, ""];
  if (options.baseUnknown !== undefined) {
    lines.push(`The previous descriptor is not known (${options.baseUnknown}), so only the generated files are compared.`, "");
    lines.push(`### Generated files (${plural(files.length, "file")})`, "", ...fileSummary(files));
    return `${lines.join("\n")}\n`;
  }
  const changes = compareDescriptors(before, after);
  if (before === undefined) lines.push("`deploy.yaml` is new: the whole deployment below is added.", "");
  const nothing = changes.attention.length === 0 && changes.other.length === 0;
  if (nothing && files.length === 0) {
    lines.push("No change to the deployment.");
    return `${lines.join("\n")}\n`;
  }
  if (changes.attention.length > 0) {
    lines.push(`### Needs attention (${changes.attention.length})`, "", ...bullets(changes.attention), "");
  } else {
    lines.push(
      "Nothing that needs special attention: no port became public, no service runs as root or privileged, no secret was added or removed, no firewall rule was opened and no image was left unpinned.",
      "",
    );
  }
  if (changes.other.length > 0) lines.push(`### Other changes (${changes.other.length})`, "", ...bullets(changes.other), "");
  else if (!nothing) lines.push("No other change to the descriptor.", "");
  lines.push(`### Generated files (${plural(files.length, "file")})`, "", ...fileSummary(files));
  return `${lines.join("\n")}\n`;
}
