// The wizard in process: detection, answers → descriptor for every shape, the descriptor's
// text, presets, plop's init generator driven through its answer bypass (against golden
// files), and add service on a commented descriptor.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import fc from "fast-check";
import nodePlop from "node-plop";
import { isAlias, parseDocument, visit } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { formatProblem } from "../src/problems.js";
import { insertService, type ServiceRequest } from "../src/wizard/add-service.js";
import * as api from "../src/wizard/api.js";
import { CACHES, DATABASES, FIREWALLS, type InitAnswers, REGISTRIES, RUNTIMES, SHAPES, splitCommand, toIdentifier } from "../src/wizard/answers.js";
import { checkDescriptorText } from "../src/wizard/check-text.js";
import { descriptorText, LOCAL_SCHEMA, publishedSchemaUrl, schemaReference } from "../src/wizard/descriptor-text.js";
import { detectProject, guessCommand } from "../src/wizard/detect.js";
import { EXAMPLE_PRESETS, examplePresetText, findPreset, PRESET_NAMES } from "../src/wizard/presets.js";
import { initQuestions, resolveAnswers } from "../src/wizard/questions.js";
import { createSession } from "../src/wizard/session.js";
import { composeDescriptor } from "../src/wizard/shapes.js";
import { checkPrettierClean, expectClean } from "./checkers/index.js";
import { repoRoot } from "./checkers/paths.js";

const PLOPFILE = join(repoRoot, "generators", "plopfile.js");
const GOLDEN = join(repoRoot, "test", "wizard-golden");
const update = process.env.UPDATE_GOLDEN === "1";

const dirs: string[] = [];
function tempDir(files: Record<string, string> = {}): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "create-deploy-wizard-")));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const FLASK_APP = {
  "requirements.txt": "flask==3.0.3\ngunicorn==22.0.0\n",
  "app.py": 'from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.get("/")\ndef index():\n    return "hello"\n',
};

function recordingIo(): { out: string[]; err: string[]; io: { out(line: string): void; err(line: string): void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (line) => out.push(line), err: (line) => err.push(line) } };
}

function expectValid(text: string): void {
  const result = checkDescriptorText(text);
  expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual([]);
}

describe("detecting the repository", () => {
  it("reads a Flask app: python, its requirements, the folder's name and a gunicorn command", () => {
    const dir = tempDir(FLASK_APP);
    const project = detectProject(dir);
    expect(project.runtime).toBe("python");
    expect(project.requirements).toBe("requirements.txt");
    expect(project.pythonPackages).toEqual(["flask", "gunicorn"]);
    expect(project.name).toBe(toIdentifier(dir.split(sep).pop() ?? ""));
    expect(guessCommand(dir, project, "python", "compose", "demo", 8000).command).toEqual(["gunicorn", "app:app", "--bind", "0.0.0.0:8000"]);
  });

  it("names the project from package.json or pyproject.toml before the folder", () => {
    expect(detectProject(tempDir({ "package.json": '{"name": "@acme/Shop_Front"}', "server.js": "" })).name).toBe("shop-front");
    const py = tempDir({ "pyproject.toml": '[project]\nname = "ml_api"\ndependencies = ["fastapi>=0.110", "uvicorn[standard]"]\n', "main.py": "" });
    const project = detectProject(py);
    expect(project).toMatchObject({ name: "ml-api", runtime: "python", pythonPackages: ["fastapi", "uvicorn"] });
    expect(guessCommand(py, project, "python", "compose", "ml-api", 9000).command).toEqual(["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "9000"]);
  });

  it("tells node from a plain repository, and reads the GitHub owner of origin", () => {
    const node = tempDir({ "package.json": '{"name":"web","engines":{"node":">=20.11"}}', "index.js": "" });
    expect(detectProject(node)).toMatchObject({ runtime: "node", version: "20" });
    expect(guessCommand(node, detectProject(node), "node", "compose", "web", 3000).command).toEqual(["node", "index.js"]);
    const plain = tempDir({ ".git/config": '[remote "origin"]\n\turl = git@github.com:Acme-Labs/tool.git\n' });
    expect(detectProject(plain)).toMatchObject({ runtime: "image", githubOwner: "acme-labs" });
  });

  it("says when the guessed server is missing from the requirements", () => {
    const dir = tempDir({ "requirements.txt": "flask\n", "app.py": "" });
    expect(guessCommand(dir, detectProject(dir), "python", "compose", "x", 8000).note).toMatch(/gunicorn/);
  });
});

describe("answers", () => {
  it("splits a command line like a shell, without expanding anything", () => {
    expect(splitCommand(`gunicorn app:app --bind '0.0.0.0:8000' --name "my app" $HOME`)).toEqual(["gunicorn", "app:app", "--bind", "0.0.0.0:8000", "--name", "my app", "$HOME"]);
    expect(splitCommand("python 'unclosed")).toBeUndefined();
  });

  it("resolves defaults in question order, so the command follows the runtime, shape and port", () => {
    const dir = tempDir(FLASK_APP);
    const questions = initQuestions(dir, detectProject(dir));
    const resolved = resolveAnswers(questions, { name: "shop", port: "9000" });
    expect(resolved).toMatchObject({ ok: true, answers: { name: "shop", runtime: "python", shape: "compose", port: 9000, command: ["gunicorn", "app:app", "--bind", "0.0.0.0:9000"] } });
    expect(resolveAnswers(questions, { port: "none" })).toMatchObject({ ok: true, answers: { port: undefined } });
    expect(resolveAnswers(questions, { name: "Bad Name" })).toMatchObject({ ok: false, question: "name" });
    expect(resolveAnswers(questions, { shape: "kubernetes" })).toMatchObject({ ok: false, question: "shape" });
    expect(resolveAnswers(questions, { port: "70000" })).toMatchObject({ ok: false, question: "port" });
  });
});

const answersArbitrary = fc.record({
  name: fc.constantFrom("demo", "a", "shop-front-2"),
  runtime: fc.constantFrom(...RUNTIMES),
  shape: fc.constantFrom(...SHAPES),
  port: fc.constantFrom(8000, 80, 3000, undefined),
  database: fc.constantFrom(...DATABASES),
  cache: fc.constantFrom(...CACHES),
  gpu: fc.boolean(),
  registry: fc.constantFrom(...REGISTRIES),
  firewall: fc.constantFrom(...FIREWALLS),
});

/** Whether a YAML text has anchors or aliases: valid, but not what a person writes or expects to edit. */
function hasAnchors(text: string): boolean {
  let found = false;
  visit(parseDocument(text), (_key, node) => {
    if (isAlias(node) || (typeof node === "object" && node !== null && "anchor" in node && node.anchor !== undefined)) {
      found = true;
      return visit.BREAK;
    }
    return undefined;
  });
  return found;
}

function withCommand(a: Omit<InitAnswers, "command">, dir: string): InitAnswers {
  const project = { ...detectProject(dir), runtime: a.runtime };
  return { ...a, command: guessCommand(dir, project, a.runtime, a.shape, a.name, a.port).command };
}

describe("every combination of answers makes a valid descriptor", () => {
  it("for each shape with everything chosen", () => {
    const dir = tempDir(FLASK_APP);
    for (const shape of SHAPES) {
      const answers = withCommand({ name: "demo", runtime: "python", shape, port: 8000, database: "postgres", cache: "redis", gpu: true, registry: "quay.io", firewall: "nftables" }, dir);
      const composed = composeDescriptor(answers, {});
      expectValid(descriptorText(composed.descriptor, "https://example.org/s.json"));
    }
  });

  it("for any answers (sampled)", () => {
    const dir = tempDir(FLASK_APP);
    fc.assert(
      fc.property(answersArbitrary, (a) => {
        const composed = composeDescriptor(withCommand(a, dir), { requirements: "requirements.txt" });
        const text = descriptorText(composed.descriptor, "https://example.org/s.json");
        const result = checkDescriptorText(text);
        if (!result.ok) throw new Error(`${JSON.stringify(a)}\n${result.problems.map(formatProblem).join("\n")}`);
        expect(hasAnchors(text), text).toBe(false);
        // What a shape cannot do is said, not silently dropped.
        if (a.gpu && ["systemd", "swarm", "image-ci"].includes(a.shape)) expect(composed.notes.join(" ")).toMatch(/GPU/);
      }),
      { numRuns: 150 },
    );
  });
});

describe("the descriptor's text", () => {
  const dir = tempDir(FLASK_APP);
  const answers = withCommand({ name: "demo", runtime: "python", shape: "compose", port: 8000, database: "postgres", cache: "redis", gpu: false, registry: "ghcr.io", firewall: "ufw" }, dir);
  const text = descriptorText(composeDescriptor(answers, {}).descriptor, publishedSchemaUrl());

  it("starts with the editor's schema line, pointing at the schema's published $id", () => {
    const schema = JSON.parse(readFileSync(join(repoRoot, "schemas", "deploy.schema.json"), "utf8")) as { $id: string };
    expect(text.split("\n")[0]).toBe(`# yaml-language-server: $schema=${schema.$id}`);
  });

  it("points at the installed package's schema when the repository has create-deploy installed", () => {
    const local = tempDir({ "node_modules/create-deploy/schemas/deploy.schema.json": "{}" });
    expect(schemaReference(local)).toBe(LOCAL_SCHEMA);
    expect(existsSync(join(local, LOCAL_SCHEMA))).toBe(true);
    expect(schemaReference(tempDir())).toBe(publishedSchemaUrl());
  });

  it("is what prettier would write, so a repository formatting its YAML leaves it alone", async () => {
    expectClean(await checkPrettierClean("deploy.yaml", text), "deploy.yaml");
  });

  it("reads back as the descriptor it was made from", () => {
    expect(parseDocument(text).toJS()).toEqual(JSON.parse(JSON.stringify(composeDescriptor(answers, {}).descriptor)));
  });
});

describe("presets", () => {
  it("are the five shapes and the four examples", () => {
    expect([...PRESET_NAMES].sort()).toEqual([...SHAPES, ...EXAMPLE_PRESETS].sort());
    expect(findPreset("genui")).toEqual({ kind: "example", example: "genui" });
    expect(findPreset("swarm")).toEqual({ kind: "shape", shape: "swarm" });
    expect(findPreset("nope")).toBeUndefined();
  });

  it.each(EXAMPLE_PRESETS)("%s: the example under another name, its comments kept, valid", (example) => {
    const text = examplePresetText(example, "renamed", "https://example.org/s.json");
    expect(text.split("\n")[0]).toBe("# yaml-language-server: $schema=https://example.org/s.json");
    const original = readFileSync(join(repoRoot, "examples", example, "deploy.yaml"), "utf8");
    const comments = original.split("\n").filter((line) => line.trim().startsWith("#"));
    for (const comment of comments) expect(text).toContain(comment.trim());
    const result = checkDescriptorText(text);
    expect(result.ok ? result.descriptor.name : result.problems.map(formatProblem)).toBe("renamed");
    expect({ ...parseDocument(text).toJS(), name: "x" }).toEqual({ ...parseDocument(original).toJS(), name: "x" });
  });
});

/** Every file under `dir` but those listed, relative paths, sorted. */
function listTree(dir: string, except: readonly string[] = []): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      const rel = relative(dir, full).split(sep).join("/");
      if (except.includes(rel)) continue;
      if (entry.isDirectory()) walk(full);
      else out.push(rel);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

/** Compares (or with UPDATE_GOLDEN=1 rewrites) test/wizard-golden/<name> with what the run left in `dir`. */
function compareWithGolden(name: string, dir: string, fixture: readonly string[]): void {
  const produced = listTree(dir, fixture);
  const golden = join(GOLDEN, name);
  if (update) {
    rmSync(golden, { recursive: true, force: true });
    for (const path of produced) {
      mkdirSync(dirname(join(golden, path)), { recursive: true });
      writeFileSync(join(golden, path), readFileSync(join(dir, path)));
      chmodSync(join(golden, path), statSync(join(dir, path)).mode & 0o777);
    }
  }
  expect(listTree(golden), `golden files of ${name} (UPDATE_GOLDEN=1 rewrites them)`).toEqual(produced);
  for (const path of produced) expect(readFileSync(join(dir, path), "utf8"), `${name}/${path}`).toBe(readFileSync(join(golden, path), "utf8"));
}

async function loadPlop(session: api.WizardSession) {
  return nodePlop(PLOPFILE, { destBasePath: session.dir, force: false, ...({ wizard: api, session } as object) });
}

// Positional answers for plop's bypass: name, runtime, shape, port, command, database, cache, gpu, registry, firewall, write.
const SHAPE_RUNS: Record<string, string[]> = {
  compose: ["demo", "python", "compose", "8000", "_default_", "postgres", "redis", "no", "ghcr.io", "ufw", "yes"],
  systemd: ["demo", "python", "systemd", "8000", "_default_", "none", "none", "no", "none", "firewalld", "yes"],
  "compose-nodes": ["demo", "python", "compose-nodes", "8000", "_default_", "postgres", "redis", "yes", "ghcr.io", "ufw", "yes"],
  swarm: ["demo", "python", "swarm", "8000", "_default_", "postgres", "none", "no", "ghcr.io", "nftables", "yes"],
  "image-ci": ["demo", "python", "image-ci", "8000", "_default_", "none", "none", "no", "quay.io", "none", "yes"],
};

describe("plop's init generator, driven through its answer bypass", () => {
  it.each(Object.keys(SHAPE_RUNS))("%s: writes a valid deploy.yaml, generates, and matches the golden files", async (shape) => {
    const dir = tempDir(FLASK_APP);
    const { io, out, err } = recordingIo();
    const session = createSession({ dir, io });
    const plop = await loadPlop(session);
    const generator = plop.getGenerator("init");
    const project = detectProject(dir);
    // The command question's default, as the person would accept it.
    const bypass = (SHAPE_RUNS[shape] ?? []).map((value, index, all) =>
      value === "_default_" ? guessCommand(dir, project, "python", shape as InitAnswers["shape"], "demo", Number(all[3])).command.join(" ") : value,
    );
    const answers = await generator.runPrompts(bypass);
    const result = await generator.runActions(answers);
    expect(result.failures, err.join("\n")).toEqual([]);
    expect(session.exitCode).toBe(0);
    expect(out).toContain("Wrote deploy.yaml.");
    expect(out).toContain("Next steps:");
    expectValid(readFileSync(join(dir, "deploy.yaml"), "utf8"));
    compareWithGolden(shape, dir, Object.keys(FLASK_APP));
  });

  it("writes nothing when the preview is declined", async () => {
    const dir = tempDir(FLASK_APP);
    const { io, out } = recordingIo();
    const session = createSession({ dir, io });
    const generator = (await loadPlop(session)).getGenerator("init");
    const answers = await generator.runPrompts(["demo", "python", "compose", "8000", "gunicorn app:app", "none", "none", "no", "none", "ufw", "no"]);
    const result = await generator.runActions(answers);
    expect(result.failures).toEqual([]);
    expect(out).toEqual(["Nothing written."]);
    expect(listTree(dir)).toEqual(Object.keys(FLASK_APP).sort());
  });

  it("notes a server missing from the requirements, and a start script not in the repository", async () => {
    const flask = tempDir({ "requirements.txt": "flask\n", "app.py": "" });
    const session = createSession({ dir: flask, io: recordingIo().io });
    const draft = api.draftOf(session, { name: "demo" });
    expect(draft.ok && draft.notes).toEqual(["add gunicorn to your requirements: the command runs it"]);
    const empty = createSession({ dir: tempDir(), io: recordingIo().io });
    const plain = api.draftOf(empty, { name: "demo" });
    expect(plain.ok && plain.notes).toEqual(["./start.sh is not in the repository yet: add it (executable), or change the command in deploy.yaml"]);
  });

  it("refuses a bad answer through the bypass with the question's own message", async () => {
    const session = createSession({ dir: tempDir(FLASK_APP), io: recordingIo().io });
    const generator = (await loadPlop(session)).getGenerator("init");
    await expect(generator.runPrompts(["Not A Name"])).rejects.toThrow(/lower-case letters/);
    await expect(generator.runPrompts(["demo", "cobol"])).rejects.toThrow(/runtime/);
  });

  it("asks only for the name with an example preset, and bypasses to the example", async () => {
    const dir = tempDir();
    const { io } = recordingIo();
    const session = createSession({ dir, io, preset: { kind: "example", example: "mlops-api" } });
    const generator = (await loadPlop(session)).getGenerator("init");
    expect((generator.prompts as { name: string }[]).map((p) => p.name)).toEqual(["name", api.INIT_CONFIRM]);
    const result = await generator.runActions(await generator.runPrompts(["models", "yes"]));
    expect(result.failures).toEqual([]);
    const written = readFileSync(join(dir, "deploy.yaml"), "utf8");
    expect(written).toContain("# A Python web API container built and pushed by GitHub Actions.");
    expect(parseDocument(written).get("name")).toBe("models");
    expect(existsSync(join(dir, "docker", "api.Dockerfile"))).toBe(true);
  });
});

const COMMENTED = `# yaml-language-server: $schema=https://example.org/s.json
# Our shop: keep this file short.
name: shop
description: The shop's web app.

services:
  # The Django app; see docs/ops.md before changing the port.
  web:
    type: web
    build:
      runtime: python
      command: [gunicorn, shop.wsgi, --bind, 0.0.0.0:8000] # gunicorn, not runserver
    ports:
      - port: 8000
        exposure: public
    healthcheck:
      tcp: { port: 8000 }

# Production only, for now.
environments:
  prod: {}

targets:
  env: {}
  docs: {}
  docker: {}
  compose: {}
`;

describe("add service", () => {
  const project = detectProject(tempDir(FLASK_APP));

  it.each<[string, ServiceRequest]>([
    ["database", { kind: "database", name: "db" }],
    ["cache", { kind: "cache", name: "cache" }],
    ["worker", { kind: "worker", name: "worker", command: ["celery", "-A", "shop", "worker"] }],
    ["web", { kind: "web", name: "admin", command: ["gunicorn", "shop.admin", "--bind", "0.0.0.0:8001"], port: 8001 }],
  ])("inserts a %s at the end of services, keeping every comment and the order", (_, request) => {
    const result = insertService(COMMENTED, request, project);
    if (!result.ok) throw new Error("problems" in result ? result.problems.map(formatProblem).join("\n") : result.message);
    for (const line of COMMENTED.split("\n").filter((l) => l.includes("#"))) expect(result.text).toContain(line);
    const doc = parseDocument(result.text);
    const topLevel = (doc.toJS() as Record<string, unknown>) ?? {};
    expect(Object.keys(topLevel).slice(0, 3)).toEqual(["name", "description", "services"]);
    expect(Object.keys(doc.get("services") ? (doc.toJS() as { services: object }).services : {})).toEqual(["web", request.name]);
    // The person's text is all there, byte for byte: the insertions only add lines.
    const kept = COMMENTED.split("\n");
    const lines = result.text.split("\n");
    let cursor = 0;
    for (const line of kept) {
      cursor = lines.indexOf(line, cursor);
      expect(cursor, line).toBeGreaterThanOrEqual(0);
      cursor++;
    }
    expectValid(result.text);
  });

  it("declares the secret and volume a database needs, in sections placed after services", () => {
    const result = insertService(COMMENTED, { kind: "database", name: "db" }, project);
    if (!result.ok) throw new Error("not added");
    const data = parseDocument(result.text).toJS() as Record<string, Record<string, unknown>>;
    expect(Object.keys(data)).toEqual(["name", "description", "services", "secrets", "volumes", "environments", "targets"]);
    expect(data.secrets).toHaveProperty("db-password");
    expect(data.volumes).toHaveProperty("db-data");
    expect(result.notes.join(" ")).toMatch(/hostOf: db/);
  });

  it("adds to the genui example beside its own secrets and volumes, a worker taking the web image", () => {
    const genui = readFileSync(join(repoRoot, "examples", "genui", "deploy.yaml"), "utf8");
    const requests: ServiceRequest[] = [
      { kind: "database", name: "analytics-db" },
      { kind: "worker", name: "beat", command: ["celery", "-A", "genui", "beat"] },
    ];
    for (const request of requests) {
      const result = insertService(genui, request, project);
      if (!result.ok) throw new Error("problems" in result ? result.problems.map(formatProblem).join("\n") : result.message);
      expectValid(result.text);
      const services = (parseDocument(result.text).toJS() as { services: Record<string, Record<string, unknown>> }).services;
      expect(Object.keys(services).at(-1)).toBe(request.name);
      if (request.kind === "worker") expect(services.beat).toMatchObject({ imageOf: "web", networks: ["backend"] });
      else expect(services["analytics-db"]).toMatchObject({ placement: { nodes: ["main"] } });
    }
  });

  it.each(EXAMPLE_PRESETS)("adds each kind of service to the %s example, and the result validates", (example) => {
    const text = readFileSync(join(repoRoot, "examples", example, "deploy.yaml"), "utf8");
    const requests: ServiceRequest[] = [
      { kind: "database", name: "extra-db" },
      { kind: "cache", name: "extra-cache" },
      { kind: "worker", name: "extra-worker", command: ["python", "-m", "jobs"] },
      { kind: "web", name: "extra-web", command: ["python", "-m", "admin"], port: 8090 },
    ];
    for (const request of requests) {
      const result = insertService(text, request, project);
      if (!result.ok) throw new Error(`${request.kind}: ${"problems" in result ? result.problems.map(formatProblem).join("\n") : result.message}`);
      expectValid(result.text);
      expect(Object.keys((parseDocument(result.text).toJS() as { services: object }).services).at(-1)).toBe(request.name);
    }
  });

  it("refuses a name in use, and a descriptor that does not validate, changing nothing", () => {
    expect(insertService(COMMENTED, { kind: "cache", name: "web" }, project)).toMatchObject({ ok: false, message: expect.stringMatching(/exists already/) });
    const broken = COMMENTED.replace("port: 8000\n        exposure", "port: 80000\n        exposure");
    const result = insertService(broken, { kind: "cache", name: "cache" }, project);
    expect(result.ok).toBe(false);
    expect("problems" in result && result.problems.map((p) => p.pointer)).toEqual(["/services/web/ports/0/port"]);
  });

  it("runs through plop: the generator's bypass answers, then deploy.yaml rewritten and regenerated", async () => {
    const dir = tempDir({ ...FLASK_APP, "deploy.yaml": COMMENTED });
    const { io, err } = recordingIo();
    const session = createSession({ dir, io });
    const plop = await loadPlop(session);
    const generator = plop.getGenerator("add service");
    const result = await generator.runActions(await generator.runPrompts(["cache", "cache"]));
    expect(result.failures, err.join("\n")).toEqual([]);
    const text = readFileSync(join(dir, "deploy.yaml"), "utf8");
    for (const line of COMMENTED.split("\n").filter((l) => l.includes("#"))) expect(text).toContain(line);
    expect(Object.keys((parseDocument(text).toJS() as { services: object }).services)).toEqual(["web", "cache"]);
    expect(readFileSync(join(dir, "compose.yaml"), "utf8")).toMatch(/^ {2}cache:$/m);
  });
});
