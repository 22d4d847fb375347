// Dockerfiles and their ignore files: the derivations, the kind's rules, every example's
// output through dockerfile-utils and the image policy, generated variations of build
// blocks, injection of awkward characters, and the health probes run for real.
import { createServer, type Server } from "node:http";
import { createServer as createTcpServer, type AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DockerfileParser, type Instruction } from "dockerfile-ast";
import { validate as lintDockerfile } from "dockerfile-utils";
import fc from "fast-check";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerKind } from "../src/kinds/docker/index.js";
import { ignoreHides, ignorePatternToRegExp } from "../src/kinds/docker/ignore.js";
import {
  DEFAULT_UID,
  baseReferenceOf,
  copiesOf,
  execForm,
  imageUserOf,
  needsHealthcheck,
  numericUserOf,
  splitImageReference,
} from "../src/kinds/docker/image.js";
import { looksSecretName } from "../src/kinds/docker/rules.js";
import { docsKind } from "../src/kinds/docs/index.js";
import { envKind } from "../src/kinds/env/index.js";
import type { ArtifactKind } from "../src/kinds/types.js";
import { parseDescriptor } from "../src/load.js";
import type { Build, Descriptor, Service } from "../src/model/descriptor.js";
import { buildContextOf, dockerfilePath, dockerignorePath, healthcheckArgv, inheritsForeignHealthcheck } from "../src/model/derive.js";
import { planFiles } from "../src/plan.js";
import type { Problem } from "../src/problems.js";
import { renderFiles, type RenderedFile } from "../src/render/index.js";
import { validateDescriptor } from "../src/validate/index.js";
import { checkDockerfile, checkPrettierClean, expectClean, type CheckResult } from "./checkers/index.js";
import { runTool } from "./checkers/process.js";

const examplesDir = join(import.meta.dirname, "..", "examples");

/** This kind with the two every deployment has (the env files and DEPLOY.md). */
const kinds: readonly ArtifactKind[] = [envKind, dockerKind, docsKind];

function validateText(text: string): { descriptor?: Descriptor; problems: Problem[] } {
  return validateDescriptor(parseDescriptor(text, "deploy.yaml"), "deploy.yaml", kinds);
}

function loadExample(name: string): Descriptor {
  const result = validateText(readFileSync(join(examplesDir, name, "deploy.yaml"), "utf8"));
  if (!result.descriptor) throw new Error(result.problems.map((p) => `${p.pointer}: ${p.message}`).join("\n"));
  return result.descriptor;
}

/** Validates like the command line does, then plans and renders every file. */
function generate(document: unknown): { descriptor: Descriptor; files: Map<string, RenderedFile> } {
  const result = validateText(stringify(document));
  if (!result.descriptor) throw new Error(`descriptor refused:\n${result.problems.map((p) => `${p.pointer}: ${p.message}`).join("\n")}`);
  const files = renderFiles(planFiles(result.descriptor, kinds), { descriptorFile: "deploy.yaml" });
  return { descriptor: result.descriptor, files: new Map(files.map((f) => [f.path, f])) };
}

function fileOf(files: Map<string, RenderedFile>, path: string): string {
  const file = files.get(path);
  if (!file) throw new Error(`${path} was not generated (have: ${[...files.keys()].join(", ")})`);
  return file.content;
}

function problemsOf(document: unknown): Problem[] {
  return validateText(stringify(document)).problems;
}

/** A one-service descriptor with the docker target; `service` is merged over a small web service. */
function descriptorWith(service: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: "shop",
    services: {
      web: {
        type: "web",
        build: { runtime: "python", command: ["gunicorn", "shop.wsgi"] },
        ports: [{ port: 8000 }],
        healthcheck: { http: { path: "/health", port: 8000 } },
        ...service,
      },
    },
    targets: { docker: {} },
    ...extra,
  };
}

function instructions(content: string, keyword: string): Instruction[] {
  return DockerfileParser.parse(content)
    .getInstructions()
    .filter((i) => i.getKeyword() === keyword);
}

/** The instructions of the last stage. */
function finalStage(content: string): Instruction[] {
  const all = DockerfileParser.parse(content).getInstructions();
  const lastFrom = all.map((i) => i.getKeyword()).lastIndexOf("FROM");
  return all.slice(lastFrom);
}

/** An instruction's arguments with its flags in front, as written. */
function withFlags(instruction: Instruction): string {
  const flags = "getFlags" in instruction ? (instruction as Instruction & { getFlags(): Array<{ getName(): string; getValue(): string | null }> }).getFlags() : [];
  return [...flags.map((f) => `--${f.getName()}=${f.getValue() ?? ""}`), instruction.getArgumentsContent() ?? ""].join(" ");
}

/** The exec-form JSON of CMD, or of HEALTHCHECK's CMD, as Docker reads it (a JSON array). */
function execArguments(instruction: Instruction): unknown {
  const raw = (instruction.getRawArgumentsContent() ?? "").trim();
  const json = instruction.getKeyword() === "HEALTHCHECK" ? raw.slice(raw.indexOf("CMD ") + 4) : raw;
  return JSON.parse(json);
}

/**
 * An ARG/ENV/LABEL value as BuildKit reads it. dockerfile-ast removes the quotes and the
 * escapes of `"` and `\`, but leaves `\$` as written because it marks a variable that is
 * not expanded; BuildKit then reads `\$` as a literal `$`.
 */
function declaredValue(content: string, keyword: "ARG" | "LABEL" | "ENV", name: string): string | undefined {
  for (const instruction of instructions(content, keyword)) {
    if (!("getProperties" in instruction)) continue;
    const properties = (instruction as Instruction & { getProperties(): Array<{ getName(): string; getValue(): string | null }> }).getProperties();
    for (const property of properties) {
      if (property.getName() === name) return (property.getValue() ?? "").replace(/\\\$/g, "$");
    }
  }
  return undefined;
}

describe("docker derivations", () => {
  it("defaults the base image per runtime and appends the digest", () => {
    const digest = `sha256:${"a".repeat(64)}`;
    expect(baseReferenceOf({ runtime: "python", command: ["x"] })).toBe("python:3.12-slim-bookworm");
    expect(baseReferenceOf({ runtime: "python", version: "3.11", command: ["x"] })).toBe("python:3.11-slim-bookworm");
    expect(baseReferenceOf({ runtime: "node", version: "20", command: ["x"] })).toBe("node:20-bookworm-slim");
    expect(baseReferenceOf({ runtime: "node", version: "20", digest, command: ["x"] })).toBe(`node:20-bookworm-slim@${digest}`);
    expect(baseReferenceOf({ runtime: "generic", base: "debian:bookworm-slim", command: ["x"] })).toBe("debian:bookworm-slim");
    expect(baseReferenceOf({ runtime: "generic", command: ["x"] })).toBeUndefined();
  });

  it("reads tags from the last path component only", () => {
    expect(splitImageReference("localhost:5000/team/base")).toEqual({ name: "localhost:5000/team/base" });
    expect(splitImageReference("localhost:5000/team/base:1.2")).toEqual({ name: "localhost:5000/team/base", tag: "1.2" });
    expect(splitImageReference(`alpine@sha256:${"b".repeat(64)}`)).toEqual({ name: "alpine", digest: `sha256:${"b".repeat(64)}` });
  });

  it("takes numeric non-root ids from the service user, else a fixed one", () => {
    expect(numericUserOf("10001:10002")).toEqual({ uid: 10001, gid: 10002 });
    expect(numericUserOf("1234")).toEqual({ uid: 1234, gid: 1234 });
    expect(numericUserOf("0:0")).toBeUndefined();
    expect(numericUserOf("host")).toBeUndefined();
    expect(imageUserOf("python", { user: "2000:3000" }).spec).toBe("2000:3000");
    expect(imageUserOf("python", { user: "host" })).toMatchObject({ name: "app", uid: DEFAULT_UID, create: true });
    expect(imageUserOf("generic", {})).toMatchObject({ spec: `${DEFAULT_UID}:${DEFAULT_UID}`, create: false });
    expect(imageUserOf("node", { user: "2000" }).spec).toBe("node");
  });

  it("copies each listed path to the same place, or the whole context once", () => {
    const build = (copy?: string[]): Build => ({ runtime: "python", command: ["x"], ...(copy ? { copy } : {}) });
    expect(copiesOf(build())).toEqual([{ source: ".", target: "./" }]);
    expect(copiesOf(build(["./app/", "pyproject.toml", "app"]))).toEqual([
      { source: "app", target: "./app" },
      { source: "pyproject.toml", target: "./pyproject.toml" },
    ]);
    expect(copiesOf(build(["app", "."]))).toEqual([{ source: ".", target: "./" }]);
    expect(buildContextOf({ context: "./pipelines/" })).toBe("pipelines");
    expect(buildContextOf({})).toBe(".");
  });

  it("writes exec form as a JSON array of strings", () => {
    const argv = ["sh", "-c", 'echo "$HOME" # é', "end\\"];
    expect(JSON.parse(execForm(argv))).toEqual(argv);
    expect(execForm(["a", "b"])).toBe('["a", "b"]');
  });

  it("matches ignore patterns the way Docker does", () => {
    // Cases from Docker's .dockerignore documentation.
    expect(ignoreHides("*/temp*", "somedir/temporary.txt")).toBe(true);
    expect(ignoreHides("*/temp*", "temp")).toBe(false);
    expect(ignoreHides("*/*/temp*", "somedir/subdir/temporary.txt")).toBe(true);
    expect(ignoreHides("temp?", "tempa")).toBe(true);
    expect(ignoreHides("**/*.go", "a/b/c.go")).toBe(true);
    expect(ignoreHides("**/*.go", "c.go")).toBe(true);
    // A pattern naming a folder hides everything in it; a plain name matches at the root only.
    expect(ignoreHides("tests", "tests/requirements.txt")).toBe(true);
    expect(ignoreHides("tests", "app/tests/test_x.py")).toBe(false);
    expect(ignoreHides("**/*.py[cod]", "app/x.pyc")).toBe(true);
    expect(ignoreHides("**/*.py[cod]", "app/x.py")).toBe(false);
    expect(ignorePatternToRegExp(".env.*").test(".envXrc")).toBe(false);
  });

  it("calls names secret when they would carry a value, not a path to one", () => {
    for (const name of ["DB_PASSWORD", "API_TOKEN", "GITHUB_TOKEN", "SECRET_KEY", "NPM_AUTH", "PRIVATE_KEY", "MYSECRET"]) expect(looksSecretName(name), name).toBe(true);
    for (const name of ["APP_VERSION", "DB_PASSWORD_FILE", "KEY_PATH", "PIP_INDEX_URL", "PYTHON_VERSION"]) expect(looksSecretName(name), name).toBe(false);
  });
});

describe("docker rules", () => {
  const pointers = (document: unknown): string[] => problemsOf(document).map((p) => p.pointer).sort();

  it("accepts the plain python service", () => {
    expect(problemsOf(descriptorWith({}))).toEqual([]);
  });

  it("refuses an unpinned or latest base image", () => {
    const build = (extra: Record<string, unknown>) => descriptorWith({ build: { runtime: "generic", command: ["app"], ...extra }, healthcheck: { command: ["app", "--check"] } });
    expect(pointers(build({ base: "debian" }))).toEqual(["/services/web/build/base"]);
    expect(pointers(build({ base: "debian:latest" }))).toEqual(["/services/web/build/base"]);
    expect(pointers(build({ base: "localhost:5000/base" }))).toEqual(["/services/web/build/base"]);
    expect(pointers(build({ base: "debian", digest: `sha256:${"c".repeat(64)}` }))).toEqual([]);
    expect(pointers(build({ base: `debian:12@sha256:${"c".repeat(64)}`, digest: `sha256:${"d".repeat(64)}` }))).toEqual(["/services/web/build/digest"]);
  });

  it("refuses a generic build without a base", () => {
    // The schema says so first; the kind's own rule says the same for descriptors built in code.
    expect(pointers(descriptorWith({ build: { runtime: "generic", command: ["app"] }, healthcheck: { command: ["true"] } }))).toEqual(["/services/web/build/base"]);
    const d = descriptorWith({ build: { runtime: "generic", command: ["app"] }, healthcheck: { command: ["true"] } }) as unknown as Descriptor;
    expect(dockerKind.check?.(d).map((p) => p.pointer)).toEqual(["/services/web/build"]);
  });

  it("refuses a build arg that looks like a secret, pointing at it", () => {
    const problems = problemsOf(descriptorWith({ build: { runtime: "python", command: ["x"], args: { APP_VERSION: "1", NPM_TOKEN: "abc" } } }));
    expect(problems.map((p) => p.pointer)).toEqual(["/services/web/build/args/NPM_TOKEN"]);
    expect(problems[0]?.hint).toContain("build.secrets");
  });

  it("refuses paths and build commands that would change meaning in a Dockerfile", () => {
    expect(pointers(descriptorWith({ build: { runtime: "python", command: ["x"], copy: ["my app"], context: "a,b" } }))).toEqual([
      "/services/web/build/context",
      "/services/web/build/copy/0",
    ]);
    const run = ["make \\", "cat <<EOF", "--mount=type=ssh true", "# nothing", "  ", "\\# hidden", "sort <<}", "echo $((1<<2)) done", "cat <<<word"];
    expect(pointers(descriptorWith({ build: { runtime: "python", command: ["x"], run } }))).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `/services/web/build/run/${i}`));
  });

  it("needs a health command for generic images, which have no known probe client", () => {
    const generic = { runtime: "generic", base: "debian:bookworm-slim", command: ["app"] };
    expect(pointers(descriptorWith({ build: generic }))).toEqual(["/services/web/healthcheck/http"]);
    expect(pointers(descriptorWith({ build: generic, healthcheck: undefined }))).toEqual(["/services/web"]);
    expect(pointers(descriptorWith({ build: generic, healthcheck: { command: ["app", "--ping"] } }))).toEqual([]);
  });

  it("refuses images that would listen without a health check: a job with ports, a UDP-only service", () => {
    const python = { runtime: "python", command: ["python", "-m", "app"] };
    const job = descriptorWith({ type: "job", build: python, ports: [{ port: 8020 }], healthcheck: undefined });
    expect(pointers(job)).toEqual(["/services/web/ports"]);
    expect(problemsOf(job)[0]?.message).toContain("a job runs to completion");
    const udp = descriptorWith({ build: python, ports: [{ port: 8000, protocol: "udp" }], healthcheck: undefined });
    expect(pointers(udp)).toEqual(["/services/web"]);
    expect(problemsOf(udp)[0]?.hint).toContain("healthcheck.command");
    const checked = descriptorWith({ build: python, ports: [{ port: 8000, protocol: "udp" }], healthcheck: { command: ["python", "-m", "app.ping"] } });
    expect(pointers(checked)).toEqual([]);
  });

  it("refuses packages and unused secrets on generic builds", () => {
    const generic = { runtime: "generic", base: "alpine:3.20", command: ["app"], systemPackages: ["curl"], secrets: ["token"] };
    const extra = { secrets: { token: { description: "Index token" } } };
    expect(pointers(descriptorWith({ build: generic, healthcheck: { command: ["true"] } }, extra))).toEqual([
      "/services/web/build/secrets",
      "/services/web/build/systemPackages",
    ]);
  });

  it("refuses a service user the built image does not have", () => {
    expect(pointers(descriptorWith({ user: "www-data" }))).toEqual([]);
    expect(pointers(descriptorWith({ user: "app:app" }))).toEqual([]);
    expect(pointers(descriptorWith({ user: "pipeline" }))).toEqual(["/services/web/user"]);
    const shared = descriptorWith({}, {});
    (shared["services"] as Record<string, unknown>)["worker"] = { imageOf: "web", user: "celery", command: ["celery", "worker"] };
    expect(pointers(shared)).toEqual(["/services/worker/user"]);
  });
});

describe("docker files of the examples", () => {
  const examples = ["bids-flux", "genui", "mlops-api"] as const;

  for (const example of examples) {
    it(`${example}: every Dockerfile passes dockerfile-utils and the image policy`, async () => {
      const d = loadExample(example);
      const files = renderFiles(planFiles(d, kinds), { descriptorFile: "deploy.yaml" });
      const dockerfiles = files.filter((f) => f.kind === "dockerfile");
      expect(dockerfiles.length).toBeGreaterThan(0);
      for (const file of dockerfiles) {
        const name = file.path.replace(/^docker\/(.*)\.Dockerfile$/, "$1");
        const service = d.services[name];
        if (!service) throw new Error(`${file.path} names no service`);
        expectClean(await checkDockerfile(file.content, { service: needsHealthcheck(service) }), file.path);
        // Not even dockerfile-utils' information and hint diagnostics.
        expect(lintDockerfile(file.content).map((diagnostic) => diagnostic.message), file.path).toEqual([]);
        expect(files.some((f) => f.path === `${file.path}.dockerignore` && f.kind === "dockerignore"), `${file.path} has its ignore file`).toBe(true);
      }
      const built = Object.entries(d.services).filter(([, s]) => s.build && (s.platform ?? "container") === "container");
      expect(dockerfiles.map((f) => f.path).sort()).toEqual(built.map(([name]) => dockerfilePath(name)).sort());
    });

    it(`${example}: DEPLOY.md builds and pushes each image and is prettier-clean`, async () => {
      const d = loadExample(example);
      const docs = renderFiles(planFiles(d, kinds), { descriptorFile: "deploy.yaml" }).find((f) => f.path === "DEPLOY.md");
      if (!docs) throw new Error("no DEPLOY.md");
      expectClean(await checkPrettierClean("DEPLOY.md", docs.content), "DEPLOY.md");
      expect(docs.content).toContain("## Build and push images");
      for (const [name, service] of Object.entries(d.services)) {
        if (!service.build || (service.platform ?? "container") !== "container") continue;
        expect(docs.content).toContain(`docker build -f ${dockerfilePath(name)}`);
        expect(docs.content).toContain(dockerignorePath(name));
      }
    });
  }

  it("mlops-api: copies the app, installs the requirements, runs as non-root on 8080 with a health probe", () => {
    const { files } = generate(readYaml("mlops-api"));
    const content = fileOf(files, "docker/api.Dockerfile");
    const final = finalStage(content);
    const keyword = (k: string) => final.filter((i) => i.getKeyword() === k);
    expect(keyword("USER").map((i) => i.getArgumentsContent())).toEqual(["10001:10001"]);
    expect(keyword("EXPOSE").map((i) => i.getArgumentsContent())).toEqual(["8080/tcp"]);
    expect(keyword("COPY").map(withFlags)).toEqual(["--from=builder /opt/venv /opt/venv", "app ./app"]);
    const cmd = keyword("CMD")[0];
    if (!cmd) throw new Error("no CMD");
    expect(execArguments(cmd)).toEqual(["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8080"]);
    expect(content).toMatch(/pip install -r \/tmp\/requirements\.txt/);
    expect(content).toContain("--mount=type=cache,target=/root/.cache/pip");
    expect(keyword("HEALTHCHECK").map(withFlags)[0]).toMatch(/^--interval=30s --timeout=5s --start-period=20s --retries=3 CMD \["python", "-c", /);
  });

  it("genui: compilers stay in the builder stage, runtime libraries reach the final one, shared images build once", () => {
    const { files } = generate(readYaml("genui"));
    expect([...files.keys()].filter((p) => p.startsWith("docker/"))).toEqual(["docker/web.Dockerfile", "docker/web.Dockerfile.dockerignore"]);
    const content = fileOf(files, "docker/web.Dockerfile");
    const finalRuns = finalStage(content)
      .filter((i) => i.getKeyword() === "RUN")
      .map((i) => i.getArgumentsContent() ?? "")
      .join("\n");
    expect(finalRuns).toContain("libpq5");
    expect(finalRuns).not.toMatch(/build-essential|libpq-dev/);
    expect(content.slice(0, content.indexOf("AS final"))).toContain("build-essential libpq-dev");
    expect(fileOf(files, "DEPLOY.md")).toContain("`worker` runs the image of `web`");
  });

  it("a service that declares no check but listens on TCP gets a connect probe; services sharing the image must disable it", () => {
    const { descriptor, files } = generate(descriptorWith({ healthcheck: undefined }));
    const content = fileOf(files, "docker/web.Dockerfile");
    expect(content).toContain("# The descriptor gives no healthcheck: this one only checks that port 8000 accepts connections.");
    const probe = instructions(content, "HEALTHCHECK")[0];
    expect(probe ? execArguments(probe) : undefined).toEqual(healthcheckArgv("python", { tcp: { port: 8000 } }));
    expect(inheritsForeignHealthcheck(descriptor, "web")).toBe(false);
    const genui = loadExample("genui");
    expect(inheritsForeignHealthcheck(genui, "worker")).toBe(true);
    expect(inheritsForeignHealthcheck(genui, "worker-gpu")).toBe(true);
    expect(inheritsForeignHealthcheck({ ...genui, services: { ...genui.services, worker: { ...genui.services["worker"], healthcheck: { command: ["celery", "inspect", "ping"] } } } }, "worker")).toBe(false);
  });

  it("bids-flux: the pipeline builds from its own context and, with no port or check, declares no probe", () => {
    const { files } = generate(readYaml("bids-flux"));
    const content = fileOf(files, "docker/pipeline.Dockerfile");
    expect(instructions(content, "HEALTHCHECK")).toEqual([]);
    expect(instructions(content, "USER").map((i) => i.getArgumentsContent())).toEqual(["10001:10001"]);
    expect(fileOf(files, "DEPLOY.md")).toContain("docker build -f docker/pipeline.Dockerfile -t ghcr.io/bids-lab/bids-flux-pipeline:\"$TAG\" pipelines");
    // The context is pipelines/, so the deployment's own files at the root are not in it.
    expect(fileOf(files, "docker/pipeline.Dockerfile.dockerignore")).not.toMatch(/^secrets$/m);
    expect(fileOf(files, "docker/api.Dockerfile.dockerignore")).toMatch(/^secrets$/m);
  });

  it("dicom-pipeline: a systemd service gets no Dockerfile, even with the docker target", () => {
    const d = loadExample("dicom-pipeline");
    expect(dockerKind.enabled(d)).toBe(false);
    const withTarget = { ...d, targets: { ...d.targets, docker: {} } };
    expect(dockerKind.enabled(withTarget)).toBe(false);
    expect(dockerKind.plan(withTarget, { files: [], sections: [] })).toEqual([]);
  });
});

function readYaml(example: string): unknown {
  return parseDescriptor(readFileSync(join(examplesDir, example, "deploy.yaml"), "utf8"), "deploy.yaml").value;
}

describe("docker ignore files", () => {
  it("keep VCS, env and secret files, tests and build outputs out", () => {
    const { files } = generate(descriptorWith({}));
    const lines = fileOf(files, "docker/web.Dockerfile.dockerignore").split("\n");
    for (const pattern of [".git", "**/.env", "**/.env.*", "**/*.pem", "secrets", "env", "tests", "**/__pycache__", "**/node_modules", ".venv", "dist", "build"]) {
      expect(lines, pattern).toContain(pattern);
    }
  });

  it("name env files written beside deploy.yaml one by one, never hiding the whole context", () => {
    // Found end to end: targets.env.dir "." planned ./default.env (refused as unsafe) and put "." in the ignore file.
    const { files } = generate(descriptorWith({}, { environments: { prod: {}, debug: {} }, targets: { env: { dir: "." }, docker: {}, compose: {} } }));
    const patterns = fileOf(files, "docker/web.Dockerfile.dockerignore").split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    expect(patterns).not.toContain(".");
    expect(patterns).toEqual(expect.arrayContaining(["prod.env", "debug.env", "secrets.env.example"]));
    expect([...files.keys()]).toEqual(expect.arrayContaining(["prod.env", "debug.env"]));
  });

  it("never hide a file the build reads", () => {
    const { files } = generate(descriptorWith({ build: { runtime: "python", command: ["x"], requirements: "tests/requirements.txt", copy: ["dist", "app"] } }));
    const content = fileOf(files, "docker/web.Dockerfile.dockerignore");
    const patterns = content.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    for (const path of ["tests/requirements.txt", "dist", "app/main.py"]) {
      expect(patterns.filter((p) => ignoreHides(p, path)), path).toEqual([]);
    }
    expect(content).toContain("# tests (needed: tests/requirements.txt)");
    expect(content).toContain("# dist (needed: dist)");
  });
});

describe("docker build secrets", () => {
  const withSecret = (runtime: "python" | "node") =>
    descriptorWith(
      { build: { runtime, command: ["x"], secrets: ["index-token"] } },
      { secrets: { "index-token": { description: "Private package index", env: runtime === "node" ? "NPM_TOKEN" : "PIP_INDEX_URL" } } },
    );

  it("reach the install step as a required mount with the variable the package manager reads", () => {
    const { files } = generate(withSecret("python"));
    const content = fileOf(files, "docker/web.Dockerfile");
    const install = instructions(content, "RUN").find((i) => (i.getArgumentsContent() ?? "").includes("pip install"));
    expect(install ? withFlags(install) : "").toContain("--mount=type=secret,id=index-token,env=PIP_INDEX_URL,target=/run/secrets/index-token,required=true");
    expect(content).not.toMatch(/^(ARG|ENV)\s+PIP_INDEX_URL/m);
    expect(fileOf(files, "DEPLOY.md")).toContain("--secret id=index-token,src=secrets/index-token");
  });

  it("mount the project's .npmrc for npm, and let it through the ignore file", async () => {
    const { files } = generate(withSecret("node"));
    const content = fileOf(files, "docker/web.Dockerfile");
    expect(content).toContain("--mount=type=bind,source=.npmrc,target=.npmrc");
    const ignore = fileOf(files, "docker/web.Dockerfile.dockerignore").split("\n");
    expect(ignore).not.toContain(".npmrc");
    expect(ignore).toContain("# .npmrc (needed: .npmrc)");
    const docs = fileOf(files, "DEPLOY.md");
    expect(docs).toContain("_authToken=${NPM_TOKEN}");
    expectClean(await checkPrettierClean("DEPLOY.md", docs), "DEPLOY.md");
    expectClean(await checkDockerfile(content, { service: true }));
  });
});

describe("docker variations (property-based)", () => {
  const safeText = fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }).filter((s) => !/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/u.test(s));
  // Label and arg values the kind accepts (a leading quote is refused, see the injection tests).
  const labelText = safeText.filter((s) => !/^['"]/.test(s));
  const digest = fc.stringMatching(/^[a-f0-9]{64}$/).map((hex) => `sha256:${hex}`);
  const port = fc.integer({ min: 1, max: 65535 });
  const argName = fc.constantFrom("APP_VERSION", "BUILD_DATE", "INDEX_HOST", "VCS_REF", "FEATURES");

  const variation = fc
    .record({
      runtime: fc.constantFrom("python", "node", "generic") as fc.Arbitrary<Build["runtime"]>,
      version: fc.option(fc.constantFrom("3.11", "3.12", "20", "22"), { nil: undefined }),
      genericBase: fc.constantFrom("debian:bookworm-slim", "alpine:3.20", "ghcr.io/acme/base:1.2.3", "localhost:5000/team/base:2024.1"),
      digest: fc.option(digest, { nil: undefined }),
      context: fc.constantFrom(".", "./app", "services/api"),
      requirements: fc.constantFrom("requirements.txt", "requirements/prod.txt", "tests/requirements.txt"),
      systemPackages: fc.subarray(["libpq5", "ca-certificates", "libjpeg62-turbo=1:2.1.5-2"]),
      buildPackages: fc.subarray(["build-essential", "libpq-dev", "gcc"]),
      copy: fc.option(fc.subarray(["app", "src", "pyproject.toml", "dist", "test/fixtures"], { minLength: 1 }), { nil: undefined }),
      command: fc.array(safeText, { minLength: 1, maxLength: 4 }),
      args: fc.dictionary(argName, labelText, { maxKeys: 3 }),
      run: fc.subarray(['echo "$HOME" # note', "ln -s /app/bin/tool /usr/local/bin/tool", "make install PREFIX=/usr/local", "test -d /app && echo 'ready: ü'"]),
      withSecret: fc.boolean(),
      ports: fc.uniqueArray(fc.record({ port, protocol: fc.constantFrom("tcp", "udp") }), { selector: (p) => p.port, maxLength: 2 }),
      check: fc.constantFrom("none", "http", "tcp", "command"),
      interval: fc.option(fc.constantFrom("10s", "1m30s", "500ms"), { nil: undefined }),
      retries: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
      user: fc.constantFrom(undefined, "10001:10001", "1234", "host"),
      type: fc.constantFrom("web", "worker", "job"),
      description: fc.option(labelText, { nil: undefined }),
    })
    .map((v) => {
      // Jobs serve nothing (no ports); a UDP-only service must say how to check it.
      const ports = v.type === "job" ? [] : v.ports;
      const tcpPort = ports.find((p) => p.protocol === "tcp")?.port;
      const generic = v.runtime === "generic";
      const check =
        v.check === "command" || (generic && v.check !== "none")
          ? { command: ["app", "--health", ...v.command.slice(0, 1).filter((arg) => !arg.includes("${"))] }
          : v.check === "http" && tcpPort !== undefined
            ? { http: { path: "/health?probe=1", port: tcpPort } }
            : v.check === "tcp" && tcpPort !== undefined
              ? { tcp: { port: tcpPort } }
              : undefined;
      const udpOnly = ports.length > 0 && tcpPort === undefined;
      const healthcheck = check ?? ((generic && tcpPort !== undefined && v.type !== "job") || udpOnly ? { command: ["app", "--health"] } : undefined);
      const build: Record<string, unknown> = {
        runtime: v.runtime,
        command: v.command,
        context: v.context,
        ...(v.version !== undefined && !generic ? { version: v.runtime === "python" ? (v.version.includes(".") ? v.version : "3.12") : v.version.includes(".") ? "22" : v.version } : {}),
        ...(generic ? { base: v.genericBase } : {}),
        ...(v.digest !== undefined ? { digest: v.digest } : {}),
        ...(v.runtime === "python" ? { requirements: v.requirements } : {}),
        ...(!generic && v.systemPackages.length > 0 ? { systemPackages: v.systemPackages } : {}),
        ...(!generic && v.buildPackages.length > 0 ? { buildPackages: v.buildPackages } : {}),
        ...(v.copy !== undefined ? { copy: v.copy } : {}),
        ...(Object.keys(v.args).length > 0 ? { args: v.args } : {}),
        ...(v.run.length > 0 ? { run: v.run } : {}),
        ...(v.withSecret && (!generic || v.run.length > 0) ? { secrets: ["index-token"] } : {}),
      };
      const service: Record<string, unknown> = {
        type: v.type,
        build,
        ...(ports.length > 0 ? { ports } : {}),
        ...(healthcheck ? { healthcheck: { ...healthcheck, ...(v.interval ? { interval: v.interval } : {}), ...(v.retries ? { retries: v.retries } : {}) } } : {}),
        ...(v.user !== undefined ? { user: v.user } : {}),
        ...(v.description !== undefined ? { description: v.description } : {}),
      };
      return {
        name: "shop",
        services: { web: service },
        secrets: { "index-token": { description: "Private package index URL with its token", env: "PIP_INDEX_URL" } },
        targets: { docker: {} },
      };
    });

  it("every accepted build block gives a Dockerfile that passes dockerfile-utils and the image policy", async () => {
    await fc.assert(
      fc.asyncProperty(variation, async (document) => {
        const { descriptor, files } = generate(document);
        const service = descriptor.services["web"] as Service & { build: Build };
        const content = fileOf(files, "docker/web.Dockerfile");
        const result = await checkDockerfile(content, { service: needsHealthcheck(service) });
        expect(result.findings, content).toEqual([]);
        expect(lintDockerfile(content).map((diagnostic) => diagnostic.message), content).toEqual([]);

        const froms = instructions(content, "FROM").map((i) => i.getArgumentsContent() ?? "");
        if (service.build.digest) for (const from of froms) expect(from).toContain(`@${service.build.digest}`);
        const cmd = finalStage(content).filter((i) => i.getKeyword() === "CMD");
        expect(cmd.length).toBe(1);
        expect(execArguments(cmd[0] as Instruction)).toEqual(service.build.command);
        const exposed = instructions(content, "EXPOSE").flatMap((i) => (i.getArgumentsContent() ?? "").split(" "));
        expect(exposed.sort()).toEqual((service.ports ?? []).map((p) => `${p.port}/${p.protocol ?? "tcp"}`).sort());
        for (const [name, value] of Object.entries(service.build.args ?? {})) expect(declaredValue(content, "ARG", name)).toBe(value);
        if (service.description !== undefined) expect(declaredValue(content, "LABEL", "org.opencontainers.image.description")).toBe(service.description);
        // Build steps that install get the secret, and only as a mount.
        if (service.build.secrets) expect(content).toContain("--mount=type=secret,id=index-token,env=PIP_INDEX_URL");
        expect(content).not.toMatch(/^(ENV|ARG)\s+PIP_INDEX_URL/m);

        const ignore = fileOf(files, "docker/web.Dockerfile.dockerignore");
        const patterns = ignore.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
        expect(patterns).toContain(".git");
        expect(patterns).toContain("**/.env");
        const needed = [...(service.build.runtime === "python" ? [service.build.requirements ?? "requirements.txt"] : []), ...(service.build.copy ?? [])];
        for (const path of needed) expect(patterns.filter((p) => ignoreHides(p, path)), path).toEqual([]);
      }),
      { numRuns: 30 },
    );
  });

  it("plans the same bytes twice", () => {
    fc.assert(
      fc.property(variation, (document) => {
        const first = [...generate(document).files.values()].map((f) => f.content);
        const second = [...generate(document).files.values()].map((f) => f.content);
        expect(second).toEqual(first);
      }),
      { numRuns: 15 },
    );
  });
});

describe("docker injection", () => {
  const awkward = [
    "$HOME",
    "${PATH}",
    "${PATH:1}",
    "$(id -u)",
    "`id`",
    'say "double"',
    "it's 'single'",
    "unbalanced ' \" quotes",
    "# not a comment",
    "two  spaces ",
    "semi; rm -rf /",
    "100% sure",
    "back\\slash",
    "ends with \\",
    "\\$escaped",
    "é ü 中文 😀",
    "--flag=value",
    "[\"json\"]",
  ];

  it("build args and descriptions come out quoted and read back unchanged", async () => {
    const args = Object.fromEntries(awkward.map((value, i) => [`ARG_${i}`, value]));
    for (const description of awkward) {
      const { files } = generate(descriptorWith({ description, build: { runtime: "python", command: ["x"], args } }));
      const content = fileOf(files, "docker/web.Dockerfile");
      expectClean(await checkDockerfile(content, { service: true }), `description ${JSON.stringify(description)}`);
      expect(declaredValue(content, "LABEL", "org.opencontainers.image.description")).toBe(description);
      for (const [name, value] of Object.entries(args)) expect(declaredValue(content, "ARG", name), name).toBe(value);
      // Nothing but the instructions we wrote: no value became an instruction of its own.
      expect(DockerfileParser.parse(content).getInstructions().map((i) => i.getKeyword())).toEqual(instructionShape(content));
    }
  });

  it("commands and health commands come out in exec form and read back unchanged", async () => {
    for (const value of [...awkward.filter((v) => !v.includes("${PATH:1}")), "'leading quote", '"leading double', "${HOME:-/root}"]) {
      const command = ["prog", value, "--opt", value];
      const check = ["sh", "-c", value];
      const { files } = generate(descriptorWith({ build: { runtime: "node", command }, healthcheck: { command: check } }));
      const content = fileOf(files, "docker/web.Dockerfile");
      expectClean(await checkDockerfile(content, { service: true }), `command ${JSON.stringify(value)}`);
      const final = finalStage(content);
      expect(execArguments(final.find((i) => i.getKeyword() === "CMD") as Instruction)).toEqual(command);
      expect(execArguments(final.find((i) => i.getKeyword() === "HEALTHCHECK") as Instruction)).toEqual(check);
    }
  });

  it("build commands reach RUN as written, one instruction each", async () => {
    const run = ['echo "$HOME" \'$USER\' # comment', "printf '%s\\n' é 中文", "a=1; b=$((a<<2)); echo $b"];
    const { files } = generate(descriptorWith({ build: { runtime: "generic", base: "debian:bookworm-slim", command: ["x"], run }, healthcheck: { command: ["true"] } }));
    const content = fileOf(files, "docker/web.Dockerfile");
    expectClean(await checkDockerfile(content, { service: true }));
    expect(instructions(content, "RUN").map((i) => i.getArgumentsContent())).toEqual(run);
  });

  it("refuses what Dockerfile linters misread: leading quotes in labels and args, ${NAME:…} in a HEALTHCHECK", () => {
    const problems = problemsOf(
      descriptorWith({
        description: "'quoted' title",
        build: { runtime: "python", command: ["'fine in exec form"], args: { APP_VERSION: '"1.0"' } },
        healthcheck: { command: ["sh", "-c", "test ${READY:=yes} = yes"] },
      }),
    );
    expect(problems.map((p) => p.pointer).sort()).toEqual(["/services/web/build/args/APP_VERSION", "/services/web/description", "/services/web/healthcheck/command/2"]);
    // The deployment's description is the label when the service has none.
    expect(problemsOf({ ...descriptorWith({}), description: '"Shop" API' }).map((p) => p.pointer)).toEqual(["/description"]);
  });

  it("rejects line breaks at validation, naming the field", () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ build: { runtime: "python", command: ["x"], args: { APP_VERSION: "1\nRUN id" } } }, "/services/web/build/args/APP_VERSION"],
      [{ build: { runtime: "python", command: ["x", "a\nb"] } }, "/services/web/build/command/1"],
      [{ build: { runtime: "python", command: ["x"], run: ["true\nUSER root"] } }, "/services/web/build/run/0"],
      [{ description: "web\r\nUSER root" }, "/services/web/description"],
      [{ healthcheck: { command: ["true\u2028"] } }, "/services/web/healthcheck/command/0"],
    ];
    for (const [service, pointer] of cases) {
      const problems = problemsOf(descriptorWith(service));
      expect(problems.map((p) => p.pointer), pointer).toContain(pointer);
    }
  });
});

/** The keywords a generated python Dockerfile has, read from its own lines (one instruction per non-continued line). */
function instructionShape(content: string): string[] {
  const keywords: string[] = [];
  let continued = false;
  for (const line of content.split("\n")) {
    if (!continued && line !== "" && !line.startsWith("#")) keywords.push(line.split(" ")[0] ?? "");
    continued = line.endsWith("\\");
  }
  return keywords;
}

describe("health probes run for real", () => {
  let server: Server;
  let tcp: ReturnType<typeof createTcpServer>;
  let httpPort = 0;
  let tcpPort = 0;
  let closedPort = 0;
  const seen: string[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      seen.push(request.url ?? "");
      response.statusCode = request.url?.startsWith("/fail") ? 500 : 200;
      response.end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    httpPort = (server.address() as AddressInfo).port;
    tcp = createTcpServer((socket) => socket.end());
    await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
    tcpPort = (tcp.address() as AddressInfo).port;
    const probe = createTcpServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
  });

  /** Runs a probe with this machine's interpreter in place of the image's; the exit code says healthy or not. */
  async function runProbe(argv: string[]): Promise<CheckResult & { code?: number }> {
    const interpreter = argv[0] === "python" ? "python3" : process.execPath;
    const run = await runTool(interpreter, argv.slice(1));
    if (run.missing) return { tool: interpreter, skipped: run.reason, findings: [] };
    return { tool: interpreter, findings: [], code: run.code };
  }

  for (const runtime of ["python", "node"] as const) {
    it(`${runtime}: the HTTP probe passes on 200, fails on 500 and on a closed port, and sends the path unchanged`, async () => {
      const path = "/health/a-b_c~d!$&'()*+,;=:@%20?x=1";
      const argv = (p: string, port: number) => healthcheckArgv(runtime, { http: { path: p, port } }) ?? [];
      const ok = await runProbe(argv(path, httpPort));
      expectClean(ok);
      if (ok.skipped) return;
      expect(ok.code).toBe(0);
      expect(seen).toContain(path);
      expect((await runProbe(argv("/fail", httpPort))).code).not.toBe(0);
      expect((await runProbe(argv("/health", closedPort))).code).not.toBe(0);
    });

    it(`${runtime}: the TCP probe passes on a listening port and fails on a closed one`, async () => {
      const ok = await runProbe(healthcheckArgv(runtime, { tcp: { port: tcpPort } }) ?? []);
      expectClean(ok);
      if (ok.skipped) return;
      expect(ok.code).toBe(0);
      expect((await runProbe(healthcheckArgv(runtime, { tcp: { port: closedPort } }) ?? [])).code).not.toBe(0);
    });
  }

  it("generic images have no derived probe", () => {
    expect(healthcheckArgv("generic", { http: { path: "/", port: 80 } })).toBeUndefined();
    expect(healthcheckArgv("generic", { command: ["true"] })).toEqual(["true"]);
  });
});
