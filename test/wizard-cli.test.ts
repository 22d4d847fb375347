// `create-deploy init` and `create-deploy add` from outside, on the built bin: every preset in
// an empty folder, a new user's small Python app taken through the defaults and every checker,
// the wizard in a real pseudo-terminal (answered, and interrupted with Ctrl-C), add service on
// a commented descriptor, and which modules each path loads.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseDocument } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, BIN, hashTree, REPO, type Run, runCli } from "./support/bin.js";
import { checkGeneratedTree } from "./wizard-support.js";

const dirs: string[] = [];
function tempDir(files: Record<string, string> = {}): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "create-deploy-init-")));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}
beforeAll(() => {
  assertBuilt();
});
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const SCHEMA_ID = (JSON.parse(readFileSync(join(REPO, "schemas", "deploy.schema.json"), "utf8")) as { $id: string }).$id;
const PRESETS = ["compose", "systemd", "compose-nodes", "swarm", "image-ci", "bids-flux", "dicom-pipeline", "genui", "mlops-api"];
const SLOW = 180_000;

const FLASK_APP = {
  "requirements.txt": "flask==3.0.3\ngunicorn==22.0.0\n",
  "app.py": 'from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.get("/")\ndef index():\n    return "hello"\n',
};

describe.concurrent("init --yes --preset NAME in an empty folder", () => {
  it.each(PRESETS)("%s: a valid project whose files pass every checker", { timeout: SLOW }, async (preset) => {
    const dir = tempDir();
    const run = await runCli(["init", "--yes", "--preset", preset, "--name", "demo"], dir);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Wrote deploy.yaml.");
    expect(run.stdout).toContain("Next steps:");
    const text = readFileSync(join(dir, "deploy.yaml"), "utf8");
    expect(text.split("\n")[0]).toBe(`# yaml-language-server: $schema=${SCHEMA_ID}`);
    expect(parseDocument(text).get("name")).toBe("demo");
    expect(await runCli(["validate"], dir)).toMatchObject({ code: 0 });
    expect(await runCli(["check"], dir)).toMatchObject({ code: 0 });
    await checkGeneratedTree(dir);
  });
});

describe("init's refusals", () => {
  it("without a terminal and without --yes, explains what to pass and writes nothing", async () => {
    const dir = tempDir(FLASK_APP);
    const before = hashTree(dir);
    for (const args of [["init"], ["init", "--preset", "compose"], ["init", "--name", "shop"]]) {
      const run = await runCli(args, dir);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toContain("--yes");
      expect(run.stderr).toContain("--preset");
      expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
    }
    expect(await hashTree(dir)).toEqual(await before);
  });

  it.each([
    [["--preset", "kubernetes"], /unknown preset "kubernetes"; the presets are compose, systemd/],
    [["--port", "99999"], /--port "99999": a port is a number/],
    [["--runtime", "cobol"], /--runtime "cobol": choose one of python, node, image/],
    [["--name", "My App"], /--name "My App": use lower-case letters/],
    [["--preset", "genui", "--port", "80"], /--preset genui is a whole deployment; it takes --name only, not --port/],
    [["--preset", "swarm", "--shape", "compose"], /--preset swarm and --shape compose disagree/],
  ])("%j is a usage error naming the flag, and writes nothing", async (flags, message) => {
    const dir = tempDir(FLASK_APP);
    const run = await runCli(["init", "--yes", ...flags], dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(readdirSync(dir).sort()).toEqual(Object.keys(FLASK_APP).sort());
  });

  it("leaves an existing deploy.yaml alone", async () => {
    const dir = tempDir({ "deploy.yaml": "name: mine\n" });
    const run = await runCli(["init", "--yes"], dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("deploy.yaml is here already");
    expect(readFileSync(join(dir, "deploy.yaml"), "utf8")).toBe("name: mine\n");
  });

  it("writes into --dir, making the folder", async () => {
    const dir = tempDir();
    const run = await runCli(["init", "--yes", "--dir", "ops/deploy", "--name", "demo", "--runtime", "node", "--port", "3000"], dir);
    expect(run.code, run.stderr).toBe(0);
    const descriptor = parseDocument(readFileSync(join(dir, "ops", "deploy", "deploy.yaml"), "utf8")).toJS() as {
      services: { web: { build: { runtime: string; command: string[] }; ports: { port: number }[] } };
    };
    expect(descriptor.services.web.build).toMatchObject({ runtime: "node", command: ["node", "index.js"] });
    expect(descriptor.services.web.ports[0]?.port).toBe(3000);
    expect(existsSync(join(dir, "ops", "deploy", "compose.yaml"))).toBe(true);
  });
});

describe("a new user's small Python web app, through the defaults", () => {
  it.each([
    ["Flask", FLASK_APP, ["gunicorn", "app:app", "--bind", "0.0.0.0:8000"]],
    [
      "FastAPI",
      { "requirements.txt": "fastapi==0.115.0\nuvicorn==0.30.6\n", "main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n" },
      ["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"],
    ],
  ])("%s: `create-deploy init --yes` gives a deployment that passes every checker", { timeout: SLOW }, async (_, app, command) => {
    const dir = tempDir({ ...app, ".git/config": '[remote "origin"]\n\turl = https://github.com/example-lab/shop.git\n' });
    const run = await runCli(["init", "--yes"], dir);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const descriptor = parseDocument(readFileSync(join(dir, "deploy.yaml"), "utf8")).toJS() as {
      name: string;
      registry: { host: string; namespace: string };
      services: { web: { build: { runtime: string; command: string[] } } };
    };
    expect(descriptor.services.web.build).toMatchObject({ runtime: "python", command });
    expect(descriptor.registry).toEqual({ host: "ghcr.io", namespace: "example-lab" });
    const files = await checkGeneratedTree(dir);
    // One host with compose: the image, the compose file, env, the firewall, the CI workflow and the runbook.
    expect(files.map((f) => f.kind)).toEqual(expect.arrayContaining(["dockerfile", "compose", "env", "shell", "workflow", "markdown"]));
    expect(await runCli(["check"], dir)).toMatchObject({ code: 0 });
  });
});

interface PtyStep {
  expect: string;
  send: string;
}
interface PtyRun {
  output: string;
  exitCode: number | null;
  signal: number | null;
  failedStep: number | null;
  timedOut: boolean;
}

const hasPython = spawnSync("python3", ["-c", "import pty"]).status === 0;

/** Runs the bin in a pseudo-terminal through test/wizard-pty.py, typing each step's keys when its prompt shows. */
function runInTerminal(args: readonly string[], cwd: string, steps: PtyStep[], env: Record<string, string> = {}): Promise<PtyRun> {
  return new Promise((resolve, reject) => {
    const child = spawn("python3", [join(REPO, "test", "wizard-pty.py")], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`wizard-pty.py exited ${String(code)}: ${stderr}`));
      else resolve(JSON.parse(stdout) as PtyRun);
    });
    child.stdin.end(JSON.stringify({ argv: [process.execPath, ...args], cwd, env: { CREATE_DEPLOY_DEBUG: "", ...env }, timeout: 60, steps }));
  });
}

const ENTER = "\r";
const CTRL_C = "\u0003";
const DOWN = "\u001b[B";

/** The questions in order; each answered with Enter (its default) unless a key is given. */
function answers(keys: Partial<Record<string, string>> = {}): PtyStep[] {
  const prompts: [string, string][] = [
    ["name", "Project name"],
    ["runtime", "What does the repository hold"],
    ["shape", "How is it deployed"],
    ["port", "The port it listens on"],
    ["command", "The command that starts it"],
    ["database", "A database"],
    ["cache", "A cache"],
    ["gpu", "Does it need a GPU"],
    ["registry", "Where are images pushed"],
    ["firewall", "Which firewall"],
    ["write", "Write deploy.yaml and generate"],
  ];
  return prompts.map(([name, text]) => ({ expect: text, send: keys[name] ?? ENTER }));
}

// A terminal is the wizard's home; the check runs where python's pty module exists (Linux CI does).
describe.runIf(hasPython)("the wizard in a pseudo-terminal", () => {
  it("asks each question, shows deploy.yaml, writes it and generates", { timeout: SLOW }, async () => {
    const dir = tempDir(FLASK_APP);
    // A database: one step down from "none" in its list.
    const run = await runInTerminal([BIN], dir, answers({ database: `${DOWN}${ENTER}` }));
    expect(run.failedStep, run.output).toBeNull();
    expect(run.exitCode, run.output).toBe(0);
    expect(run.output).toContain("deploy.yaml will read:");
    expect(run.output).toContain("Next steps:");
    const descriptor = parseDocument(readFileSync(join(dir, "deploy.yaml"), "utf8")).toJS() as { services: Record<string, unknown> };
    expect(Object.keys(descriptor.services)).toEqual(["web", "db"]);
    await checkGeneratedTree(dir);
  });

  it.each([
    ["at the first question", 0],
    ["in the middle", 5],
    ["at the preview", 10],
  ])("Ctrl-C %s leaves nothing behind", { timeout: SLOW }, async (_, at) => {
    const dir = tempDir(FLASK_APP);
    const before = await hashTree(dir);
    const steps = answers().slice(0, at + 1);
    const last = steps[at];
    if (last) last.send = CTRL_C;
    const run = await runInTerminal([BIN, "init"], dir, steps);
    expect(run.failedStep, run.output).toBeNull();
    // Killed by SIGINT, as a shell sees a program the user interrupted.
    expect(run.signal === 2 || run.exitCode === 130, JSON.stringify({ ...run, output: run.output.slice(-500) })).toBe(true);
    expect(await hashTree(dir)).toEqual(before);
  });
});

const COMMENTED = `# yaml-language-server: $schema=${SCHEMA_ID}
# The shop. Ask ops before changing ports.
name: shop
description: The shop's web app.

services:
  # Django behind gunicorn.
  web:
    type: web
    build:
      runtime: python
      command: [gunicorn, shop.wsgi, --bind, 0.0.0.0:8000] # not runserver
    ports:
      - port: 8000
        exposure: public
    healthcheck:
      tcp: { port: 8000 }

# One environment for now.
environments:
  prod: {}

targets:
  env: {}
  docs: {}
  docker: {}
  compose: {}
`;

describe("create-deploy add", () => {
  it("adds a database with --yes, keeps every comment, and regenerates", { timeout: SLOW }, async () => {
    const dir = tempDir({ ...FLASK_APP, "deploy.yaml": COMMENTED });
    expect((await runCli(["generate"], dir)).code).toBe(0);
    const run = await runCli(["add", "--yes", "--type", "database"], dir);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Added services.db to deploy.yaml.");
    const text = readFileSync(join(dir, "deploy.yaml"), "utf8");
    for (const line of COMMENTED.split("\n").filter((l) => l.includes("#"))) expect(text).toContain(line);
    expect(Object.keys((parseDocument(text).toJS() as { services: object }).services)).toEqual(["web", "db"]);
    expect(readFileSync(join(dir, "compose.yaml"), "utf8")).toMatch(/^ {2}db:$/m);
    expect(await runCli(["check"], dir)).toMatchObject({ code: 0 });
    await checkGeneratedTree(dir);
  });

  it.each([
    ["dicom-pipeline", "database"],
    ["genui", "database"],
    ["bids-flux", "cache"],
  ])("adds a %s's %s whose regenerated files pass every checker", { timeout: SLOW }, async (example, kind) => {
    const dir = tempDir({ "deploy.yaml": readFileSync(join(REPO, "examples", example, "deploy.yaml"), "utf8") });
    const run = await runCli(["add", "--yes", "--type", kind, "--name", "extra"], dir);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(await runCli(["check"], dir)).toMatchObject({ code: 0 });
    await checkGeneratedTree(dir);
  });

  it("needs --type with --yes, and a terminal without it; refuses a name in use", async () => {
    const dir = tempDir({ "deploy.yaml": COMMENTED });
    expect(await runCli(["add", "--yes"], dir)).toMatchObject({ code: 2, stderr: expect.stringContaining("--type") });
    expect(await runCli(["add"], dir)).toMatchObject({ code: 2, stderr: expect.stringContaining("--yes") });
    expect(await runCli(["add", "--yes", "--type", "robot"], dir)).toMatchObject({ code: 2, stderr: expect.stringContaining("database, cache, worker") });
    const taken = await runCli(["add", "--yes", "--type", "cache", "--name", "web"], dir);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain("services.web exists already");
    expect(readFileSync(join(dir, "deploy.yaml"), "utf8")).toBe(COMMENTED);
  });

  it.runIf(hasPython)("asks which service in a terminal, through plop", { timeout: SLOW }, async () => {
    const dir = tempDir({ ...FLASK_APP, "deploy.yaml": COMMENTED });
    const log = join(tempDir(), "modules.log");
    const run = await runInTerminal(
      ["--import", join(REPO, "test", "wizard-module-log.mjs"), BIN, "add"],
      dir,
      [
        { expect: "Which service", send: `${DOWN}${DOWN}${ENTER}` },
        { expect: "Its name", send: ENTER },
        { expect: "The command that starts it", send: `celery -A shop worker${ENTER}` },
      ],
      { CREATE_DEPLOY_MODULE_LOG: log },
    );
    expect(run.failedStep, run.output).toBeNull();
    expect(run.exitCode, run.output).toBe(0);
    // The interactive path is the one that loads plop's engine and its prompt library.
    const modules = readFileSync(log, "utf8");
    expect(modules).toMatch(/node-plop/);
    expect(modules).toMatch(/inquirer/);
    const services = (parseDocument(readFileSync(join(dir, "deploy.yaml"), "utf8")).toJS() as { services: Record<string, unknown> }).services;
    expect(services.worker).toMatchObject({ type: "worker", imageOf: "web", command: ["celery", "-A", "shop", "worker"] });
  });
});

describe("the plopfile under plop's own command line", () => {
  it("runs init from the built package, answers given as plop's bypass arguments", { timeout: SLOW }, async () => {
    const dir = tempDir(FLASK_APP);
    const plop = join(REPO, "node_modules", "plop", "bin", "plop.js");
    const answers = ["shop", "python", "compose", "8000", "gunicorn app:app --bind 0.0.0.0:8000", "none", "redis", "no", "none", "nftables", "yes"];
    const run = spawnSync(process.execPath, [plop, "--plopfile", join(REPO, "generators", "plopfile.js"), "--dest", dir, "init", ...answers], {
      cwd: dir,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 120_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const descriptor = parseDocument(readFileSync(join(dir, "deploy.yaml"), "utf8")).toJS() as { name: string; services: object; targets: object };
    expect(descriptor.name).toBe("shop");
    expect(Object.keys(descriptor.services)).toEqual(["web", "redis"]);
    expect(descriptor.targets).toMatchObject({ firewall: { backend: "nftables" } });
    expect(await runCli(["check"], dir)).toMatchObject({ code: 0 });
  });
});

/** The modules a run of the bin resolved, through test/wizard-module-log.mjs. */
async function modulesLoadedBy(args: readonly string[], cwd: string): Promise<{ run: Run; modules: string[] }> {
  const log = join(tempDir(), "modules.log");
  const run = await new Promise<Run>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", join(REPO, "test", "wizard-module-log.mjs"), BIN, ...args], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, CREATE_DEPLOY_MODULE_LOG: log },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  const modules = existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : [];
  return { run, modules };
}

const PROMPTING = /node-plop|[/\\]plop[/\\]|inquirer/;

describe("which modules each path loads", () => {
  it("generate, check, validate and diff load neither the wizard nor plop nor a prompt library", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "deploy.yaml"), readFileSync(join(REPO, "examples", "mlops-api", "deploy.yaml")));
    for (const command of ["generate", "check", "validate", "diff"]) {
      const { run, modules } = await modulesLoadedBy([command], dir);
      expect(run.code, `${command}: ${run.stderr}`).toBe(0);
      expect(modules.some((m) => m.endsWith("/dist/start.js")), command).toBe(true);
      expect(modules.filter((m) => PROMPTING.test(m)), command).toEqual([]);
    }
  });

  it("init --yes writes deploy.yaml without loading plop or a prompt library", async () => {
    const dir = tempDir(FLASK_APP);
    const { run, modules } = await modulesLoadedBy(["init", "--yes", "--name", "demo"], dir);
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(join(dir, "deploy.yaml"))).toBe(true);
    expect(modules.some((m) => m.endsWith("/dist/start.js"))).toBe(true);
    expect(modules.filter((m) => PROMPTING.test(m))).toEqual([]);
  });
});
