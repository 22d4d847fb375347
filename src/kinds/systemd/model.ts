// What the systemd kind derives from the descriptor: unit names, host paths, the
// ExecStart argument list, how each secret reaches the program, resource limits.
// Plain functions so the unit, the install script and DEPLOY.md agree on every name.
import type { Descriptor, Port, Secret, Service, SystemdTarget } from "../../model/descriptor.js";
import {
  envFilePath,
  environmentNames,
  listServices,
  platformOf,
  secretEnvName,
  serviceSecretNames,
  systemdSecretRoute,
} from "../../model/derive.js";

export const UNIT_FOLDER = "systemd";
export const INSTALL_SCRIPT = `${UNIT_FOLDER}/install.sh`;
export const UNINSTALL_SCRIPT = `${UNIT_FOLDER}/uninstall.sh`;
/** Where distributions keep units an administrator installs. */
export const SYSTEM_UNIT_DIR = "/etc/systemd/system";
export const NOLOGIN_SHELL = "/usr/sbin/nologin";
export const NODE_BINARY = "/usr/bin/node";

/** Paths in a unit are kept to characters that need no quoting in any unit setting. */
export const UNIT_PATH = /^(?:\/[A-Za-z0-9._@+-]+)+$/;

/** Top-level folders an install directory must not live in: the system's own, or hidden by ProtectHome=. */
const RESERVED_TOP = new Set(["bin", "boot", "dev", "etc", "home", "lib", "lib32", "lib64", "libx32", "proc", "root", "run", "sbin", "sys", "tmp", "usr"]);
const RESERVED_VAR = new Set(["lib", "log", "tmp", "cache", "spool", "run", "lock"]);

/** Ports below this need CAP_NET_BIND_SERVICE. */
export const FIRST_UNPRIVILEGED_PORT = 1024;

export function systemdServices(d: Descriptor): ReadonlyArray<readonly [string, Service]> {
  return listServices(d).filter(([, s]) => platformOf(s) === "systemd");
}

export function unitName(d: Descriptor, service: string): string {
  return `${d.name}-${service}.service`;
}

export function unitPath(d: Descriptor, service: string): string {
  return `${UNIT_FOLDER}/${unitName(d, service)}`;
}

export interface HostLayout {
  configDir: string;
  credentialsDir: string;
  stateDir: string;
  logsDir: string;
  polkitRule: string;
}

/** Where the install script puts things on the host; all named after the project. */
export function hostLayout(d: Descriptor): HostLayout {
  return {
    configDir: `/etc/${d.name}`,
    credentialsDir: `/etc/${d.name}/credentials`,
    stateDir: `/var/lib/${d.name}`,
    logsDir: `/var/log/${d.name}`,
    polkitRule: `/etc/polkit-1/rules.d/50-${d.name}.rules`,
  };
}

export function serviceEnvFile(d: Descriptor, service: string): string {
  return `${hostLayout(d).configDir}/${service}.env`;
}

export function serviceSecretsEnvFile(d: Descriptor, service: string): string {
  return `${hostLayout(d).configDir}/${service}.secrets.env`;
}

export function credentialPath(d: Descriptor, secret: string): string {
  return `${hostLayout(d).credentialsDir}/${secret}`;
}

export function venvOf(target: SystemdTarget): string {
  return target.venv ?? `${target.installDir}/venv`;
}

export function groupOf(target: SystemdTarget): string {
  return target.group ?? target.user;
}

/** The environment profile whose env file the units read. */
export function unitEnvironment(d: Descriptor, target: SystemdTarget): string {
  return target.environment ?? environmentNames(d)[0] ?? "default";
}

export function unitEnvSource(d: Descriptor, target: SystemdTarget): string {
  return envFilePath(d, unitEnvironment(d, target));
}

/** True when `path` is `folder` or lies below it. */
export function isWithin(path: string, folder: string): boolean {
  return path === folder || path.startsWith(`${folder}/`);
}

/** Why an install directory (or venv) cannot be used, or undefined when it can. */
export function reservedPathReason(path: string): string | undefined {
  const segments = path.split("/").filter((s) => s !== "");
  const top = segments[0] ?? "";
  if (segments.length < 2) return "must be a folder of its own, at least two levels deep (e.g. /opt/NAME or /srv/NAME)";
  if (RESERVED_TOP.has(top)) {
    return top === "home" || top === "root"
      ? "lies in a home folder, which ProtectHome= hides from the service"
      : `lies in /${top}, which belongs to the system`;
  }
  if (top === "var" && RESERVED_VAR.has(segments[1] ?? "")) return `lies in /var/${segments[1] ?? ""}, which systemd and the system manage`;
  return undefined;
}

/** The program and its arguments as the descriptor gives them (docker semantics: entrypoint, then command). */
export function declaredArgv(service: Service): { argv: string[]; pointer: string[] } {
  if (service.entrypoint) return { argv: [...service.entrypoint, ...(service.command ?? [])], pointer: ["entrypoint"] };
  if (service.command) return { argv: service.command, pointer: ["command"] };
  return { argv: service.build?.command ?? [], pointer: ["build", "command"] };
}

const PYTHON_PROGRAM = /^python(?:3(?:\.\d+)?)?$/;
const PLAIN_PROGRAM = /^[A-Za-z0-9_+-][A-Za-z0-9._+-]*$/;

export type ProgramResolution = { ok: true; program: string } | { ok: false; message: string; hint: string };

/** The absolute program ExecStart runs: the venv's python or console script, node, or the given path. */
export function resolveProgram(target: SystemdTarget, service: Service, program: string): ProgramResolution {
  const runtime = service.build?.runtime ?? "generic";
  if (program.startsWith("/")) return { ok: true, program };
  const plain = PLAIN_PROGRAM.test(program);
  if (runtime === "python") {
    if (PYTHON_PROGRAM.test(program)) return { ok: true, program: `${venvOf(target)}/bin/python` };
    if (plain) return { ok: true, program: `${venvOf(target)}/bin/${program}` };
    return { ok: false, message: `${JSON.stringify(program)} is neither python, a console script of the venv, nor an absolute path`, hint: "write python, a script name installed in the venv (gunicorn), or an absolute path" };
  }
  if (runtime === "node") {
    if (program === "node") return { ok: true, program: NODE_BINARY };
    if (plain) return { ok: true, program: `${target.installDir}/node_modules/.bin/${program}` };
    return { ok: false, message: `${JSON.stringify(program)} is neither node, a script of node_modules/.bin, nor an absolute path`, hint: "write node, a script name from node_modules/.bin, or an absolute path" };
  }
  return { ok: false, message: "a generic program run by systemd needs an absolute path", hint: `write the full path, e.g. /usr/local/bin/${plain ? program : "app"}` };
}

/** ExecStart's argument list, or undefined when the program cannot be resolved (check() reports why). */
export function execArgv(target: SystemdTarget, service: Service): string[] | undefined {
  const { argv } = declaredArgv(service);
  const [program, ...args] = argv;
  if (program === undefined) return undefined;
  const resolved = resolveProgram(target, service, program);
  return resolved.ok ? [resolved.program, ...args] : undefined;
}

export function workingDirOf(target: SystemdTarget, service: Service): string {
  return service.workingDir ?? target.installDir;
}

/** The code folder copied into the install directory: build.context without `./` or a trailing slash. */
export function codeContext(service: Service): string {
  const context = (service.build?.context ?? ".").replace(/^(?:\.\/)+/, "").replace(/\/+$/, "");
  return context === "" ? "." : context;
}

export interface SecretDelivery {
  name: string;
  secret: Secret | undefined;
  /** The variable the program reads: the value itself (variable route) or the credential's path (NAME_FILE). */
  key: string;
  route: "variable" | "credential";
  credential: string;
}

/** How each secret of a service reaches it; see systemdSecretRoute for the choice. */
export function secretDeliveries(d: Descriptor, service: Service): SecretDelivery[] {
  return serviceSecretNames(service).map((name) => {
    const secret = d.secrets?.[name];
    const route = systemdSecretRoute(secret);
    const base = secretEnvName(name, secret);
    return { name, secret, route, key: route === "variable" ? base : `${base}_FILE`, credential: credentialPath(d, name) };
  });
}

export function privilegedPorts(service: Service): Port[] {
  return (service.ports ?? []).filter((p) => p.port < FIRST_UNPRIVILEGED_PORT);
}

/** A memory size as systemd spells it: `512m` → `512M`; bytes stay bytes. */
export function systemdMemory(size: string): string {
  return size.replace(/[kmg]$/, (unit) => unit.toUpperCase());
}

/** CPUs as a CPUQuota= percentage of one CPU: 1.5 → `150%`. */
export function systemdCpuQuota(cpus: number): string {
  return `${Math.max(1, Math.round(cpus * 100))}%`;
}

export function restartOf(service: Service): "no" | "always" | "on-failure" {
  if (service.restart === "no") return "no";
  if (service.restart === "always" || service.restart === "unless-stopped") return service.type === "job" ? "on-failure" : "always";
  return "on-failure";
}

export interface BoundPath {
  source: string;
  target: string;
  readOnly: boolean;
}

/** Host folders a service mounts, with relative host paths resolved inside the install directory. */
export function boundPaths(target: SystemdTarget, service: Service): BoundPath[] {
  return (service.mounts ?? [])
    .filter((m) => m.hostPath !== undefined)
    .map((m) => {
      const host = m.hostPath ?? "";
      const source = host.startsWith("/") ? host : `${target.installDir}/${host.replace(/^(?:\.\/)+/, "")}`.replace(/\/+$/, "");
      return { source, target: m.target, readOnly: m.readOnly === true };
    });
}

/**
 * Folders outside the state and log folders the service may write: its working
 * directory when it is not the (read-only) code, and its writable mounts. The
 * install script creates them, owned by the service user.
 */
export function writableFolders(d: Descriptor, target: SystemdTarget, service: Service): string[] {
  const layout = hostLayout(d);
  const managed = (path: string): boolean => isWithin(path, layout.stateDir) || isWithin(path, layout.logsDir);
  const folders: string[] = [];
  const working = workingDirOf(target, service);
  if (!isWithin(working, target.installDir) && !managed(working)) folders.push(working);
  for (const bound of boundPaths(target, service)) {
    if (!bound.readOnly && !managed(bound.source) && !folders.includes(bound.source)) folders.push(bound.source);
  }
  return folders;
}

/**
 * SELinux labels of the ports the reference policy gives web servers: a web or proxy
 * service on another port gets it labelled http_port_t. Other services run from the
 * install directory as unconfined_service_t, which may bind any port.
 */
export const HTTP_PORT_LABELLED = new Set([80, 81, 443, 488, 8008, 8009, 8443, 9000]);

export interface PortLabel {
  port: number;
  protocol: string;
  type: string;
}

export function selinuxPortLabels(d: Descriptor): PortLabel[] {
  const labels: PortLabel[] = [];
  for (const [, service] of systemdServices(d)) {
    if (service.type !== "web" && service.type !== "proxy") continue;
    for (const port of service.ports ?? []) {
      const protocol = port.protocol ?? "tcp";
      if (protocol !== "tcp" || HTTP_PORT_LABELLED.has(port.port)) continue;
      if (!labels.some((l) => l.port === port.port)) labels.push({ port: port.port, protocol, type: "http_port_t" });
    }
  }
  return labels;
}

/** The default SELinux type of a port nobody labelled, as the reference policy assigns it. */
export function defaultPortType(port: number): string {
  if (port < 512) return "reserved_port_t";
  if (port < FIRST_UNPRIVILEGED_PORT) return "hi_reserved_port_t";
  if (port >= 32768 && port <= 61000) return "ephemeral_port_t";
  return "unreserved_port_t";
}
