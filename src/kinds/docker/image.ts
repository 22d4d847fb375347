// What goes into one service's Dockerfile, computed as plain data: the base image, the
// stages' install steps, the user, the probe and the program. The templates only lay it out.
import type { Build, Descriptor, Healthcheck, Service } from "../../model/descriptor.js";
import { toJson } from "../../render/escape.js";
import {
  buildContextOf,
  builtImageName,
  dockerfilePath,
  dockerignorePath,
  imageHealthcheckOf,
  listServices,
  platformOf,
  secretEnvName,
} from "../../model/derive.js";

export type Runtime = Build["runtime"];

export const DEFAULT_PYTHON_VERSION = "3.12";
export const DEFAULT_NODE_VERSION = "22";
export const DEFAULT_REQUIREMENTS = "requirements.txt";
/** The non-root account of python and generic images; a fixed id so volumes can be prepared for it. */
export const DEFAULT_UID = 10001;
export const APP_USER = "app";
/** Node's official images ship this account (uid 1000). */
export const NODE_USER = "node";
export const VENV = "/opt/venv";
export const WORKDIR = "/app";

/** Container services whose image is built from this descriptor, in descriptor order. */
export function listBuiltServices(d: Descriptor): Array<[string, Service & { build: Build }]> {
  return listServices(d).filter((entry): entry is [string, Service & { build: Build }] => {
    const [, service] = entry;
    return service.build !== undefined && platformOf(service) === "container";
  });
}

/** The base image as written (with its tag), or undefined for a generic build without one. */
export function baseImageOf(build: Build): string | undefined {
  if (build.base !== undefined) return build.base;
  if (build.runtime === "python") return `python:${build.version ?? DEFAULT_PYTHON_VERSION}-slim-bookworm`;
  if (build.runtime === "node") return `node:${build.version ?? DEFAULT_NODE_VERSION}-bookworm-slim`;
  return undefined;
}

/** The FROM reference: the base with the descriptor's digest appended when it gives one. */
export function baseReferenceOf(build: Build): string | undefined {
  const base = baseImageOf(build);
  if (base === undefined) return undefined;
  return build.digest !== undefined && !base.includes("@") ? `${base}@${build.digest}` : base;
}

/** Tag and digest of an image reference; the tag is looked for in the last path component only (a registry host may carry a port). */
export function splitImageReference(image: string): { name: string; tag?: string; digest?: string } {
  const at = image.indexOf("@");
  const withoutDigest = at < 0 ? image : image.slice(0, at);
  const digest = at < 0 ? undefined : image.slice(at + 1);
  const slash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.indexOf(":", slash + 1);
  if (colon < 0) return { name: withoutDigest, ...(digest === undefined ? {} : { digest }) };
  return { name: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1), ...(digest === undefined ? {} : { digest }) };
}

/** Canonical relative path inside the context: no "./", no trailing "/"; "." for the whole context. */
export function normalizeContextPath(path: string): string {
  const parts = path.split("/").filter((part) => part !== "" && part !== ".");
  return parts.length === 0 ? "." : parts.join("/");
}

export interface ImageUser {
  /** Account name inside the image. */
  name: string;
  uid: number;
  gid: number;
  /** The Dockerfile creates the account (python); node and generic images use an existing one or a bare id. */
  create: boolean;
  /** What USER says. Numeric ids work without a passwd entry and let orchestrators verify non-root. */
  spec: string;
}

/** Numeric "uid" or "uid:gid" of a service, when both are non-root ids. */
export function numericUserOf(user: string | undefined): { uid: number; gid: number } | undefined {
  const match = /^([0-9]{1,10})(?::([0-9]{1,10}))?$/.exec(user ?? "");
  if (!match) return undefined;
  const uid = Number(match[1]);
  const gid = match[2] === undefined ? uid : Number(match[2]);
  if (uid === 0 || gid === 0 || uid > 2147483647 || gid > 2147483647) return undefined;
  return { uid, gid };
}

export function imageUserOf(runtime: Runtime, service: Service): ImageUser {
  if (runtime === "node") return { name: NODE_USER, uid: 1000, gid: 1000, create: false, spec: NODE_USER };
  const ids = numericUserOf(service.user) ?? { uid: DEFAULT_UID, gid: DEFAULT_UID };
  return { name: APP_USER, ...ids, create: runtime === "python", spec: `${ids.uid}:${ids.gid}` };
}

export interface ImageHealthcheck {
  options: string;
  argv: string[];
  /** Says where the probe comes from when the descriptor did not give one. */
  note: string;
}

function healthcheckOptions(check: Healthcheck): string {
  const options: string[] = [];
  if (check.interval !== undefined) options.push(`--interval=${check.interval}`);
  if (check.timeout !== undefined) options.push(`--timeout=${check.timeout}`);
  if (check.startPeriod !== undefined) options.push(`--start-period=${check.startPeriod}`);
  if (check.retries !== undefined) options.push(`--retries=${check.retries}`);
  return options.join(" ");
}

/** The image's HEALTHCHECK in Dockerfile terms; see imageHealthcheckOf for which probe it is. */
export function imageHealthcheckFor(service: Service): ImageHealthcheck | undefined {
  const probe = imageHealthcheckOf(service);
  if (!probe) return undefined;
  const port = probe.check.tcp?.port;
  const note = probe.derived ? `The descriptor gives no healthcheck: this one only checks that port ${port ?? ""} accepts connections.` : "";
  return { options: healthcheckOptions(probe.check), argv: probe.argv, note };
}

/** The image is a long-running service that must report its health (what the policy checks). */
export function needsHealthcheck(service: Service): boolean {
  if (service.type === "job") return false;
  return service.healthcheck !== undefined || (service.ports ?? []).some((p) => (p.protocol ?? "tcp") === "tcp");
}

/** Paths the build reads from the context besides the copied code; the ignore file must let them through. */
export function installInputsOf(build: Build): string[] {
  if (build.runtime === "python") return [normalizeContextPath(build.requirements ?? DEFAULT_REQUIREMENTS)];
  if (build.runtime === "node") return ["package.json", "package-lock.json", ...(usesNpmrc(build) ? [NPMRC] : [])];
  return [];
}

/**
 * npm takes a registry token only from an .npmrc; with build secrets the project's .npmrc
 * (which names the variable, `_authToken=${NPM_TOKEN}`, never the token) is mounted for npm ci.
 */
export const NPMRC = ".npmrc";

export function usesNpmrc(build: Build): boolean {
  return build.runtime === "node" && (build.secrets ?? []).length > 0;
}

/** The COPY lines: each listed path to the same place under the work directory, or the whole context. */
export function copiesOf(build: Build): Array<{ source: string; target: string }> {
  const paths = (build.copy ?? ["."]).map(normalizeContextPath);
  const unique = [...new Set(paths)];
  if (unique.includes(".")) return [{ source: ".", target: "./" }];
  return unique.map((path) => ({ source: path, target: `./${path}` }));
}

/** `RUN --mount` flags giving one step the build secrets, as a file and as the variable programs read. */
export function secretMountsOf(d: Descriptor, build: Build): string[] {
  return (build.secrets ?? []).map(
    (name) => `--mount=type=secret,id=${name},env=${secretEnvName(name, d.secrets?.[name])},target=/run/secrets/${name},required=true`,
  );
}

/** Exec form as Docker's documentation writes it, `["a", "b"]`: each argument a JSON string, so no shell ever parses it. */
export function execForm(argv: readonly string[]): string {
  return `[${argv.map((arg) => toJson(arg)).join(", ")}]`;
}

export interface DockerfileModel {
  service: string;
  runtime: Runtime;
  dockerfile: string;
  ignoreFile: string;
  context: string;
  image: string;
  base: string;
  args: Array<{ name: string; value: string }>;
  hasArgs: boolean;
  labels: Array<{ name: string; value: string }>;
  buildPackages: string[];
  hasBuildPackages: boolean;
  systemPackages: string[];
  hasSystemPackages: boolean;
  /** Flags of the RUN that installs the runtime's packages (cache, inputs, secrets). */
  installMounts: string[];
  requirements: string;
  secretMounts: string[];
  copies: Array<{ source: string; target: string }>;
  runLines: string[];
  hasRun: boolean;
  user: ImageUser;
  ports: string[];
  hasPorts: boolean;
  healthcheck: ImageHealthcheck;
  /** The probe in exec form. */
  healthcheckExec: string;
  hasHealthcheck: boolean;
  hasHealthcheckNote: boolean;
  hasHealthcheckOptions: boolean;
  command: string[];
  /** The program in exec form. */
  commandExec: string;
  venv: string;
  workdir: string;
}

function exposedPorts(service: Service): string[] {
  const seen = new Set<string>();
  for (const port of service.ports ?? []) seen.add(`${port.port}/${port.protocol ?? "tcp"}`);
  return [...seen];
}

function labelsOf(d: Descriptor, name: string, service: Service, build: Build, base: string): Array<{ name: string; value: string }> {
  const labels = [{ name: "org.opencontainers.image.title", value: `${d.name}-${name}` }];
  const description = service.description ?? d.description;
  if (description !== undefined) labels.push({ name: "org.opencontainers.image.description", value: description });
  const { name: baseName, tag } = splitImageReference(base);
  labels.push({ name: "org.opencontainers.image.base.name", value: tag === undefined ? baseName : `${baseName}:${tag}` });
  const digest = build.digest ?? splitImageReference(base).digest;
  if (digest !== undefined) labels.push({ name: "org.opencontainers.image.base.digest", value: digest });
  return labels;
}

function installMountsOf(d: Descriptor, build: Build): string[] {
  const secrets = secretMountsOf(d, build);
  if (build.runtime === "python") {
    const requirements = normalizeContextPath(build.requirements ?? DEFAULT_REQUIREMENTS);
    return ["--mount=type=cache,target=/root/.cache/pip", `--mount=type=bind,source=${requirements},target=/tmp/requirements.txt`, ...secrets];
  }
  if (build.runtime === "node") {
    return [
      "--mount=type=cache,target=/root/.npm",
      "--mount=type=bind,source=package.json,target=package.json",
      "--mount=type=bind,source=package-lock.json,target=package-lock.json",
      ...(usesNpmrc(build) ? [`--mount=type=bind,source=${NPMRC},target=${NPMRC}`] : []),
      ...secrets,
    ];
  }
  return [];
}

/** Everything one Dockerfile says, for a service that passed this kind's checks. */
export function buildDockerfileModel(d: Descriptor, name: string, service: Service & { build: Build }): DockerfileModel {
  const build = service.build;
  const runtime = build.runtime;
  const base = baseReferenceOf(build);
  if (base === undefined) throw new Error(`services.${name}.build has no base image; check() should have refused it`);
  const healthcheck = imageHealthcheckFor(service);
  const args = Object.entries(build.args ?? {}).map(([key, value]) => ({ name: key, value }));
  const ports = exposedPorts(service);
  const runLines = build.run ?? [];
  return {
    service: name,
    runtime,
    dockerfile: dockerfilePath(name),
    ignoreFile: dockerignorePath(name),
    context: buildContextOf(build),
    image: builtImageName(d, name),
    base,
    args,
    hasArgs: args.length > 0,
    labels: labelsOf(d, name, service, build, base),
    buildPackages: build.buildPackages ?? [],
    hasBuildPackages: (build.buildPackages ?? []).length > 0,
    systemPackages: build.systemPackages ?? [],
    hasSystemPackages: (build.systemPackages ?? []).length > 0,
    installMounts: installMountsOf(d, build),
    requirements: normalizeContextPath(build.requirements ?? DEFAULT_REQUIREMENTS),
    secretMounts: secretMountsOf(d, build),
    copies: copiesOf(build),
    runLines,
    hasRun: runLines.length > 0,
    user: imageUserOf(runtime, service),
    ports,
    hasPorts: ports.length > 0,
    healthcheck: healthcheck ?? { options: "", argv: [], note: "" },
    healthcheckExec: healthcheck === undefined ? "" : execForm(healthcheck.argv),
    hasHealthcheck: healthcheck !== undefined,
    hasHealthcheckNote: (healthcheck?.note ?? "") !== "",
    hasHealthcheckOptions: (healthcheck?.options ?? "") !== "",
    command: [...build.command],
    commandExec: execForm(build.command),
    venv: VENV,
    workdir: WORKDIR,
  };
}
