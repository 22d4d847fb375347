// Rules only the systemd kind cares about: what a native service on one host cannot do
// (container-only fields), paths a unit can carry without quoting, and accounts that
// would undo the isolation (root, or admins sharing the service's group).
import type { Descriptor, Service, SystemdTarget } from "../../model/descriptor.js";
import { isScalar } from "../../model/derive.js";
import { joinPointer } from "../../problems.js";
import type { RuleProblem } from "../types.js";
import {
  UNIT_PATH,
  boundPaths,
  codeContext,
  declaredArgv,
  privilegedPorts,
  reservedPathReason,
  resolveProgram,
  systemdServices,
} from "./model.js";

type Segment = string | number;

function problem(segments: readonly Segment[], message: string, hint?: string): RuleProblem {
  return { pointer: joinPointer(segments), message, ...(hint === undefined ? {} : { hint }) };
}

const PATH_HINT = "use letters, digits and . _ - @ + only, e.g. /opt/NAME";

function checkPath(found: RuleProblem[], at: Segment[], path: string): void {
  if (!UNIT_PATH.test(path)) {
    found.push(problem(at, `${JSON.stringify(path)} cannot go into a systemd unit unquoted: a path there may hold only letters, digits and . _ - @ +`, PATH_HINT));
  }
}

function checkAccounts(target: SystemdTarget): RuleProblem[] {
  const found: RuleProblem[] = [];
  const base = ["targets", "systemd"];
  const group = target.group ?? target.user;
  if (group === "root") found.push(problem([...base, "group"], "the service must not run with group root", "use a group of its own, e.g. the user's name"));
  if (target.adminGroup !== undefined) {
    if (target.adminGroup === "root") found.push(problem([...base, "adminGroup"], "adding admins to group root would give them root's files", "use a group of its own, e.g. NAMEadmin"));
    else if (target.adminGroup === group) {
      found.push(problem([...base, "adminGroup"], `is the service's own group ${JSON.stringify(group)}: admins would share the service's files and the service their rights`, "use a separate group, e.g. NAMEadmin"));
    }
  }
  (target.admins ?? []).forEach((admin, index) => {
    if (admin === "root" || admin === target.user) {
      found.push(problem([...base, "admins", index], `${JSON.stringify(admin)} is not a person who maintains the service`, "list the login accounts of the maintainers"));
    }
  });
  if (target.admins !== undefined && target.admins.length > 0 && target.adminGroup === undefined) {
    found.push(problem([...base, "admins"], "admins are added to adminGroup, which is not set", "add adminGroup, e.g. NAMEadmin"));
  }
  return found;
}

function checkFolders(target: SystemdTarget): RuleProblem[] {
  const found: RuleProblem[] = [];
  const base = ["targets", "systemd"];
  const folders: Array<[string, string | undefined]> = [
    ["installDir", target.installDir],
    ["venv", target.venv],
  ];
  for (const [key, path] of folders) {
    if (path === undefined) continue;
    checkPath(found, [...base, key], path);
    const reason = reservedPathReason(path);
    if (reason !== undefined) found.push(problem([...base, key], `${JSON.stringify(path)} ${reason}`, "use /opt/NAME or /srv/NAME"));
  }
  if (target.venv !== undefined && target.venv === target.installDir) {
    found.push(problem([...base, "venv"], "the venv cannot be the install directory itself: copying the code would delete it", "use INSTALL_DIR/venv"));
  }
  return found;
}

/** Container features a unit on one host has no equivalent for. */
const CONTAINER_ONLY: ReadonlyArray<[keyof Service, string]> = [
  ["gpu", "GPU reservations are a container feature; the unit's PrivateDevices= hides /dev"],
  ["privileged", "a privileged container has no unit equivalent, and the unit is hardened"],
  ["capAdd", "the unit drops every capability (a port below 1024 gets CAP_NET_BIND_SERVICE by itself)"],
  ["tmpfs", "the unit has a private /tmp (PrivateTmp=); other tmpfs mounts are a container feature"],
  ["networks", "container networks do not reach a service on the host"],
  ["user", "every unit runs as targets.systemd.user"],
];

function checkService(target: SystemdTarget, name: string, service: Service): RuleProblem[] {
  const found: RuleProblem[] = [];
  const at = (...rest: Segment[]): Segment[] => ["services", name, ...rest];
  for (const [key, why] of CONTAINER_ONLY) {
    if (service[key] !== undefined) found.push(problem(at(key), `a systemd service cannot use ${key}: ${why}`, "remove it, or run the service as a container"));
  }
  if (service.replicas !== undefined && service.replicas > 1) {
    found.push(problem(at("replicas"), "a systemd unit runs one instance", "set replicas: 1, or run the service as a container"));
  }
  if (service.description?.endsWith("\\")) {
    found.push(problem(at("description"), "a description ending in \\ would continue onto the next line of the unit", "remove the trailing backslash"));
  }

  const { argv, pointer } = declaredArgv(service);
  const program = argv[0];
  if (program === undefined) found.push(problem(at(...pointer), "a systemd service needs a program to run"));
  else {
    const resolved = resolveProgram(target, service, program);
    if (!resolved.ok) found.push(problem(at(...pointer, 0), resolved.message, resolved.hint));
  }

  if (service.workingDir !== undefined) checkPath(found, at("workingDir"), service.workingDir);
  const bound = boundPaths(target, service);
  let boundIndex = 0;
  (service.mounts ?? []).forEach((mount, index) => {
    if (mount.hostPath === undefined) return;
    const source = bound[boundIndex++]?.source ?? mount.hostPath;
    checkPath(found, at("mounts", index, "hostPath"), source);
    if (source !== mount.target) {
      found.push(
        problem(at("mounts", index, "target"), `a service on the host sees ${source} where it is; it cannot appear at ${mount.target}`, `set target to ${source}, or point the program at ${source}`),
      );
    }
  });

  for (const [key, value] of Object.entries(service.environment ?? {})) {
    if (isScalar(value)) continue;
    const kind = "hostOf" in value ? "hostOf" : "fromHost";
    found.push(problem(at("environment", key, kind), `a systemd service reads its variables from the env file; ${kind} has no value there`, "give a plain value"));
  }

  (service.ports ?? []).forEach((port, index) => {
    if (port.published !== undefined && port.published !== port.port) {
      found.push(problem(at("ports", index, "published"), "a service on the host listens on its port directly; there is no port mapping", `remove published, or make the program listen on ${port.published}`));
    }
  });

  (service.secrets ?? []).forEach((ref, index) => {
    if (typeof ref === "string") return;
    for (const key of ["target", "uid", "gid", "mode"] as const) {
      if (ref[key] !== undefined) {
        found.push(problem(at("secrets", index, key), `${key} places a secret file in a container; a unit gets it as a credential or variable`, "give the secret's name only"));
      }
    }
  });

  return found;
}

export function checkSystemd(d: Descriptor): RuleProblem[] {
  const target = d.targets?.systemd;
  if (!target) return [];
  const services = systemdServices(d);
  const found = [...checkAccounts(target), ...checkFolders(target)];
  for (const [name, service] of services) found.push(...checkService(target, name, service));
  const privileged = services.find(([, s]) => privilegedPorts(s).length > 0);
  if (target.privateUsers === true && privileged) {
    const port = privilegedPorts(privileged[1])[0]?.port ?? 0;
    found.push(
      problem(["targets", "systemd", "privateUsers"], `services.${privileged[0]} binds port ${port}, below 1024: in a private user namespace CAP_NET_BIND_SERVICE does not reach the host's network`, "remove privateUsers, or use a port from 1024 up"),
    );
  }
  // One install directory holds one code tree.
  const first = services[0];
  if (first) {
    for (const [name, service] of services.slice(1)) {
      if (codeContext(service) !== codeContext(first[1])) {
        found.push(problem(["services", name, "build", "context"], `differs from services.${first[0]}.build.context; every unit runs the code in ${target.installDir}`, "use the same context for every systemd service"));
      }
    }
  }
  return found;
}
