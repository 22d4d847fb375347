// Shared by the compose and swarm tests: running the pipeline on a descriptor given as an
// object, reading compose interpolation the way compose does, and fast-check arbitraries
// of container deployments full of characters that need escaping.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { parse, stringify } from "yaml";
import { kinds } from "../../src/kinds/index.js";
import { parseDescriptor } from "../../src/load.js";
import type { Descriptor } from "../../src/model/descriptor.js";
import { planFiles } from "../../src/plan.js";
import type { Problem } from "../../src/problems.js";
import { renderFiles, type RenderedFile } from "../../src/render/index.js";
import { validateDescriptor } from "../../src/validate/index.js";

export interface Generated {
  problems: Problem[];
  descriptor?: Descriptor;
  files: Map<string, RenderedFile>;
}

/** load → validate → plan → render, as `generate` does, from a descriptor object. */
export function generate(value: unknown): Generated {
  const parsed = parseDescriptor(stringify(value), "deploy.yaml");
  const result = validateDescriptor(parsed, "deploy.yaml", kinds);
  if (!result.descriptor) return { problems: result.problems, files: new Map() };
  const files = renderFiles(planFiles(result.descriptor), { descriptorFile: "deploy.yaml" });
  return { problems: [], descriptor: result.descriptor, files: new Map(files.map((f) => [f.path, f])) };
}

/** The committed example `name`, generated; its descriptor must be valid. */
export function generateExample(name: string): Generated {
  const text = readFileSync(join(import.meta.dirname, "..", "..", "examples", name, "deploy.yaml"), "utf8");
  const generated = generate(parse(text));
  if (generated.problems.length > 0) throw new Error(generated.problems.map((p) => `${p.pointer}: ${p.message}`).join("\n"));
  return generated;
}

/** Service `name` of a parsed compose or stack file. */
export function serviceIn(document: Record<string, unknown>, name: string): Record<string, unknown> {
  const service = (document["services"] as Record<string, Record<string, unknown>>)[name];
  if (!service) throw new Error(`no service ${name}`);
  return service;
}

export function contentOf(generated: Generated, path: string): string {
  const file = generated.files.get(path);
  if (!file) throw new Error(`${path} was not generated; got ${[...generated.files.keys()].join(", ")}`);
  return file.content;
}

/**
 * Compose's interpolation, written from its documentation: `$$` is a literal `$`;
 * `${VAR}`, `${VAR-d}`, `${VAR:-d}`, `${VAR?e}`, `${VAR:?e}`. A missing required variable throws.
 */
export function interpolate(text: string, variables: Record<string, string | undefined>): string {
  let out = "";
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i];
    if (ch !== "$") {
      out += ch;
      continue;
    }
    const next = text[i + 1];
    if (next === "$") {
      out += "$";
      i += 1;
      continue;
    }
    if (next !== "{") throw new Error(`unescaped $ at ${i} in ${JSON.stringify(text)}`);
    const end = text.indexOf("}", i);
    if (end < 0) throw new Error(`unterminated \${ in ${JSON.stringify(text)}`);
    const body = text.slice(i + 2, end);
    const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])(.*))?$/.exec(body);
    if (!match || match[1] === undefined) throw new Error(`bad interpolation \${${body}}`);
    const value = variables[match[1]];
    const operator = match[2];
    const unset = operator?.startsWith(":") ? value === undefined || value === "" : value === undefined;
    if (operator === undefined) out += value ?? "";
    else if (operator.endsWith("-")) out += unset ? (match[3] ?? "") : (value ?? "");
    else if (unset) throw new Error(`required variable ${match[1]} is missing: ${match[3] ?? ""}`);
    else out += value ?? "";
    i = end;
  }
  return out;
}

/** Text that must come out of every generated file exactly as written: shell, YAML, compose and dotenv specials. */
export const NASTY = [
  "plain",
  "two words",
  "$HOME",
  "$$",
  "${HOME}",
  "${X:-y}",
  "#not a comment",
  "a #b",
  "semi;colon",
  "$(rm -rf /)",
  "`id`",
  '"double"',
  "ünïcødé ✓ 日本",
  "%d %%",
  "a: b",
  "- dash",
  "*",
  "{}",
  "[x]",
  "!tag",
  "&anchor",
  "yes",
  "no",
  "0400",
  "~",
  "",
];

const printable = fc.constantFrom(..."abcXYZ09 $#;:'\"`\\{}[]()!&*%|<>?=~-_/.,@^ü✓日".split(""));

/** A one-line value with quotes and backslashes: fine in a command, refused in env files. */
export const anyText = fc.oneof(fc.constantFrom(...NASTY), fc.string({ unit: printable, maxLength: 12 }));
/** A value an env file can hold: no ' or \ (validation sends those to secrets). */
export const envText = anyText.filter((s) => !/['\\]/.test(s));

const argvArb = fc
  .array(anyText, { minLength: 1, maxLength: 4 })
  .map((args) => (args[0] === "" ? ["run", ...args.slice(1)] : args));

interface RawService {
  built: boolean;
  /** Run the previous service's image when that one is built. */
  shareImage: boolean;
  type: "web" | "worker" | "database" | "cache" | "other";
  command: string[] | null;
  env: Array<string | number | boolean>;
  fromHost: string | null;
  exposures: Array<"internal" | "local" | "public" | "cluster">;
  volume: boolean;
  bind: "none" | "ro" | "rw" | "relative-ro";
  secret: boolean;
  health: "none" | "command" | "http";
  user: "none" | "host" | "numeric";
  readOnly: boolean;
  capAdd: boolean;
  gpu: boolean;
  node: number;
  dependsOnPrevious: "none" | "started" | "healthy";
  hostOfPrevious: boolean;
  network: "none" | "a" | "b" | "both";
  swarm: boolean;
  replicas: number;
}

const rawService = fc.record<RawService>({
  built: fc.boolean(),
  shareImage: fc.boolean(),
  type: fc.constantFrom("web", "worker", "database", "cache", "other"),
  command: fc.option(argvArb, { nil: null }),
  env: fc.array(fc.oneof(envText, fc.integer({ min: -5, max: 99999 }), fc.boolean()), { maxLength: 3 }),
  fromHost: fc.option(
    envText.filter((s) => !/[$}]/.test(s)),
    { nil: null },
  ),
  exposures: fc.array(fc.constantFrom("internal", "local", "public", "cluster"), { maxLength: 2 }),
  volume: fc.boolean(),
  bind: fc.constantFrom("none", "ro", "rw", "relative-ro"),
  secret: fc.boolean(),
  health: fc.constantFrom("none", "command", "http"),
  user: fc.constantFrom("none", "host", "numeric"),
  readOnly: fc.boolean(),
  capAdd: fc.boolean(),
  gpu: fc.boolean(),
  node: fc.nat({ max: 2 }),
  dependsOnPrevious: fc.constantFrom("none", "started", "healthy"),
  hostOfPrevious: fc.boolean(),
  network: fc.constantFrom("none", "a", "b", "both"),
  swarm: fc.boolean(),
  replicas: fc.integer({ min: 1, max: 3 }),
});

export interface Variation {
  target: "compose" | "swarm";
  overlays: boolean;
  nodeCount: number;
  environments: number;
  encrypted: boolean;
  mtu: number | null;
  services: RawService[];
  overrides: Array<string | number | boolean>;
  secretCharset: "alnum" | "hex" | "base64" | "ask";
}

export const variationArb = (target: "compose" | "swarm"): fc.Arbitrary<Variation> =>
  fc.record<Variation>({
    target: fc.constant(target),
    overlays: fc.boolean(),
    nodeCount: target === "swarm" ? fc.integer({ min: 1, max: 3 }) : fc.nat({ max: 3 }),
    environments: fc.integer({ min: 1, max: 2 }),
    encrypted: fc.boolean(),
    mtu: fc.option(fc.integer({ min: 1280, max: 9000 }), { nil: null }),
    services: fc.array(rawService, { minLength: 1, maxLength: 4 }),
    overrides: fc.array(fc.oneof(envText, fc.integer(), fc.boolean()), { maxLength: 2 }),
    secretCharset: fc.constantFrom("alnum", "hex", "base64", "ask"),
  });

/** A descriptor from the raw choices, made consistent so that validation accepts it. */
export function descriptorOf(v: Variation): Record<string, unknown> {
  const swarm = v.target === "swarm";
  const nodeNames = Array.from({ length: v.nodeCount }, (_, i) => `node-${i}`);
  const nodes = Object.fromEntries(
    nodeNames.map((name, i) => [
      name,
      {
        address: `10.9.0.${i + 1}`,
        hostname: `host-${i}`,
        roles: [`role-${i}`],
        ...(i === 0 && swarm ? { manager: true } : {}),
      },
    ]),
  );
  const names = v.services.map((_, i) => `svc-${i}`);
  const services: Record<string, Record<string, unknown>> = {};
  const secrets: Record<string, unknown> = {};
  const volumes: Record<string, unknown> = {};
  let port = 2000;
  v.services.forEach((raw, i) => {
    const name = names[i] ?? "svc";
    // Swarm has no GPU devices and no host user; such services run beside the stack.
    const outsideSwarm = swarm && (raw.gpu || !raw.swarm);
    const inSwarm = swarm && !outsideSwarm;
    const s: Record<string, unknown> = { type: raw.type };
    const previousRaw = i > 0 ? v.services[i - 1] : undefined;
    const shared = !raw.built && raw.shareImage && previousRaw?.built === true;
    const python = raw.built || shared;
    if (raw.built) s["build"] = { runtime: "python", command: ["python", "-m", "app"] };
    else if (shared) s["imageOf"] = names[i - 1];
    else s["image"] = raw.type === "database" ? "postgres:16.4-bookworm" : "nginxinc/nginx-unprivileged:1.27-alpine";
    if (raw.command) s["command"] = raw.command;
    const environment: Record<string, unknown> = {};
    raw.env.forEach((value, j) => (environment[`K${i}_${j}`] = value));
    if (raw.fromHost !== null) environment[`FROM_HOST_${i}`] = { fromHost: `HOST_VALUE_${i}`, default: raw.fromHost };
    const previous = i > 0 ? v.services[i - 1] : undefined;
    const previousInSwarm = swarm && previous !== undefined && !(previous.gpu || !previous.swarm);
    if (raw.hostOfPrevious && previous !== undefined && (!swarm || previousInSwarm === inSwarm))
      environment[`PEER_${i}`] = { hostOf: names[i - 1] };
    if (Object.keys(environment).length > 0) s["environment"] = environment;
    const exposures = raw.exposures.map((e) => (inSwarm && e === "local" ? "internal" : e));
    if (exposures.length > 0) {
      s["ports"] = exposures.map((exposure) => {
        port += 1;
        return { port, exposure, ...(exposure === "cluster" && v.nodeCount === 0 ? { address: "10.9.9.9" } : {}) };
      });
    }
    const mounts: Array<Record<string, unknown>> = [];
    if (raw.volume) {
      volumes[`vol-${i}`] =
        i % 2 === 0 ? {} : { nfs: { server: "10.9.0.200", path: `/export/${name}`, options: "rw,nfsvers=4.1" } };
      mounts.push({ volume: `vol-${i}`, target: "/data" });
    }
    if (raw.bind === "ro" || raw.bind === "rw")
      mounts.push({ hostPath: `/srv/${name} data/$x`, target: "/srv/in", readOnly: raw.bind === "ro" });
    if (raw.bind === "relative-ro")
      mounts.push({ hostPath: `./conf/${name}.conf`, target: "/etc/app.conf", readOnly: true });
    if (mounts.length > 0) s["mounts"] = mounts;
    if (raw.secret) {
      secrets[`secret-${i}`] =
        v.secretCharset === "ask" ? { generate: false } : { generate: { length: 16 + i, charset: v.secretCharset } };
      s["secrets"] = i % 2 === 0 ? [`secret-${i}`] : [{ source: `secret-${i}`, target: `target_${i}` }];
    }
    if (raw.health === "command" || (raw.health === "http" && !python))
      s["healthcheck"] = { command: ["sh", "-c", 'test -e /tmp/ok || exit 1 # $$ "q"'], interval: "10s" };
    else if (raw.health === "http" && exposures.length > 0) {
      const first = (s["ports"] as Array<{ port: number }>)[0];
      s["healthcheck"] = { http: { path: "/health?x=$y&z='1'", port: first?.port ?? 80 }, retries: 3 };
    }
    if (raw.user === "host" && !inSwarm) s["user"] = "host";
    else if (raw.user === "numeric") s["user"] = "10001:10001";
    if (raw.readOnly) s["readOnly"] = true;
    if (raw.readOnly) s["tmpfs"] = ["/tmp"];
    if (raw.capAdd) s["capAdd"] = ["NET_BIND_SERVICE", "CAP_CHOWN"];
    if (raw.gpu)
      s["gpu"] = i % 2 === 0 ? { count: 1 } : { deviceIds: ["0", "GPU-1"], capabilities: ["gpu", "compute"] };
    if (outsideSwarm) s["swarm"] = false;
    if (inSwarm) s["replicas"] = raw.replicas;
    if (v.nodeCount > 0) s["roles"] = [`role-${raw.node % v.nodeCount}`];
    if (previous !== undefined && raw.dependsOnPrevious !== "none" && (!swarm || previousInSwarm === inSwarm)) {
      const previousPython =
        previous.built || (!previous.built && previous.shareImage && i > 1 && v.services[i - 2]?.built === true);
      const healthy =
        raw.dependsOnPrevious === "healthy" &&
        previous.health !== "none" &&
        (previous.health === "command" || !previousPython || previous.exposures.length > 0);
      s["dependsOn"] = [healthy ? { service: names[i - 1], condition: "healthy" } : names[i - 1]];
    }
    if (raw.network !== "none") s["networks"] = raw.network === "both" ? ["net-a", "net-b"] : [`net-${raw.network}`];
    services[name] = s;
  });
  // A service another one reaches across nodes must publish a port to the cluster.
  for (const [name, service] of Object.entries(services)) {
    for (const value of Object.values((service["environment"] as Record<string, unknown> | undefined) ?? {})) {
      if (typeof value !== "object" || value === null || !("hostOf" in value)) continue;
      const target = services[(value as { hostOf: string }).hostOf];
      if (!target) continue;
      const ports = (target["ports"] as Array<Record<string, unknown>> | undefined) ?? [];
      if (ports.length === 0) {
        port += 1;
        target["ports"] = [{ port, exposure: "cluster", ...(v.nodeCount === 0 ? { address: "10.9.9.9" } : {}) }];
      } else if (!ports.some((p) => p["exposure"] === "cluster" || p["exposure"] === "public")) {
        const first = ports[0];
        if (first) {
          first["exposure"] = "cluster";
          if (v.nodeCount === 0) first["address"] = "10.9.9.9";
        }
      }
      void name;
    }
  }
  const environments: Record<string, unknown> = {};
  const firstKey = Object.keys((services["svc-0"]?.["environment"] as Record<string, unknown> | undefined) ?? {}).find(
    (k) => k.startsWith("K"),
  );
  for (let e = 0; e < v.environments; e += 1) {
    const override = v.overrides[e];
    environments[e === 0 ? "prod" : "staging"] =
      firstKey !== undefined && override !== undefined ? { values: { [firstKey]: override } } : {};
  }
  const descriptor: Record<string, unknown> = {
    name: "proj",
    registry: { host: "ghcr.io", namespace: "lab" },
    services,
    networks: {
      "net-a": { internal: true, ...(v.mtu !== null ? { mtu: v.mtu } : {}) },
      "net-b": {},
      ...(swarm ? { "overlay-net": { attachable: true, encrypted: v.encrypted } } : {}),
    },
    environments,
    targets: swarm ? { swarm: { network: "overlay-net" } } : { compose: v.overlays ? { overlays: "nodes" } : {} },
  };
  if (v.nodeCount > 0) descriptor["nodes"] = nodes;
  if (Object.keys(secrets).length > 0) descriptor["secrets"] = secrets;
  if (Object.keys(volumes).length > 0) descriptor["volumes"] = volumes;
  if (!swarm && v.overlays && v.nodeCount === 0) (descriptor["targets"] as Record<string, unknown>)["compose"] = {};
  return descriptor;
}
