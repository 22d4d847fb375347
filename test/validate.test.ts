import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { ArtifactKind } from "../src/kinds/types.js";
import { parseDescriptor } from "../src/load.js";
import type { Descriptor, Service } from "../src/model/descriptor.js";
import { formatProblem, pointerToPath, sortProblems, type Problem } from "../src/problems.js";
import { validateDescriptor } from "../src/validate/index.js";
import * as rules from "../src/validate/rules.js";
import { findUnsafeStrings } from "../src/validate/safety.js";
import { closestName, editDistance } from "../src/validate/suggest.js";

const EXAMPLES = ["bids-flux", "dicom-pipeline", "genui", "mlops-api"];

function validate(text: string, kinds: readonly ArtifactKind[] = []) {
  return validateDescriptor(parseDescriptor(text, "deploy.yaml"), "deploy.yaml", kinds);
}

/** The formatted problems of a descriptor. */
function problemsOf(text: string, kinds: readonly ArtifactKind[] = []): string[] {
  return validate(text, kinds).problems.map(formatProblem);
}

function lines(...text: string[]): string {
  return text.join("\n") + "\n";
}

const HEAD = ["name: shop", "services:", "  web:", "    image: nginx:1.27"];

describe("problem format", () => {
  it.each([
    ["", "(root)"],
    ["/name", "name"],
    ["/services/web/ports/0/port", "services.web.ports[0].port"],
    ["/services/worker-gpu/gpu", "services.worker-gpu.gpu"],
    ["/services/web/environment/a.b", 'services.web.environment["a.b"]'],
    ["/services/web/environment/a~1b", 'services.web.environment["a/b"]'],
    ["/services/web/environment/LOG_LEVEL", "services.web.environment.LOG_LEVEL"],
    ["/services/w\u0435b", 'services["w\\u0435b"]'],
    ["/services/a\nb", 'services["a\\nb"]'],
    ["/x/\u202Eevil", 'x["\\u202eevil"]'],
  ])("prints the pointer %j as %s", (pointer, path) => {
    expect(pointerToPath(pointer)).toBe(path);
  });

  it("prints FILE:LINE:COL PATH: MESSAGE, with the hint after it", () => {
    const problem: Problem = { file: "deploy.yaml", pointer: "/services/web/ports/0/port", line: 12, col: 5, message: "must be <= 65535" };
    expect(formatProblem(problem)).toBe("deploy.yaml:12:5 services.web.ports[0].port: must be <= 65535");
    expect(formatProblem({ ...problem, hint: 'did you mean "ports"?' })).toBe('deploy.yaml:12:5 services.web.ports[0].port: must be <= 65535 (did you mean "ports"?)');
  });

  it("sorts problems by position", () => {
    const at = (line: number, col: number, pointer = "/a"): Problem => ({ file: "deploy.yaml", pointer, line, col, message: "m" });
    expect(sortProblems([at(3, 1), at(1, 9), at(1, 2), at(1, 2, "/0")]).map((p) => `${p.line}:${p.col}${p.pointer}`)).toEqual(["1:2/0", "1:2/a", "1:9/a", "3:1/a"]);
  });
});

describe("suggestions", () => {
  it("counts a swapped pair of letters as one edit", () => {
    expect(editDistance("prots", "ports")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("kitten", "sitting")).toBe(3);
  });

  it("suggests only names close enough to be a typo", () => {
    expect(closestName("prots", ["ports", "protocol", "image"])).toBe("ports");
    expect(closestName("Image", ["image"])).toBe("image");
    expect(closestName("zzz", ["ports", "image"])).toBeUndefined();
  });
});

describe("validateDescriptor", () => {
  it.each(EXAMPLES)("accepts examples/%s/deploy.yaml and returns the descriptor", (name) => {
    const result = validate(readFileSync(`examples/${name}/deploy.yaml`, "utf8"));
    expect(result.problems.map(formatProblem)).toEqual([]);
    expect(result.descriptor?.name).toBe(name);
  });

  it("returns load problems unchanged, before anything else", () => {
    const result = validate("name: shop\nname: other\n");
    expect(result.descriptor).toBeUndefined();
    expect(result.problems.map(formatProblem)).toEqual(['deploy.yaml:2:1 name: duplicate key "name" (first defined on line 1) (keep one of them)']);
  });

  describe("schema errors in plain words", () => {
    it("names an unknown field at its key, with a did-you-mean", () => {
      expect(problemsOf(lines(...HEAD, "    prots: []"))).toEqual(['deploy.yaml:5:5 services.web.prots: unknown field "prots" (did you mean "ports"?)']);
      expect(problemsOf(lines(...HEAD, "servics: {}"))).toEqual(['deploy.yaml:5:1 servics: unknown field "servics" (did you mean "services"?)']);
    });

    it("lists the allowed fields of a small object when nothing is close", () => {
      expect(problemsOf(lines(...HEAD, "    healthcheck:", "      tcp: {port: 80, zzz: 1}"))).toEqual([
        'deploy.yaml:6:23 services.web.healthcheck.tcp.zzz: unknown field "zzz" (allowed fields: port)',
      ]);
    });

    it("says a required field is missing, at its parent", () => {
      expect(problemsOf(lines("name: shop", "services:", "  web:", "    build:", "      runtime: python"))).toEqual([
        "deploy.yaml:4:5 services.web.build.command: is required",
      ]);
      expect(problemsOf("name: shop\n")).toEqual(["deploy.yaml:1:1 services: is required"]);
    });

    it("lists the allowed values of an enum", () => {
      expect(problemsOf(lines(...HEAD, "    restart: sometimes"))).toEqual([
        'deploy.yaml:5:14 services.web.restart: must be one of "no", "always", "on-failure", "unless-stopped" (found the string "sometimes")',
      ]);
    });

    it("explains YAML 1.1 booleans wherever a boolean is expected", () => {
      expect(problemsOf(lines(...HEAD, "    readOnly: on", "    swarm: No"))).toEqual([
        'deploy.yaml:5:15 services.web.readOnly: must be true or false (found the string "on") (YAML 1.2 reads yes/no as strings: write true or false)',
        'deploy.yaml:6:12 services.web.swarm: must be true or false (found the string "No") (YAML 1.2 reads yes/no as strings: write true or false)',
      ]);
      expect(problemsOf(lines(...HEAD, "secrets:", "  key: {generate: n}"))[0]).toContain("YAML 1.2 reads yes/no as strings");
    });

    it("explains numbers that should be strings and strings that should be numbers", () => {
      expect(problemsOf(lines(...HEAD, '    replicas: "3"'))).toEqual([
        'deploy.yaml:5:15 services.web.replicas: must be an integer (found the string "3") (write 3 without quotes)',
      ]);
      expect(problemsOf(lines("name: shop", "services:", "  web:", "    build: {runtime: python, version: 3.10, command: [app]}"))).toEqual([
        'deploy.yaml:4:39 services.web.build.version: must be a string (found the number 3.1) (write "3.10" in quotes: unquoted, YAML reads it as the number 3.1)',
      ]);
    });

    it("says what an empty value is", () => {
      expect(problemsOf(lines("name: shop", "services:", "  web:"))).toEqual([
        "deploy.yaml:3:7 services.web: must be a map (found an empty value) (the value is empty: add its fields, or remove the key)",
      ]);
    });

    it("folds alternatives into one problem per location", () => {
      const found = problemsOf(
        lines(...HEAD, "    environment:", "      A: [1]", "      B: {hostOf: db, extra: 1}", "      C: {}", "    dependsOn: [3]"),
      );
      expect(found).toEqual([
        "deploy.yaml:6:10 services.web.environment.A: must be a map, a string, a number or true/false (found a list)",
        'deploy.yaml:7:23 services.web.environment.B.extra: unknown field "extra" (allowed fields: default, fromHost, hostOf)',
        "deploy.yaml:8:10 services.web.environment.C: needs one of fromHost or hostOf",
        'deploy.yaml:9:17 services.web.dependsOn[0]: must be a string or a map (found the number 3) (write "3" in quotes to keep it a string)',
      ]);
      expect(found.join("\n")).not.toMatch(/anyOf|schema|must NOT/);
    });

    it("picks the alternative that came closest", () => {
      expect(problemsOf(lines(...HEAD, "    dependsOn:", "      - {service: db, conditon: healthy}", "  db:", "    image: postgres:16.4"))).toEqual([
        'deploy.yaml:6:23 services.web.dependsOn[0].conditon: unknown field "conditon" (did you mean "condition"?)',
      ]);
    });

    it("names fields that exclude each other", () => {
      expect(problemsOf(lines(...HEAD, "    imageOf: api"))).toEqual(["deploy.yaml:5:5 services.web.imageOf: use image or imageOf, not both"]);
      expect(problemsOf(lines("name: shop", "services:", "  web: {}"))).toEqual(["deploy.yaml:3:8 services.web: needs one of image, build or imageOf"]);
    });

    it("points at the repeated item of a list", () => {
      expect(problemsOf(lines(...HEAD, "    roles: [a, b, a]"))).toEqual(["deploy.yaml:5:19 services.web.roles[2]: repeats item [0]"]);
    });

    it("names a field that needs another beside it", () => {
      expect(problemsOf(lines(...HEAD, "    environment:", "      A: {hostOf: db, default: x}"))).toEqual([
        "deploy.yaml:6:23 services.web.environment.A.default: default needs fromHost beside it",
      ]);
    });

    it("explains an identifier with a look-alike letter, as a key and as a value", () => {
      expect(problemsOf(lines("name: shop", "services:", "  w\u0435b:", "    image: nginx:1.27"))).toEqual([
        `deploy.yaml:3:3 services["w\\u0435b"]: the name must be ASCII lowercase letters, digits and '-', starting with a letter (at most 63 characters) ("w\\u0435b" contains U+0435, which is not ASCII (it may only look like an ASCII letter))`,
      ]);
      expect(problemsOf(lines("name: sh\u043Ep", ...HEAD.slice(1)))[0]).toBe(
        `deploy.yaml:1:7 name: must be ASCII lowercase letters, digits and '-', starting with a letter (at most 63 characters) (found the string "sh\\u043ep") ("sh\\u043ep" contains U+043E, which is not ASCII (it may only look like an ASCII letter))`,
      );
    });

    it("uses the schema's title for other formats", () => {
      expect(problemsOf(lines(...HEAD, '    user: "root;sh"'))).toEqual(['deploy.yaml:5:11 services.web.user: "root;sh" is not a valid user']);
    });

    it("consults the schema file only when an error needs it", () => {
      let reads = 0;
      const options = {};
      Object.defineProperty(options, "schema", {
        get() {
          reads += 1;
          return JSON.parse(readFileSync("schemas/deploy.schema.json", "utf8")) as Record<string, unknown>;
        },
      });
      const valid = validateDescriptor(parseDescriptor(lines(...HEAD), "deploy.yaml"), "deploy.yaml", [], options);
      expect(valid.problems).toEqual([]);
      expect(reads).toBe(0);
      const invalid = validateDescriptor(parseDescriptor(lines(...HEAD, "    prots: []"), "deploy.yaml"), "deploy.yaml", [], options);
      expect(invalid.problems[0]?.hint).toBe('did you mean "ports"?');
      expect(reads).toBeGreaterThan(0);
    });
  });

  describe("unsafe characters", () => {
    it("finds them in every string and key, however deep, naming the exact field", () => {
      const found = findUnsafeStrings({ a: ["ok", { "b\tc": "x", d: "line\nbreak" }], e: "\u2028", f: 1, g: null });
      expect(found.map((u) => [u.pointer, u.isKey])).toEqual([
        ["/a/1/b\tc", true],
        ["/a/1/d", false],
        ["/e", false],
      ]);
    });

    it.each([
      ["\u0000", "U+0000 NUL"],
      ["\u0007", "U+0007, a control character"],
      ["\u007F", "U+007F delete"],
      ["\u0085", "U+0085, a control character"],
      ["\u2029", "U+2029 paragraph separator"],
      ["\u2066", "U+2066, an invisible text-direction mark"],
      ["\uFEFF", "U+FEFF byte order mark"],
    ])("refuses %j", (character, described) => {
      expect(findUnsafeStrings({ a: `x${character}y` })[0]?.message).toBe(`contains ${described}; values must be one line without control characters`);
    });

    it("allows other Unicode text", () => {
      expect(findUnsafeStrings({ description: "Données — 画像 🚀 العربية" })).toEqual([]);
    });

    it("reports the unsafe value instead of the schema's pattern error, even under an unknown key", () => {
      expect(problemsOf(lines(...HEAD, '    description: "a\\rb"'))).toEqual([
        "deploy.yaml:5:18 services.web.description: contains U+000D carriage return; values must be one line without control characters",
      ]);
      expect(problemsOf(lines("name: shop", "services:", '  "we\\nb":', "    image: nginx:1.27"))).toEqual([
        'deploy.yaml:3:3 services["we\\nb"]: the key contains U+000A line feed; keys must be one line without control characters',
      ]);
    });
  });

  describe("then rules across fields, only once the schema passed", () => {
    it("runs rules after a valid schema, reporting every rule problem at once, sorted", () => {
      expect(problemsOf(lines(...HEAD, "    secrets: [nope]", "    dependsOn: [ghost]"))).toEqual([
        'deploy.yaml:5:15 services.web.secrets[0]: secret "nope" is not declared under secrets (no secret is declared)',
        'deploy.yaml:6:17 services.web.dependsOn[0]: depends on "ghost", which is not a service (declared services: "web")',
      ]);
    });

    it("skips rules while the schema fails", () => {
      expect(problemsOf(lines(...HEAD, "    secrets: [nope]", "    replicas: -1"))).toEqual(["deploy.yaml:6:15 services.web.replicas: must be >= 0"]);
    });
  });

  describe("then the checks of enabled kinds", () => {
    const calls: string[] = [];
    const kind = (name: string, enabled: boolean): ArtifactKind => ({
      name,
      enabled: () => enabled,
      check: (d) => {
        calls.push(name);
        return [{ pointer: "/services/web/image", message: `${name} cannot use ${d.services.web?.image ?? "?"}`, hint: "pick another" }];
      },
      plan: () => [],
    });

    it("reports problems of enabled kinds only, at their pointers", () => {
      calls.length = 0;
      expect(problemsOf(lines(...HEAD), [kind("on", true), kind("off", false)])).toEqual(["deploy.yaml:4:12 services.web.image: on cannot use nginx:1.27 (pick another)"]);
      expect(calls).toEqual(["on"]);
    });

    it("does not ask kinds while rules fail, since kinds look names up", () => {
      calls.length = 0;
      expect(problemsOf(lines(...HEAD, "    dependsOn: [ghost]"), [kind("on", true)])).toHaveLength(1);
      expect(calls).toEqual([]);
    });

    it("returns the descriptor when nothing is wrong", () => {
      const result = validate(lines(...HEAD), [{ name: "quiet", enabled: () => true, check: () => [], plan: () => [] }]);
      expect(result.problems).toEqual([]);
      expect(result.descriptor).toEqual({ name: "shop", services: { web: { image: "nginx:1.27" } } });
    });
  });
});

// Rules read a schema-valid descriptor; these build one directly.
function descriptorWith(services: Record<string, Service>, rest: Partial<Descriptor> = {}): Descriptor {
  return { name: "shop", services, ...rest };
}

function pointersOf(found: { pointer: string; message: string }[]): string[] {
  return found.map((p) => `${p.pointer} ${p.message}`);
}

const img = { image: "nginx:1.27" };

describe("cross-field rules", () => {
  it("accepts the examples", () => {
    for (const name of EXAMPLES) {
      const parsed = parseDescriptor(readFileSync(`examples/${name}/deploy.yaml`, "utf8"), "deploy.yaml");
      expect(rules.checkCrossFieldRules(parsed.value as Descriptor), name).toEqual([]);
    }
  });

  it("dependencies: unknown, on itself, listed twice", () => {
    const d = descriptorWith({ web: { ...img, dependsOn: ["web", "db", { service: "db" }, { service: "dbb" }] }, db: img });
    expect(pointersOf(rules.findUnknownDependencies(d))).toEqual([
      "/services/web/dependsOn/0 a service cannot depend on itself",
      '/services/web/dependsOn/2/service lists "db" twice',
      '/services/web/dependsOn/3/service depends on "dbb", which is not a service',
    ]);
  });

  it("dependency cycles, once each", () => {
    const d = descriptorWith({ a: { ...img, dependsOn: ["b"] }, b: { ...img, dependsOn: ["c"] }, c: { ...img, dependsOn: ["a"] }, e: { ...img, dependsOn: ["a"] } });
    expect(pointersOf(rules.findDependencyCycles(d))).toEqual(["/services/c/dependsOn/0 dependency cycle: a → b → c → a"]);
    expect(rules.findDependencyCycles(descriptorWith({ a: { ...img, dependsOn: ["b"] }, b: img }))).toEqual([]);
  });

  it("secrets of services and builds must be declared", () => {
    const d = descriptorWith(
      { web: { build: { runtime: "python", command: ["app"], secrets: ["pip-token"] }, secrets: ["db-password", { source: "api-key" }] } },
      { secrets: { "db-password": {} } },
    );
    expect(pointersOf(rules.findUndeclaredSecrets(d))).toEqual([
      '/services/web/secrets/1/source secret "api-key" is not declared under secrets',
      '/services/web/build/secrets/0 secret "pip-token" is not declared under secrets',
    ]);
  });

  it("mounts: declared volumes, one source, distinct targets, no volumes for systemd", () => {
    const d = descriptorWith(
      {
        web: { ...img, mounts: [{ volume: "data", target: "/data" }, { hostPath: "/srv", target: "/data" }, { volume: "nope", target: "/x" }] },
        unit: { platform: "systemd", build: { runtime: "python", command: ["app"] }, mounts: [{ volume: "data", target: "/y" }] },
      },
      { volumes: { data: {} } },
    );
    expect(pointersOf(rules.findBadMounts(d))).toEqual([
      '/services/web/mounts/1/target "/data" is already mounted by services.web.mounts[0]',
      '/services/web/mounts/2/volume volume "nope" is not declared under volumes',
      "/services/unit/mounts/0/volume a systemd service cannot mount a container volume",
    ]);
  });

  it("networks of services and of the swarm target must be declared", () => {
    const d = descriptorWith({ web: { ...img, networks: ["front", "back"] } }, { networks: { front: {} }, targets: { swarm: { network: "overlay" } } });
    expect(pointersOf(rules.findUnknownNetworks(d))).toEqual([
      '/services/web/networks/1 network "back" is not declared under networks',
      '/targets/swarm/network network "overlay" is not declared under networks',
    ]);
  });

  it("imageOf must name another service that builds an image", () => {
    const d = descriptorWith({
      web: { build: { runtime: "python", command: ["app"] } },
      unit: { platform: "systemd", build: { runtime: "python", command: ["app"] } },
      a: { imageOf: "a" },
      b: { imageOf: "ghost" },
      c: { imageOf: "db" },
      d: { imageOf: "unit" },
      e: { imageOf: "web" },
      db: img,
    });
    expect(pointersOf(rules.findBadImageSources(d))).toEqual([
      "/services/a/imageOf a service cannot take its image from itself",
      '/services/b/imageOf "ghost" is not a service',
      "/services/c/imageOf services.db has no build, so there is no image to share",
      "/services/d/imageOf services.unit runs under systemd and builds no image",
    ]);
  });

  it("a service needs exactly one image source, and a systemd one no image", () => {
    const d = descriptorWith({ none: {}, two: { image: "a:1", imageOf: "x" }, unit: { platform: "systemd", image: "a:1" } });
    expect(pointersOf(rules.findBadImageSources(d))).toEqual([
      "/services/none needs one of image, build or imageOf",
      "/services/two/imageOf give only one of image, build or imageOf (found image and imageOf)",
      '/services/two/imageOf "x" is not a service',
      "/services/unit/image a systemd service runs its own build from the install directory; it cannot use image",
    ]);
  });

  it("hostOf must name a service with a port", () => {
    const d = descriptorWith({ web: { ...img, environment: { A: { hostOf: "db" }, B: { hostOf: "ghost" }, C: { hostOf: "api" } } }, db: img, api: { ...img, ports: [{ port: 80 }] } });
    expect(pointersOf(rules.findBadHostReferences(d))).toEqual([
      "/services/web/environment/A/hostOf services.db has no ports, so there is nothing to connect to",
      '/services/web/environment/B/hostOf "ghost" is not a service',
    ]);
  });

  it("roles must be carried by a node, when there are nodes", () => {
    const services = { web: { ...img, roles: ["web", "gpu"] } };
    expect(pointersOf(rules.findUnknownRoles(descriptorWith(services, { nodes: { main: { address: "10.0.0.1", roles: ["web"] } } })))).toEqual([
      '/services/web/roles/1 no node carries the role "gpu"',
    ]);
    expect(rules.findUnknownRoles(descriptorWith(services))).toEqual([]);
  });

  it("placement and deploy nodes must exist", () => {
    const d = descriptorWith(
      { web: { ...img, placement: { nodes: ["main", "mian"] } } },
      { nodes: { main: { address: "10.0.0.1" } }, targets: { github: { deploy: { node: "other", user: "deploy", path: "/srv" } } } },
    );
    expect(pointersOf(rules.findUnknownNodes(d))).toEqual([
      '/services/web/placement/nodes/1 node "mian" is not declared under nodes',
      '/targets/github/deploy/node node "other" is not declared under nodes',
    ]);
  });

  it("node addresses and host names are unique", () => {
    const d = descriptorWith({ web: img }, { nodes: { a: { address: "10.0.0.1", hostname: "h" }, b: { address: "10.0.0.1", hostname: "h" } } });
    expect(pointersOf(rules.findDuplicateNodeAddresses(d))).toEqual(['/nodes/b/address "10.0.0.1" is already the address of nodes.a', '/nodes/b/hostname "h" is already the hostname of nodes.a']);
  });

  describe("published ports", () => {
    const published = (exposure: "public" | "local" | "cluster", port = 8080, extra: object = {}) => ({ port, exposure, ...extra });

    it("refuses the same port, protocol and address twice on one host", () => {
      const d = descriptorWith({ a: { ...img, ports: [published("public")] }, b: { ...img, ports: [published("local")] } });
      expect(pointersOf(rules.findPortConflicts(d))).toEqual(["/services/b/ports/0 publishes 8080/tcp on 127.0.0.1, which services.a.ports[0] already publishes on the same host"]);
    });

    it("allows different protocols, different addresses, and unpublished ports", () => {
      const d = descriptorWith({
        a: { ...img, ports: [published("local", 53), published("local", 53, { protocol: "udp", port: 5353, published: 53 })] },
        b: { ...img, ports: [published("local", 53, { address: "127.0.0.2" })] },
        c: { ...img, ports: [{ port: 53, exposure: "internal" }] },
      });
      expect(rules.findPortConflicts(d)).toEqual([]);
    });

    it("allows the same port on services placed on different nodes, not on the same one", () => {
      const nodes = { one: { address: "10.0.0.1", roles: ["x"] }, two: { address: "10.0.0.2", roles: ["y"] } };
      const apart = descriptorWith({ a: { ...img, roles: ["x"], ports: [published("public")] }, b: { ...img, roles: ["y"], ports: [published("public")] } }, { nodes });
      expect(rules.findPortConflicts(apart)).toEqual([]);
      const together = descriptorWith({ a: { ...img, roles: ["x"], ports: [published("public")] }, b: { ...img, placement: { nodes: ["one"] }, ports: [published("public")] } }, { nodes });
      expect(rules.findPortConflicts(together)).toHaveLength(1);
    });

    it("counts a swarm service as published on every node (routing mesh)", () => {
      const nodes = { one: { address: "10.0.0.1", roles: ["x"], manager: true }, two: { address: "10.0.0.2", roles: ["y"] } };
      const d = descriptorWith(
        { a: { ...img, roles: ["x"], ports: [published("public")] }, b: { ...img, roles: ["y"], swarm: false, ports: [published("public")] } },
        { nodes, networks: { o: {} }, targets: { swarm: { network: "o" } } },
      );
      expect(rules.findPortConflicts(d)).toHaveLength(1);
    });

    it("refuses a container port declared twice, and published/address on an internal port", () => {
      const d = descriptorWith({ a: { ...img, ports: [{ port: 80, exposure: "internal", published: 8080 }, { port: 80, exposure: "internal", address: "127.0.0.1" }] } });
      expect(pointersOf(rules.findPortConflicts(d))).toEqual([
        "/services/a/ports/0/published an internal port is not published, so published has no effect",
        "/services/a/ports/1/port 80/tcp is already declared in services.a.ports[0]",
        "/services/a/ports/1/address an internal port is not published, so address has no effect",
      ]);
    });

    it("refuses compose replicas that would publish one port twice", () => {
      const d = descriptorWith({ a: { ...img, replicas: 2, ports: [published("public")] } });
      expect(pointersOf(rules.findPortConflicts(d))).toEqual(["/services/a/replicas 2 compose replicas on one host cannot all publish the same port"]);
    });
  });

  it("environment values must be read by a service as a plain value", () => {
    const d = descriptorWith(
      { web: { ...img, environment: { LOG_LEVEL: "info", DB_HOST: { hostOf: "db" } } } },
      { environments: { prod: { values: { LOG_LEVEL: "warn", LOG_LEVL: "x", DB_HOST: "x" } } } },
    );
    expect(pointersOf(rules.findUnreadEnvironmentValues(d))).toEqual([
      "/environments/prod/values/LOG_LEVL no service reads LOG_LEVL",
      "/environments/prod/values/DB_HOST services.web.environment.DB_HOST is computed (hostOf or fromHost), so an environment cannot set it",
    ]);
  });

  it("a variable has one value across services and is not also set by the generator", () => {
    const d = descriptorWith(
      {
        a: { ...img, user: "host", environment: { MODE: "prod", WORKERS: 2, HOST_UID: "1" }, secrets: ["db-password"] },
        b: { ...img, environment: { MODE: "debug", WORKERS: "2", DB_PASSWORD_FILE: "/x" } },
      },
      { secrets: { "db-password": {} } },
    );
    expect(pointersOf(rules.findConflictingVariables(d))).toEqual([
      "/services/a/environment/HOST_UID HOST_UID is already set by user: host",
      '/services/b/environment/MODE "debug" differs from services.a.environment.MODE ("prod"); services share one env file per environment, so a variable has one value',
      '/services/b/environment/DB_PASSWORD_FILE DB_PASSWORD_FILE is already set by secret "db-password" (read by services.a)',
    ]);
  });

  it("swarm: no gpu, a manager node, a registry for built images", () => {
    const d = descriptorWith(
      { gpu: { ...img, gpu: { count: 1 } }, off: { ...img, swarm: false, gpu: { count: 1 } }, built: { build: { runtime: "python", command: ["app"] } } },
      { nodes: { a: { address: "10.0.0.1" } }, networks: { o: {} }, targets: { swarm: { network: "o" } } },
    );
    expect(pointersOf(rules.findSwarmProblems(d))).toEqual([
      "/services/gpu/gpu swarm does not support GPU device reservations; run this service on a compose node or drop gpu",
      "/nodes a swarm needs a manager node",
      "/targets/swarm swarm nodes pull the images they run, so built images need a registry",
    ]);
  });

  it("systemd services and the systemd target come together, with a declared environment", () => {
    const unit: Service = { platform: "systemd", build: { runtime: "python", command: ["app"] } };
    expect(pointersOf(rules.findSystemdProblems(descriptorWith({ unit })))).toEqual(["/services/unit/platform runs under systemd, but targets.systemd is missing"]);
    const target = { user: "app", installDir: "/opt/app", environment: "prd" };
    expect(pointersOf(rules.findSystemdProblems(descriptorWith({ web: img }, { environments: { prod: {} }, targets: { systemd: target } })))).toEqual([
      "/targets/systemd no service has platform: systemd, so there is nothing to install",
      '/targets/systemd/environment environment "prd" is not declared under environments',
    ]);
  });

  it("dependencies stay within one runtime, and healthy needs a declared or built-in healthcheck", () => {
    const d = descriptorWith(
      {
        web: { ...img, dependsOn: ["unit", { service: "db", condition: "healthy" }, { service: "api", condition: "healthy" }] },
        unit: { platform: "systemd", build: { runtime: "python", command: ["app"] } },
        db: img,
        // Listens on TCP, so the image it builds probes that port.
        api: { build: { runtime: "python", command: ["app"] }, ports: [{ port: 8000 }] },
      },
      { targets: { systemd: { user: "app", installDir: "/opt/app" } } },
    );
    expect(pointersOf(rules.findCrossRuntimeDependencies(d))).toEqual([
      "/services/web/dependsOn/0 services.web runs in compose and unit in systemd; a dependency must run in the same place",
      "/services/web/dependsOn/1/condition services.db has no healthcheck, so it never becomes healthy",
    ]);
  });

  it("health checks probe a declared port", () => {
    const d = descriptorWith({ a: { ...img, ports: [{ port: 8080 }], healthcheck: { http: { path: "/", port: 8081 } } }, b: { ...img, healthcheck: { tcp: { port: 5432 } } } });
    expect(pointersOf(rules.findHealthcheckPorts(d))).toEqual([
      "/services/a/healthcheck/http/port port 8081 is not one of the service's ports (8080)",
      "/services/b/healthcheck/tcp/port port 5432 is not one of the service's ports",
    ]);
  });

  it("cluster exposure with a firewall needs cluster.cidr", () => {
    const services = { db: { ...img, ports: [{ port: 5432, exposure: "cluster" as const }] } };
    const firewall = { firewall: { backend: "ufw" as const } };
    expect(pointersOf(rules.findClusterWithoutNetwork(descriptorWith(services, { targets: firewall })))).toEqual([
      "/services/db/ports/0/exposure exposure: cluster needs cluster.cidr, the network the firewall lets in",
    ]);
    expect(rules.findClusterWithoutNetwork(descriptorWith(services, { targets: firewall, cluster: { cidr: ["10.0.0.0/8"] } }))).toEqual([]);
  });

  it("an external secret is not generated", () => {
    const d = descriptorWith({ web: img }, { secrets: { a: { external: true, generate: { length: 32 } }, b: { external: true, generate: false } } });
    expect(pointersOf(rules.findBadSecretDeclarations(d))).toEqual(["/secrets/a/generate an external secret is created by hand, so it cannot be generated"]);
  });

  it.each([
    ["../up", "must not contain .. (it would leave the output folder)"],
    ["/etc", "must be a relative path inside the output folder"],
    ["C:/x", "must be a relative path inside the output folder"],
    ["~/x", "must be a relative path inside the output folder"],
    ["a\\b", "must use forward slashes"],
    [".git/hooks", "must not point into .git or .create-deploy"],
    ["x/.create-deploy", "must not point into .git or .create-deploy"],
    ["a//b", "must not contain empty segments (//)"],
    ["", "is empty"],
  ])("refuses the output path %j", (path, reason) => {
    const d = descriptorWith({ web: img }, { targets: { env: { dir: path } } });
    expect(pointersOf(rules.findUnsafeOutputPaths(d))).toEqual([`/targets/env/dir ${JSON.stringify(path)} ${reason}`]);
  });

  it("accepts ordinary output paths", () => {
    expect(rules.findUnsafeOutputPaths(descriptorWith({ web: img }, { targets: { env: { dir: "deploy/env" }, docs: { file: "./docs/DEPLOY.md" } } }))).toEqual([]);
  });

  it("node overlays need nodes", () => {
    expect(pointersOf(rules.findOverlayProblems(descriptorWith({ web: img }, { targets: { compose: { overlays: "nodes" } } })))).toEqual([
      "/targets/compose/overlays overlays: nodes writes one overlay per node, but no nodes are declared",
    ]);
  });

  it("the deploy job's environment file is a declared environment", () => {
    const d = descriptorWith({ web: img }, { environments: { prod: {} }, targets: { github: { deploy: { node: "a", user: "u", path: "/srv", environmentFile: "prd" } } } });
    expect(pointersOf(rules.findGithubDeployProblems(d))).toEqual(['/targets/github/deploy/environmentFile environment "prd" is not declared under environments']);
  });
});
