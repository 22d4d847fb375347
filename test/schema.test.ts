// The descriptor schema is what users read in their editor and what every deploy.yaml
// passes before anything is generated. These tests hold it to its promises: the real
// examples pass, bad input fails at the right place, every field is documented, the
// patterns keep control characters out, and it cannot drift from src/model/descriptor.ts.
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import precompiledValidate from "../generated/validate-descriptor.js";

type Schema = { [keyword: string]: unknown };

const schema = JSON.parse(readFileSync(new URL("../schemas/deploy.schema.json", import.meta.url), "utf8")) as Schema;
const SCHEMA_ID = schema.$id as string;
const defs = schema.$defs as Record<string, Schema>;
const EXAMPLES = ["dicom-pipeline", "genui", "bids-flux", "mlops-api"] as const;

function newAjv(): Ajv2020 {
  return new Ajv2020({ strict: true, allErrors: true, coerceTypes: false, verbose: true });
}
const ajv = newAjv();
const validate = ajv.compile(schema);

function readExample(name: string): unknown {
  return parse(readFileSync(new URL(`../examples/${name}/deploy.yaml`, import.meta.url), "utf8"));
}

function errorsOf(data: unknown): ErrorObject[] {
  return validate(data) ? [] : (validate.errors ?? []);
}

function isSchema(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}

/**
 * Every subschema that describes values (not example or default data), with its JSON pointer.
 * `if` subschemas are left out: they only test a value's kind or a field to pick a branch.
 */
function* walkSchemas(node: unknown, pointer = ""): Generator<[string, Schema]> {
  if (!isSchema(node)) return;
  yield [pointer, node];
  for (const keyword of ["properties", "$defs", "dependentSchemas"]) {
    const children = node[keyword];
    if (isSchema(children)) {
      for (const [key, child] of Object.entries(children)) {
        yield* walkSchemas(child, `${pointer}/${keyword}/${escapePointer(key)}`);
      }
    }
  }
  for (const keyword of ["items", "additionalProperties", "propertyNames", "not", "then", "else"]) {
    yield* walkSchemas(node[keyword], `${pointer}/${keyword}`);
  }
  for (const keyword of ["allOf", "anyOf", "oneOf"]) {
    const branches = node[keyword];
    if (Array.isArray(branches)) {
      for (const [index, branch] of branches.entries()) yield* walkSchemas(branch, `${pointer}/${keyword}/${index}`);
    }
  }
}

function resolveRef(ref: string): Schema {
  expect(ref.startsWith("#/$defs/"), ref).toBe(true);
  const target = defs[ref.slice("#/$defs/".length)];
  if (!target) throw new Error(`dangling $ref ${ref}`);
  return target;
}

describe("the examples", () => {
  it.each(EXAMPLES)("%s/deploy.yaml is valid", (name) => {
    expect(errorsOf(readExample(name))).toEqual([]);
  });

  it.each(EXAMPLES)("the precompiled validator agrees on %s/deploy.yaml", (name) => {
    expect(precompiledValidate(readExample(name))).toBe(true);
  });
});

// A small valid descriptor; each negative case breaks exactly one thing in a copy of it.
const BASE = parse(`
name: shop
description: A web shop
cluster: { cidr: [10.0.0.0/24] }
services:
  web:
    image: ghcr.io/acme/shop:1.2.0
    ports:
      - { port: 8080, published: 443, exposure: public, address: 0.0.0.0 }
    environment:
      LOG_LEVEL: info
      DB_HOST: { hostOf: db }
    secrets: [db-password]
    mounts:
      - { hostPath: ./config, target: /etc/shop, readOnly: true }
    healthcheck: { http: { path: /health, port: 8080 }, interval: 30s }
    dependsOn: [{ service: db, condition: healthy }]
    replicas: 2
  db:
    image: postgres:16.4-bookworm
    secrets: [{ source: db-password, target: postgres_password, mode: 0o400 }]
    mounts:
      - { volume: pgdata, target: /var/lib/postgresql/data }
  worker:
    build: { runtime: python, command: [python, -m, shop.worker] }
secrets:
  db-password: { generate: { length: 32 } }
volumes:
  pgdata: {}
networks:
  backend: { internal: true, mtu: 1450 }
targets:
  docker: {}
  firewall: { backend: nftables, adminCidr: [10.0.0.0/16] }
  systemd: { user: shop, installDir: /opt/shop }
`) as Record<string, unknown>;

interface NegativeCase {
  name: string;
  change: (d: any) => void;
  instancePath: string;
  keyword: string;
  /** Title of the constraint that failed, for constraints users see by title. */
  title?: string;
}

const NEGATIVE_CASES: NegativeCase[] = [
  { name: "name is not a string", change: (d) => (d.name = 42), instancePath: "/name", keyword: "type" },
  { name: "name is not an identifier", change: (d) => (d.name = "Shop"), instancePath: "/name", keyword: "pattern" },
  {
    name: "service key is not an identifier",
    change: (d) => (d.services["Web_1"] = { image: "nginx:1.27" }),
    instancePath: "/services",
    keyword: "propertyNames",
  },
  { name: "unknown top-level key", change: (d) => (d.version = "3"), instancePath: "", keyword: "additionalProperties" },
  { name: "unknown service key", change: (d) => (d.services.web.expose = [80]), instancePath: "/services/web", keyword: "additionalProperties" },
  { name: "port above 65535", change: (d) => (d.services.web.ports[0].port = 70000), instancePath: "/services/web/ports/0/port", keyword: "maximum" },
  { name: "port 0", change: (d) => (d.services.web.ports[0].published = 0), instancePath: "/services/web/ports/0/published", keyword: "minimum" },
  { name: "port as a string (no coercion)", change: (d) => (d.services.web.ports[0].port = "8080"), instancePath: "/services/web/ports/0/port", keyword: "type" },
  { name: "unknown exposure", change: (d) => (d.services.web.ports[0].exposure = "world"), instancePath: "/services/web/ports/0/exposure", keyword: "enum" },
  { name: "bad bind address", change: (d) => (d.services.web.ports[0].address = "256.0.0.1"), instancePath: "/services/web/ports/0/address", keyword: "pattern" },
  { name: "newline in an env value", change: (d) => (d.services.web.environment.LOG_LEVEL = "info\nExecStartPre=/bin/sh"), instancePath: "/services/web/environment/LOG_LEVEL", keyword: "pattern" },
  { name: "NUL in a description", change: (d) => (d.description = "shop\u0000"), instancePath: "/description", keyword: "pattern" },
  { name: "DEL in a command argument", change: (d) => (d.services.worker.build.command[1] = "-m\u007f"), instancePath: "/services/worker/build/command/1", keyword: "pattern" },
  { name: "lower-case env key", change: (d) => (d.services.web.environment.log_level = "x"), instancePath: "/services/web/environment", keyword: "propertyNames" },
  { name: ".. in a host path", change: (d) => (d.services.web.mounts[0].hostPath = "./config/../../etc"), instancePath: "/services/web/mounts/0/hostPath", keyword: "pattern" },
  { name: "host path neither absolute nor ./", change: (d) => (d.services.web.mounts[0].hostPath = "config"), instancePath: "/services/web/mounts/0/hostPath", keyword: "pattern" },
  { name: "relative mount target", change: (d) => (d.services.web.mounts[0].target = "etc/shop"), instancePath: "/services/web/mounts/0/target", keyword: "pattern" },
  { name: ".. in a build context", change: (d) => (d.services.worker.build.context = "../other"), instancePath: "/services/worker/build/context", keyword: "pattern" },
  {
    name: "both image and build",
    change: (d) => (d.services.web.build = { runtime: "node", command: ["node", "server.js"] }),
    instancePath: "/services/web",
    keyword: "not",
    title: "image and build exclude each other",
  },
  {
    name: "none of image, build, imageOf",
    change: (d) => delete d.services.db.image,
    instancePath: "/services/db",
    keyword: "anyOf",
    title: "one of image, build, imageOf is required",
  },
  {
    name: "healthcheck with http and tcp",
    change: (d) => (d.services.web.healthcheck.tcp = { port: 8080 }),
    instancePath: "/services/web/healthcheck",
    keyword: "not",
    title: "http and tcp exclude each other",
  },
  {
    name: "mount with volume and hostPath",
    change: (d) => (d.services.db.mounts[0].hostPath = "/srv/pg"),
    instancePath: "/services/db/mounts/0",
    keyword: "not",
    title: "volume and hostPath exclude each other",
  },
  { name: "default without fromHost", change: (d) => (d.services.web.environment.DB_HOST.default = "localhost"), instancePath: "/services/web/environment/DB_HOST", keyword: "dependentRequired" },
  { name: "generic runtime without base", change: (d) => (d.services.worker.build.runtime = "generic"), instancePath: "/services/worker/build", keyword: "required" },
  { name: "bad image reference", change: (d) => (d.services.db.image = "Postgres:16 latest"), instancePath: "/services/db/image", keyword: "pattern" },
  { name: "bad duration", change: (d) => (d.services.web.healthcheck.interval = "30 seconds"), instancePath: "/services/web/healthcheck/interval", keyword: "pattern" },
  { name: "negative replicas", change: (d) => (d.services.web.replicas = -1), instancePath: "/services/web/replicas", keyword: "minimum" },
  { name: "fractional replicas", change: (d) => (d.services.web.replicas = 1.5), instancePath: "/services/web/replicas", keyword: "type" },
  { name: "mtu below 68", change: (d) => (d.networks.backend.mtu = 50), instancePath: "/networks/backend/mtu", keyword: "minimum" },
  { name: "secret shorter than 16", change: (d) => (d.secrets["db-password"].generate.length = 8), instancePath: "/secrets/db-password/generate/length", keyword: "minimum" },
  { name: "generate: true", change: (d) => (d.secrets["db-password"].generate = true), instancePath: "/secrets/db-password/generate", keyword: "const" },
  { name: "mode above 0o777", change: (d) => (d.services.db.secrets[0].mode = 0o1000), instancePath: "/services/db/secrets/0/mode", keyword: "maximum" },
  { name: "secret item not an identifier", change: (d) => (d.services.web.secrets[0] = "DB_PASSWORD"), instancePath: "/services/web/secrets/0", keyword: "pattern" },
  { name: "extra key in a dependency", change: (d) => (d.services.web.dependsOn[0].wait = true), instancePath: "/services/web/dependsOn/0", keyword: "additionalProperties" },
  { name: "CIDR prefix above 32", change: (d) => (d.cluster.cidr[0] = "10.0.0.0/33"), instancePath: "/cluster/cidr/0", keyword: "pattern" },
  { name: "admin network without prefix", change: (d) => (d.targets.firewall.adminCidr[0] = "10.0.0.1"), instancePath: "/targets/firewall/adminCidr/0", keyword: "pattern" },
  { name: "systemd user root", change: (d) => (d.targets.systemd.user = "root"), instancePath: "/targets/systemd/user", keyword: "pattern" },
  { name: "option on the docker target", change: (d) => (d.targets.docker.file = "Dockerfile"), instancePath: "/targets/docker", keyword: "additionalProperties" },
  { name: "gpu count and deviceIds", change: (d) => (d.services.worker.gpu = { count: 1, deviceIds: ["0"] }), instancePath: "/services/worker/gpu", keyword: "not", title: "count and deviceIds exclude each other" },
];

describe("invalid descriptors", () => {
  it("the base of the negative cases is valid", () => {
    expect(errorsOf(BASE)).toEqual([]);
  });

  it.each(NEGATIVE_CASES)("$name → $keyword at '$instancePath'", ({ change, instancePath, keyword, title }) => {
    const data = structuredClone(BASE);
    change(data);
    const errors = errorsOf(data);
    const match = errors.find((e) => e.instancePath === instancePath && e.keyword === keyword);
    expect(match, JSON.stringify(errors.map((e) => [e.instancePath, e.keyword, e.message]))).toBeDefined();
    if (title !== undefined) expect((match?.parentSchema as Schema | undefined)?.title).toBe(title);
  });
});

describe("the schema is strict and documented", () => {
  it("declares draft 2020-12, an $id, a title and a description", () => {
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(SCHEMA_ID).toBe("https://create-deploy.dev/schemas/deploy.schema.json");
    expect(schema.title).toEqual(expect.any(String));
    expect(schema.description).toEqual(expect.any(String));
  });

  it("closes every object: additionalProperties false, or a map with named keys", () => {
    const objects = [...walkSchemas(schema)].filter(([, node]) => node.type === "object");
    expect(objects.length).toBeGreaterThan(30);
    for (const [pointer, node] of objects) {
      const isMap = node.properties === undefined && isSchema(node.additionalProperties) && isSchema(node.propertyNames);
      expect(isMap || node.additionalProperties === false, `${pointer || "/"} is open`).toBe(true);
    }
  });

  it("gives every property a one-line title, description and examples", () => {
    let count = 0;
    for (const [pointer, node] of walkSchemas(schema)) {
      if (node.type !== "object" || !isSchema(node.properties)) continue;
      for (const [key, property] of Object.entries(node.properties)) {
        const where = `${pointer}/properties/${key}`;
        expect(isSchema(property), where).toBe(true);
        const documented = property as Schema;
        expect(documented.title, `${where} title`).toMatch(/^[^\n]+$/);
        expect(documented.description, `${where} description`).toMatch(/^[^\n]+$/);
        expect(Array.isArray(documented.examples) && documented.examples.length > 0, `${where} examples`).toBe(true);
        count++;
      }
    }
    expect(count).toBeGreaterThan(150);
  });

  it("has a $defs entry for each concept and each target kind", () => {
    const concepts = ["service", "build", "port", "secret", "secretRef", "mount", "healthcheck", "dependency", "gpu", "resources", "volume", "network", "environment", "node"];
    const targets = ["env", "docs", "docker", "compose", "swarm", "systemd", "firewall", "github"].map((kind) => `${kind}Target`);
    for (const name of [...concepts, ...targets]) expect(defs[name], name).toBeDefined();
    const targetProperties = (defs.targets?.properties ?? {}) as Record<string, Schema>;
    for (const kind of Object.keys(targetProperties)) expect(targetProperties[kind]?.$ref).toBe(`#/$defs/${kind}Target`);
  });

  it("resolves every $ref", () => {
    for (const [pointer, node] of walkSchemas(schema)) {
      if (typeof node.$ref === "string") expect(() => resolveRef(node.$ref as string), pointer).not.toThrow();
    }
  });

  it("has examples and defaults that are valid for their own schema", () => {
    const checker = newAjv();
    checker.addSchema(schema);
    let checked = 0;
    for (const [pointer, node] of walkSchemas(schema)) {
      const samples = [...(Array.isArray(node.examples) ? node.examples : []), ...("default" in node ? [node.default] : [])];
      if (samples.length === 0) continue;
      const validateHere = checker.compile({ $ref: `${SCHEMA_ID}#${pointer}` });
      for (const sample of samples) {
        expect(validateHere(sample), `${pointer}: ${JSON.stringify(sample)} ${JSON.stringify(validateHere.errors)}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(200);
  });
});

describe("strings that land in generated files", () => {
  const stringSchemas = [...walkSchemas(schema)].filter(([, node]) => node.type === "string");

  /** Every string found in examples and defaults: keys and values, at any depth. */
  function collectStrings(value: unknown, into: Set<string>): void {
    if (typeof value === "string") into.add(value);
    else if (Array.isArray(value)) for (const item of value) collectStrings(item, into);
    else if (isSchema(value)) {
      for (const [key, item] of Object.entries(value)) {
        into.add(key);
        collectStrings(item, into);
      }
    }
  }
  const samples = new Set<string>();
  for (const [, node] of walkSchemas(schema)) {
    collectStrings(node.examples, samples);
    collectStrings(node.default, samples);
  }

  it("are all constrained by a pattern, an enum, a const or a $ref to one", () => {
    for (const [pointer, node] of stringSchemas) {
      const constrained = typeof node.pattern === "string" || Array.isArray(node.enum) || "const" in node || typeof node.$ref === "string";
      expect(constrained, pointer).toBe(true);
    }
  });

  it("reject control characters wherever they are inserted into an accepted value", () => {
    const controls = ["\u0000", "\t", "\n", "\r", "\u001b", "\u007f", "\u0085"];
    for (const [pointer, node] of stringSchemas) {
      if (typeof node.pattern !== "string") continue;
      const pattern = new RegExp(node.pattern, "u");
      const accepted = [...samples].filter((s) => pattern.test(s));
      expect(accepted.length, `${pointer} accepts none of the file's examples`).toBeGreaterThan(0);
      for (const sample of accepted) {
        for (const control of controls) {
          for (const at of [0, Math.floor(sample.length / 2), sample.length]) {
            const tainted = sample.slice(0, at) + control + sample.slice(at);
            expect(pattern.test(tainted), `${pointer} accepts ${JSON.stringify(tainted)}`).toBe(false);
          }
        }
      }
    }
  });

  const patternOf = (name: string) => new RegExp(defs[name]?.pattern as string, "u");

  it("identifiers and env keys follow the naming rules", () => {
    const identifier = patternOf("identifier");
    for (const good of ["a", "web", "db-password", "a".repeat(63)]) expect(identifier.test(good), good).toBe(true);
    for (const bad of ["", "Web", "1web", "-web", "web_1", "a".repeat(64), "wéb"]) expect(identifier.test(bad), bad).toBe(false);
    const envKey = patternOf("envKey");
    for (const good of ["A", "_X", "LOG_LEVEL", "X1"]) expect(envKey.test(good), good).toBe(true);
    for (const bad of ["", "1X", "log", "A-B", "A B"]) expect(envKey.test(bad), bad).toBe(false);
  });

  it("paths never climb out with a .. segment", () => {
    const absolute = patternOf("containerPath");
    const host = patternOf("hostPath");
    const relative = patternOf("relativePath");
    for (const bad of ["/..", "/a/..", "/a/../b", "../a", "./..", "./a/../../b", "a/../b", ".."]) {
      expect(absolute.test(bad) || host.test(bad) || relative.test(bad), bad).toBe(false);
    }
    for (const good of ["/a..b/c", "/..a", "/a/b.."]) expect(absolute.test(good) && host.test(good), good).toBe(true);
    for (const good of [".", "./pipelines", "a..b", ".env"]) expect(relative.test(good), good).toBe(true);
    expect(host.test("/etc/letsencrypt") && host.test("./nginx/default.conf")).toBe(true);
    expect(host.test("nginx/default.conf") || absolute.test("data")).toBe(false);
  });

  it("durations are h/m/s/ms in order", () => {
    const duration = patternOf("duration");
    for (const good of ["30s", "1m30s", "500ms", "2h", "1h2m3s4ms", "0s"]) expect(duration.test(good), good).toBe(true);
    for (const bad of ["", "30", "s", "30 s", "1s1m", "1.5s", "30sec", "-1s"]) expect(duration.test(bad), bad).toBe(false);
  });

  it("images are name[:tag][@sha256:digest]", () => {
    const image = patternOf("image");
    const digest = `@sha256:${"a".repeat(64)}`;
    for (const good of ["redis", "redis:7.4-alpine", "nginxinc/nginx-unprivileged:1.27-alpine", "ghcr.io/org/app:1.2", "localhost:5000/app", `postgres:16${digest}`, `postgres${digest}`]) {
      expect(image.test(good), good).toBe(true);
    }
    for (const bad of ["", "Redis", "redis:", "redis:tag with space", "redis@sha256:abc", "redis:-x", "/redis", "redis//x"]) expect(image.test(bad), bad).toBe(false);
  });

  it("IP addresses match exactly what node:net accepts", () => {
    const address = patternOf("ipAddress");
    fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (ip) => address.test(ip)));
    // Near misses: valid addresses with one character inserted, and strings over the address alphabet.
    const nearMiss = fc
      .tuple(fc.oneof(fc.ipV4(), fc.ipV6()), fc.nat(), fc.constantFrom(..."0123456789abcdefg:."))
      .map(([ip, at, ch]) => ip.slice(0, at % (ip.length + 1)) + ch + ip.slice(at % (ip.length + 1)));
    const alphabet = fc.string({ unit: fc.constantFrom(..."0123456789abcdef:."), maxLength: 20 });
    fc.assert(fc.property(fc.oneof(nearMiss, alphabet), (s) => address.test(s) === (isIP(s) !== 0)));
  });

  it("CIDR blocks need an address and a prefix in range", () => {
    const cidr = patternOf("cidr");
    fc.assert(fc.property(fc.ipV4(), fc.integer({ min: 0, max: 40 }), (ip, prefix) => cidr.test(`${ip}/${prefix}`) === prefix <= 32));
    fc.assert(fc.property(fc.ipV6(), fc.integer({ min: 0, max: 140 }), (ip, prefix) => cidr.test(`${ip}/${prefix}`) === prefix <= 128));
    for (const bad of ["10.0.0.0", "10.0.0.0/", "10.0.0.0/08", "10.0.0/8", "fd00::/-1"]) expect(cidr.test(bad), bad).toBe(false);
  });
});

// ---------------------------------------------------------------------------
// Drift between schemas/deploy.schema.json and src/model/descriptor.ts.
// A deliberately small reader of the `export interface` and `export type` declarations
// found there: enough for object literals, unions, arrays, records and string literals.

interface Member {
  name: string;
  optional: boolean;
  type: string;
}
interface Declarations {
  interfaces: Map<string, Member[]>;
  aliases: Map<string, string>;
}

/** Splits at separators that are outside every bracket pair. */
function splitTopLevel(text: string, separators: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of text) {
    if ("{<([".includes(ch)) depth++;
    else if ("}>)]".includes(ch)) depth--;
    if (depth === 0 && separators.includes(ch)) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== "");
}

function parseMembers(body: string): Member[] {
  return splitTopLevel(body, ";\n").map((text) => {
    const match = /^(\w+)(\?)?\s*:\s*([\s\S]+)$/.exec(text);
    if (!match) throw new Error(`cannot read member: ${text}`);
    return { name: match[1] as string, optional: match[2] === "?", type: (match[3] as string).trim() };
  });
}

/** The text between the bracket at `open` and its partner. */
function bracketBody(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return text.slice(open + 1, i);
  }
  throw new Error("unbalanced braces");
}

function readDeclarations(source: string): Declarations {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/[^\n]*/g, "");
  const interfaces = new Map<string, Member[]>();
  for (const match of code.matchAll(/export interface (\w+)\s*\{/g)) {
    interfaces.set(match[1] as string, parseMembers(bracketBody(code, (match.index ?? 0) + match[0].length - 1)));
  }
  const aliases = new Map<string, string>();
  for (const match of code.matchAll(/export type (\w+)\s*=\s*/g)) {
    const rest = code.slice((match.index ?? 0) + match[0].length);
    aliases.set(match[1] as string, splitTopLevel(rest, ";")[0] as string);
  }
  return { interfaces, aliases };
}

type Primitive = { kind: "string" | "number" | "boolean"; literal?: string | boolean };
type Alternative =
  | { kind: "object"; members: Member[] }
  | { kind: "interface"; name: string }
  | { kind: "record"; value: string }
  | { kind: "array"; element: string }
  | Primitive;

function alternatives(type: string, declarations: Declarations): Alternative[] {
  return splitTopLevel(type, "|").flatMap((alt): Alternative[] => {
    let match: RegExpExecArray | null;
    if (alt.startsWith("(") && alt.endsWith(")")) return alternatives(alt.slice(1, -1), declarations);
    if (alt.endsWith("[]")) return [{ kind: "array", element: alt.slice(0, -2) }];
    if ((match = /^Array<([\s\S]+)>$/.exec(alt))) return [{ kind: "array", element: match[1] as string }];
    if (/^Record<\s*string\s*,\s*never\s*>$/.test(alt)) return [{ kind: "object", members: [] }];
    if ((match = /^Record<([\s\S]+)>$/.exec(alt))) return [{ kind: "record", value: splitTopLevel(match[1] as string, ",")[1] as string }];
    if (alt.startsWith("{")) return [{ kind: "object", members: parseMembers(alt.slice(1, -1)) }];
    if ((match = /^"([^"]*)"$/.exec(alt))) return [{ kind: "string", literal: match[1] as string }];
    if (alt === "true" || alt === "false") return [{ kind: "boolean", literal: alt === "true" }];
    if (alt === "string" || alt === "number" || alt === "boolean") return [{ kind: alt }];
    const alias = declarations.aliases.get(alt);
    if (alias !== undefined) return alternatives(alias, declarations);
    if (declarations.interfaces.has(alt)) return [{ kind: "interface", name: alt }];
    throw new Error(`unknown type ${alt}`);
  });
}

interface Leaf {
  schema: Schema;
  def?: string;
}

/** The schemas a value may finally be checked against: $refs followed, type-switches opened. */
function leaves(node: Schema, def?: string): Leaf[] {
  if (typeof node.$ref === "string") return leaves(resolveRef(node.$ref), node.$ref.slice("#/$defs/".length));
  if (node.type === undefined && isSchema(node.if) && isSchema(node.then) && isSchema(node.else)) {
    return [...leaves(node.then), ...leaves(node.else)];
  }
  if (node.type === undefined && Array.isArray(node.anyOf)) return (node.anyOf as Schema[]).flatMap((branch) => leaves(branch));
  return [def === undefined ? { schema: node } : { schema: node, def }];
}

function kindOfLeaf(leaf: Schema): string {
  if (typeof leaf.type === "string") return leaf.type === "integer" ? "number" : leaf.type;
  if ("const" in leaf) return typeof leaf.const;
  if (Array.isArray(leaf.enum)) return typeof leaf.enum[0];
  throw new Error(`untyped schema ${JSON.stringify(leaf)}`);
}

function kindOfAlternative(alt: Alternative): string {
  return alt.kind === "interface" || alt.kind === "record" ? "object" : alt.kind;
}

/** Which $defs entry mirrors which interface; the root schema mirrors Descriptor. */
const MIRRORS: Record<string, string> = {
  Descriptor: "",
  Registry: "registry",
  Cluster: "cluster",
  Service: "service",
  Build: "build",
  Port: "port",
  SecretRef: "secretRef",
  Mount: "mount",
  Healthcheck: "healthcheck",
  Dependency: "dependency",
  Gpu: "gpu",
  Resources: "resources",
  Secret: "secret",
  Volume: "volume",
  Network: "network",
  Environment: "environment",
  HostNode: "node",
  Targets: "targets",
  SwarmTarget: "swarmTarget",
  SystemdTarget: "systemdTarget",
  FirewallTarget: "firewallTarget",
  GithubTarget: "githubTarget",
};

/** Compares members (of one or several alternatives) with the union of the schema objects' properties. */
function compareObject(members: Member[], objects: Schema[], where: string, declarations: Declarations, checkRequired = true): void {
  const properties = Object.assign({}, ...objects.map((o) => o.properties ?? {})) as Record<string, Schema>;
  expect(Object.keys(properties).sort(), `${where}: property names`).toEqual([...new Set(members.map((m) => m.name))].sort());
  if (checkRequired && objects.length === 1) {
    const required = members.filter((m) => !m.optional).map((m) => m.name);
    expect([...((objects[0]?.required as string[] | undefined) ?? [])].sort(), `${where}: required`).toEqual(required.sort());
  }
  for (const member of members) {
    compareType(member.type, properties[member.name] as Schema, `${where}.${member.name}`, declarations);
  }
}

function compareType(type: string, node: Schema, where: string, declarations: Declarations): void {
  const alts = alternatives(type, declarations);
  const found = leaves(node);
  expect([...new Set(found.map((l) => kindOfLeaf(l.schema)))].sort(), `${where}: kinds of value`).toEqual(
    [...new Set(alts.map(kindOfAlternative))].sort(),
  );

  for (const alt of alts) {
    if (alt.kind === "interface") {
      expect(found.map((l) => l.def), `${where}: ${alt.name} is $defs/${MIRRORS[alt.name]}`).toContain(MIRRORS[alt.name]);
    } else if (alt.kind === "record") {
      const map = found.find((l) => l.schema.type === "object" && isSchema(l.schema.additionalProperties));
      expect(map, `${where}: a map`).toBeDefined();
      compareType(alt.value, map?.schema.additionalProperties as Schema, `${where}[*]`, declarations);
    } else if (alt.kind === "array") {
      const array = found.find((l) => l.schema.type === "array");
      compareType(alt.element, array?.schema.items as Schema, `${where}[]`, declarations);
    }
  }

  const literalObjects = alts.filter((a): a is { kind: "object"; members: Member[] } => a.kind === "object");
  if (literalObjects.length > 0) {
    const closed = found.filter((l) => l.schema.type === "object" && l.schema.additionalProperties === false).map((l) => l.schema);
    // Several TypeScript alternatives may be one schema object with exclusivity constraints.
    compareObject(literalObjects.flatMap((a) => a.members), closed, where, declarations, literalObjects.length === 1);
  }

  const strings = alts.filter((a): a is Primitive => a.kind === "string");
  if (strings.length > 0 && strings.every((a) => a.literal !== undefined)) {
    const allowed = found.flatMap((l) => (Array.isArray(l.schema.enum) ? l.schema.enum : "const" in l.schema ? [l.schema.const] : []));
    expect(allowed.filter((v) => typeof v === "string").sort(), `${where}: allowed strings`).toEqual(strings.map((a) => a.literal).sort());
  }
}

describe("schema and src/model/descriptor.ts agree", () => {
  const declarations = readDeclarations(readFileSync(new URL("../src/model/descriptor.ts", import.meta.url), "utf8"));

  it("reads the declarations", () => {
    expect(declarations.interfaces.get("Service")?.map((m) => m.name)).toContain("imageOf");
    expect(declarations.aliases.get("Exposure")).toBe('"public" | "cluster" | "local" | "internal"');
  });

  it("mirrors every interface in $defs", () => {
    expect([...declarations.interfaces.keys()].sort()).toEqual(Object.keys(MIRRORS).sort());
  });

  it.each(Object.entries(MIRRORS))("%s has the same fields, optionality, enums and nested shapes", (name, def) => {
    const members = declarations.interfaces.get(name) ?? [];
    const node = def === "" ? schema : (defs[def] as Schema);
    compareObject(members, [node], name, declarations);
  });
});
