// systemd: a hardened unit for each service that runs natively on the host, the
// idempotent install script that puts code, secrets, env file and units in place, the
// uninstall script, and the runbook sections on installing, operating and troubleshooting.
import type { Descriptor, Service, SystemdTarget } from "../../model/descriptor.js";
import { DEFAULT_SECRET_LENGTH, SECRET_ALPHABETS, SECRETS_DIR, exposureOf, secretFilePath, secretSourceOf } from "../../model/derive.js";
import { formatTable } from "../../render/markdown.js";
import type { ArtifactKind, PlannedFile, RunbookSection } from "../types.js";
import { checkSystemd } from "./check.js";
import {
  INSTALL_SCRIPT,
  NODE_BINARY,
  NOLOGIN_SHELL,
  SYSTEM_UNIT_DIR,
  UNINSTALL_SCRIPT,
  boundPaths,
  codeContext,
  declaredArgv,
  defaultPortType,
  execArgv,
  groupOf,
  hostLayout,
  isWithin,
  privilegedPorts,
  restartOf,
  secretDeliveries,
  selinuxPortLabels,
  serviceEnvFile,
  serviceSecretsEnvFile,
  systemdCpuQuota,
  systemdMemory,
  systemdServices,
  unitEnvSource,
  unitEnvironment,
  unitName,
  unitPath,
  venvOf,
  workingDirOf,
  writableFolders,
} from "./model.js";

const START_LIMIT_INTERVAL = "10min";
const START_LIMIT_BURST = 5;
const RESTART_SEC = "5s";
const ENV_KEY = /^[A-Z_][A-Z0-9_]*$/;
const NAME = /^[a-z][a-z0-9-]*$/;

function targetOf(d: Descriptor): SystemdTarget {
  const target = d.targets?.systemd;
  if (!target) throw new Error("the systemd kind planned without targets.systemd");
  return target;
}

/** An Environment= assignment built only from names validation has already restricted. */
function environmentLine(key: string, value: string): string {
  if (!ENV_KEY.test(key) || !/^[A-Za-z0-9%/._:@+-]+$/.test(value)) throw new Error(`unsafe Environment= line: ${key}=${value}`);
  return `${key}=${value}`;
}

function unitDependencies(d: Descriptor, service: Service): string[] {
  return (service.dependsOn ?? []).map((dep) => unitName(d, typeof dep === "string" ? dep : dep.service));
}

function unitContext(d: Descriptor, target: SystemdTarget, name: string, service: Service): Record<string, unknown> {
  const argv = execArgv(target, service);
  if (!argv) throw new Error(`services.${name} has no program a unit can run (check() reports why)`);
  const deliveries = secretDeliveries(d, service);
  const variables = deliveries.filter((s) => s.route === "variable");
  const credentials = deliveries.filter((s) => s.route === "credential");
  const runtime = service.build?.runtime ?? "generic";
  const environment: string[] = [];
  if (runtime === "python") {
    // The venv first on PATH, as `activate` would; unbuffered output reaches the journal at once.
    environment.push(environmentLine("PATH", `${venvOf(target)}/bin:/usr/local/bin:/usr/bin:/bin`));
    environment.push(environmentLine("PYTHONUNBUFFERED", "1"));
  }
  for (const credential of credentials) {
    if (!NAME.test(credential.name)) throw new Error(`unsafe credential name ${credential.name}`);
    environment.push(environmentLine(credential.key, `%d/${credential.name}`));
  }
  const readOnlyPaths = boundPaths(target, service)
    .filter((b) => b.readOnly)
    .map((b) => b.source);
  const memory = service.resources?.memory;
  const memoryLow = service.resources?.reservations?.memory;
  const cpus = service.resources?.cpus;
  const ports = privilegedPorts(service);
  const restart = restartOf(service);
  const dependencies = unitDependencies(d, service);
  return {
    description: service.description ?? `${d.name} ${name}`,
    after: ["network-online.target", ...dependencies],
    wants: ["network-online.target", ...dependencies],
    startLimitInterval: START_LIMIT_INTERVAL,
    startLimitBurst: START_LIMIT_BURST,
    type: service.type === "job" ? "oneshot" : "exec",
    oneshot: service.type === "job",
    user: target.user,
    group: groupOf(target),
    workingDirectory: workingDirOf(target, service),
    environment: unitEnvironment(d, target),
    envSource: unitEnvSource(d, target),
    installScript: INSTALL_SCRIPT,
    envFile: serviceEnvFile(d, name),
    hasSecretsEnvFile: variables.length > 0,
    variableSecrets: variables.map((v) => v.key),
    secretsEnvFile: serviceSecretsEnvFile(d, name),
    hasCredentials: credentials.length > 0,
    credentials: credentials.map((c) => ({ name: c.name, path: c.credential })),
    environmentLines: environment,
    execStart: argv,
    restart,
    restarts: restart !== "no",
    restartSec: RESTART_SEC,
    stateDirectory: d.name,
    logsDirectory: d.name,
    readWritePaths: writableFolders(d, target, service),
    readOnlyPaths,
    hasLimits: memory !== undefined || memoryLow !== undefined || cpus !== undefined,
    hasMemoryMax: memory !== undefined,
    memoryMax: memory === undefined ? "" : systemdMemory(memory),
    hasMemoryLow: memoryLow !== undefined,
    memoryLow: memoryLow === undefined ? "" : systemdMemory(memoryLow),
    hasCpuQuota: cpus !== undefined,
    cpuQuota: cpus === undefined ? "" : systemdCpuQuota(cpus),
    hasPrivilegedPorts: ports.length > 0,
    privilegedPorts: ports.map((p) => `${p.port}/${p.protocol ?? "tcp"}`).join(", "),
    memoryDenyWriteExecute: target.memoryDenyWriteExecute === true,
    privateUsers: target.privateUsers === true,
  };
}

interface ScriptSecret {
  name: string;
  how: "generate" | "prompt" | "external";
  length: number;
  charset: string;
  prompt: string;
}

/** Every secret any unit reads, once, in the order the services name them. */
function scriptSecrets(d: Descriptor): ScriptSecret[] {
  const seen = new Set<string>();
  const secrets: ScriptSecret[] = [];
  for (const [, service] of systemdServices(d)) {
    for (const delivery of secretDeliveries(d, service)) {
      if (seen.has(delivery.name)) continue;
      seen.add(delivery.name);
      const secret = delivery.secret;
      const source = secretSourceOf(secret);
      secrets.push({
        name: delivery.name,
        how: source.how,
        length: source.how === "generate" ? source.length : DEFAULT_SECRET_LENGTH,
        charset: SECRET_ALPHABETS[source.how === "generate" ? source.charset : "alnum"],
        prompt: `Value of secret ${delivery.name}${secret?.description === undefined ? "" : ` (${secret.description})`}`,
      });
    }
  }
  return secrets;
}

function pythonCandidates(version: string | undefined): string[] {
  const match = /^(\d+)\.(\d+)/.exec(version ?? "");
  return match ? [`python${match[1]}.${match[2]}`, "python3"] : ["python3"];
}

function rsyncExcludes(target: SystemdTarget, context: string, python: boolean, node: boolean): string[] {
  const excludes = ["--exclude=/.git/"];
  if (context === ".") excludes.push(`--exclude=/${SECRETS_DIR}/`);
  const venv = venvOf(target);
  if (python && isWithin(venv, target.installDir) && venv !== target.installDir) {
    excludes.push(`--exclude=/${venv.slice(target.installDir.length + 1)}/`);
  }
  if (node) excludes.push("--exclude=/node_modules/");
  return excludes;
}

function scriptContext(d: Descriptor, target: SystemdTarget): Record<string, unknown> {
  const services = systemdServices(d);
  const layout = hostLayout(d);
  const first = services[0]?.[1];
  const runtimes = new Set(services.map(([, s]) => s.build?.runtime ?? "generic"));
  const python = runtimes.has("python");
  const node = runtimes.has("node");
  const context = first ? codeContext(first) : ".";
  const pythonService = services.find(([, s]) => s.build?.runtime === "python")?.[1];
  const nodeService = services.find(([, s]) => s.build?.runtime === "node")?.[1];
  const candidates = pythonCandidates(pythonService?.build?.version);
  const requirements = pythonService?.build?.requirements;
  // A console script that is not a requirement comes from the project itself.
  const installPackage = services.some(([, s]) => {
    const program = declaredArgv(s).argv[0] ?? "";
    return s.build?.runtime === "python" && !program.startsWith("/") && !/^python/.test(program);
  });
  const secrets = scriptSecrets(d);
  const units = services.map(([name]) => unitName(d, name));
  const folders: string[] = [];
  for (const [, service] of services) for (const f of writableFolders(d, target, service)) if (!folders.includes(f)) folders.push(f);
  const labels = selinuxPortLabels(d);
  const venv = venvOf(target);
  return {
    project: d.name,
    installScript: INSTALL_SCRIPT,
    uninstallScript: UNINSTALL_SCRIPT,
    serviceUser: target.user,
    serviceGroup: groupOf(target),
    hasAdminGroup: target.adminGroup !== undefined,
    adminGroup: target.adminGroup ?? "",
    hasAdmins: (target.admins ?? []).length > 0,
    admins: target.admins ?? [],
    envGroup: target.adminGroup ?? "root",
    installDir: target.installDir,
    venv,
    venvOutside: python && !isWithin(venv, target.installDir),
    configDir: layout.configDir,
    credentialsDir: layout.credentialsDir,
    stateDir: layout.stateDir,
    logsDir: layout.logsDir,
    unitDir: SYSTEM_UNIT_DIR,
    polkitRule: layout.polkitRule,
    nologinShell: NOLOGIN_SHELL,
    sourceDir: context,
    sourceIsRoot: context === ".",
    excludes: rsyncExcludes(target, context, python, node),
    python,
    pythonCandidates: candidates,
    firstPythonCandidate: candidates[0] ?? "python3",
    // Only digits reach the script's messages: a version is free text in deploy.yaml.
    pythonVersion: /^\d+(?:\.\d+)?/.exec(pythonService?.build?.version ?? "")?.[0] ?? "3",
    hasRequirements: requirements !== undefined,
    requirements: requirements ?? "",
    installPackage,
    node,
    nodeBinary: NODE_BINARY,
    nodeVersion: /^\d+/.exec(nodeService?.build?.version ?? "")?.[0] ?? "",
    writableFolders: folders,
    hasWritableFolders: folders.length > 0,
    hasSecrets: secrets.length > 0,
    secrets,
    hasVariableSecrets: services.some(([, s]) => secretDeliveries(d, s).some((x) => x.route === "variable")),
    services: services.map(([name, service]) => {
      const variables = secretDeliveries(d, service).filter((x) => x.route === "variable");
      return {
        name,
        unit: unitName(d, name),
        unitSource: unitPath(d, name),
        envSource: unitEnvSource(d, target),
        envTarget: serviceEnvFile(d, name),
        hasVariableSecrets: variables.length > 0,
        secretsEnvFile: serviceSecretsEnvFile(d, name),
        variableSecrets: variables.map((v) => `${v.key}=${v.name}`),
      };
    }),
    units,
    selinux: target.selinux === true,
    hasPortLabels: labels.length > 0,
    portLabels: labels,
    checkCommands: units.flatMap((u) => [`systemctl status ${u}`, `journalctl -u ${u} -f`]),
  };
}

function planSystemd(d: Descriptor): PlannedFile[] {
  const target = targetOf(d);
  const files: PlannedFile[] = systemdServices(d).map(([name, service]) => ({
    path: unitPath(d, name),
    kind: "systemd-unit",
    purpose: `Hardened systemd unit of ${name}`,
    template: "systemd/unit",
    context: unitContext(d, target, name, service),
  }));
  const context = scriptContext(d, target);
  // shellcheck notes every single-quoted `$` as a possible mistake; in values from deploy.yaml it is meant literally.
  context["literalDollar"] = /[$`]/.test(JSON.stringify(context));
  files.push({
    path: INSTALL_SCRIPT,
    kind: "shell",
    executable: true,
    purpose: "Installs account, folders, code, secrets, env files and units; safe to re-run (--dry-run shows the commands)",
    template: "systemd/install",
    context,
  });
  files.push({
    path: UNINSTALL_SCRIPT,
    kind: "shell",
    executable: true,
    purpose: "Stops and removes the units; keeps code, configuration, secrets and data unless --purge",
    template: "systemd/uninstall",
    context,
  });
  return files;
}

function folderRows(d: Descriptor, target: SystemdTarget): string[][] {
  const layout = hostLayout(d);
  const group = groupOf(target);
  const envGroup = target.adminGroup ?? "root";
  const services = systemdServices(d);
  const rows: string[][] = [
    [target.installDir, "root:root", "0755", "The code (read-only to the service)"],
  ];
  const venv = venvOf(target);
  if (services.some(([, s]) => s.build?.runtime === "python")) rows.push([venv, "root:root", "0755", "The Python venv the units run"]);
  rows.push([layout.configDir, "root:root", "0755", "Configuration"]);
  for (const [name] of services) rows.push([serviceEnvFile(d, name), `root:${envGroup}`, "0640", `Clear settings of ${name}`]);
  for (const [name, service] of services) {
    if (secretDeliveries(d, service).some((s) => s.route === "variable")) {
      rows.push([serviceSecretsEnvFile(d, name), "root:root", "0600", `Secrets ${name} reads as variables`]);
    }
  }
  rows.push([layout.credentialsDir, "root:root", "0700", "Every secret's value, one file each (0600)"]);
  rows.push([layout.stateDir, `${target.user}:${group}`, "0750", "Data the service keeps (StateDirectory=)"]);
  rows.push([layout.logsDir, `${target.user}:${group}`, "0750", "Log files, if the program writes any (LogsDirectory=)"]);
  const seen = new Set<string>();
  for (const [, service] of services) {
    for (const folder of writableFolders(d, target, service)) {
      if (seen.has(folder)) continue;
      seen.add(folder);
      rows.push([folder, `${target.user}:${group}`, "0750", "Written by the service (ReadWritePaths=)"]);
    }
  }
  return rows;
}

function secretRows(d: Descriptor): string[][] {
  const rows: string[][] = [];
  const seen = new Set<string>();
  for (const [name, service] of systemdServices(d)) {
    for (const delivery of secretDeliveries(d, service)) {
      const how =
        delivery.route === "variable"
          ? `variable \`${delivery.key}\` from \`${serviceSecretsEnvFile(d, name)}\``
          : `credential; its path is in \`${delivery.key}\``;
      const key = `${delivery.name}/${name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      rows.push([delivery.name, name, how, delivery.credential]);
    }
  }
  return rows;
}

interface PortHint {
  port: number;
  protocol: string;
  service: string;
  privileged: boolean;
  exposure: string;
  label: string;
  labelled: boolean;
}

function portHints(d: Descriptor): PortHint[] {
  const labels = selinuxPortLabels(d);
  const hints: PortHint[] = [];
  for (const [name, service] of systemdServices(d)) {
    for (const port of service.ports ?? []) {
      const protocol = port.protocol ?? "tcp";
      const label = labels.find((l) => l.port === port.port);
      hints.push({
        port: port.port,
        protocol,
        service: name,
        privileged: port.port < 1024,
        exposure: exposureOf(port),
        label: label?.type ?? defaultPortType(port.port),
        labelled: label !== undefined,
      });
    }
  }
  return hints;
}

function runbookSystemd(d: Descriptor): RunbookSection[] {
  const target = targetOf(d);
  const services = systemdServices(d);
  const units = services.map(([name, service]) => {
    const tcp = service.healthcheck?.tcp?.port;
    const http = service.healthcheck?.http;
    return {
      name,
      unit: unitName(d, name),
      hasTcpCheck: tcp !== undefined,
      tcpCheck: tcp === undefined ? "" : `ss -ltn 'sport = :${tcp}'`,
      hasHttpCheck: http !== undefined,
      httpCheck: http === undefined ? "" : `curl -fsS http://127.0.0.1:${http.port}${http.path}`,
    };
  });
  const first = units[0]?.unit ?? "";
  const layout = hostLayout(d);
  const deliveries = services.flatMap(([, s]) => secretDeliveries(d, s));
  const ports = portHints(d);
  const privileged = ports.filter((p) => p.privileged);
  const secretsRows = secretRows(d);
  const python = services.some(([, s]) => s.build?.runtime === "python");
  const common = {
    project: d.name,
    installScript: INSTALL_SCRIPT,
    uninstallScript: UNINSTALL_SCRIPT,
    user: target.user,
    group: groupOf(target),
    hasAdminGroup: target.adminGroup !== undefined,
    adminGroup: target.adminGroup ?? "",
    admins: (target.admins ?? []).join(", "),
    hasAdmins: (target.admins ?? []).length > 0,
    installDir: target.installDir,
    venv: venvOf(target),
    python,
    units,
    firstUnit: first,
    unitList: units.map((u) => `\`${u.unit}\``).join(", "),
    serviceSummary:
      units.length === 1
        ? `The service \`${units[0]?.name ?? ""}\` runs as the unit \`${first}\``
        : `The services run as the units ${units.map((u) => `\`${u.unit}\``).join(", ")}`,
    envSource: unitEnvSource(d, target),
    environment: unitEnvironment(d, target),
    envTarget: serviceEnvFile(d, services[0]?.[0] ?? ""),
    configDir: layout.configDir,
    credentialsDir: layout.credentialsDir,
    stateDir: layout.stateDir,
    logsDir: layout.logsDir,
    polkitRule: layout.polkitRule,
    secretsDir: SECRETS_DIR,
    exampleSecret: secretFilePath(deliveries[0]?.name ?? "NAME"),
  };
  const selinuxLabels = selinuxPortLabels(d);
  return [
    {
      id: "systemd-install",
      title: "Install with systemd",
      order: 50,
      template: "systemd/section-install",
      context: {
        ...common,
        foldersTable: formatTable(["Path", "Owner", "Mode", "Holds"], folderRows(d, target), { code: [0, 1, 2] }),
        hasSecrets: secretsRows.length > 0,
        secretsTable: formatTable(["Secret", "Service", "Delivered as", "Stored in"], secretsRows, { code: [0, 1, 3] }),
        hasVariableSecrets: deliveries.some((s) => s.route === "variable"),
        hasCredentialSecrets: deliveries.some((s) => s.route === "credential"),
        selinux: target.selinux === true,
        hasPortLabels: selinuxLabels.length > 0,
      },
    },
    {
      id: "systemd-operate",
      title: "Run the systemd services",
      order: 70,
      template: "systemd/section-operate",
      context: common,
    },
    {
      id: "systemd-troubleshoot",
      title: "Troubleshooting the systemd services",
      order: 80,
      template: "systemd/section-troubleshoot",
      context: {
        ...common,
        hasPrivilegedPorts: privileged.length > 0,
        privilegedPorts: privileged.map((p) => `${p.port}/${p.protocol}`).join(", "),
        firstPrivilegedPort: privileged[0]?.port ?? 0,
        hasPorts: ports.length > 0,
        ports: ports.map((p) => ({ ...p, hasLabelCommand: true })),
        firewall: d.targets?.firewall !== undefined,
        firstPort: ports[0]?.port ?? 0,
        firstProtocol: ports[0]?.protocol ?? "tcp",
        selinux: target.selinux === true,
        hasSelinuxLabels: selinuxLabels.length > 0,
        selinuxLabels,
        unconfinedPorts: ports.filter((p) => !p.labelled),
        hasUnconfinedPorts: ports.some((p) => !p.labelled),
      },
    },
  ];
}

export const systemdKind: ArtifactKind = {
  name: "systemd",
  enabled: (d) => d.targets?.systemd !== undefined,
  check: checkSystemd,
  plan: planSystemd,
  runbook: runbookSystemd,
};
