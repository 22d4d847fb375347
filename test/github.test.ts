// GitHub workflows: the pins table against the shared release list, every workflow of every
// example and of generated variations through actionlint, the workflow schema, prettier,
// shellcheck (each run: script) and the security audit; the kind's rules; and descriptor
// text that would be read as an expression or as shell staying inert.
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { parse, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { VERSION } from "../src/commands/version.js";
import { DESCRIPTOR_NAMES, packageSpec } from "../src/kinds/github/drift.js";
import { TAG_RULES } from "../src/kinds/github/images.js";
import { DEPLOY_WORKFLOW_PATH, DRIFT_WORKFLOW_PATH, IMAGE_WORKFLOW_PATH } from "../src/kinds/github/paths.js";
import { ACTION_PINS } from "../src/kinds/github/pins.js";
import { literal } from "../src/kinds/github/steps.js";
import { kinds } from "../src/kinds/index.js";
import { parseDescriptor } from "../src/load.js";
import type { Descriptor } from "../src/model/descriptor.js";
import { DEFAULT_CONFIG_NAMES } from "../src/pipeline.js";
import { planFiles } from "../src/plan.js";
import type { Problem } from "../src/problems.js";
import { renderFiles, type RenderedFile } from "../src/render/index.js";
import { validateDescriptor } from "../src/validate/index.js";
import { checkPrettierClean, checkShellcheck, checkWorkflow, expectClean } from "./checkers/index.js";
import { repoRoot } from "./checkers/paths.js";
import { runTool } from "./checkers/process.js";
import { auditWorkflow, runScripts } from "./support/workflow-audit.js";

const examplesDir = join(repoRoot, "examples");
const EXAMPLES = ["bids-flux", "dicom-pipeline", "genui", "mlops-api"];
const SHARED_PINS = join(repoRoot, "../shared/action-pins.json");

function validateText(text: string): { descriptor?: Descriptor; problems: Problem[] } {
  return validateDescriptor(parseDescriptor(text, "deploy.yaml"), "deploy.yaml", kinds);
}

function exampleDocument(name: string): Record<string, unknown> {
  return parse(readFileSync(join(examplesDir, name, "deploy.yaml"), "utf8"), { version: "1.2" }) as Record<string, unknown>;
}

/** Validates like the command line does, then plans and renders every file. */
function generate(document: unknown): Map<string, RenderedFile> {
  const result = validateText(stringify(document, { version: "1.2" }));
  if (!result.descriptor) throw new Error(`descriptor refused:\n${result.problems.map((p) => `${p.pointer}: ${p.message}`).join("\n")}`);
  return new Map(renderFiles(planFiles(result.descriptor), { descriptorFile: "deploy.yaml" }).map((f) => [f.path, f]));
}

function problemsOf(document: unknown): Problem[] {
  return validateText(stringify(document, { version: "1.2" })).problems;
}

function workflowsOf(files: Map<string, RenderedFile>): RenderedFile[] {
  return [...files.values()].filter((f) => f.kind === "workflow");
}

function fileOf(files: Map<string, RenderedFile>, path: string): string {
  const file = files.get(path);
  if (!file) throw new Error(`${path} was not generated (have: ${[...files.keys()].join(", ")})`);
  return file.content;
}

/** A script as the runner's bash receives it: GitHub has already turned the escape into `${{`. */
function asRun(script: string): string {
  return `#!/usr/bin/env bash\nset -eo pipefail\n${script.split("${{ '${{' }}").join("${{")}`;
}

/** Every check a generated workflow must pass. */
async function expectSoundWorkflow(file: RenderedFile): Promise<void> {
  expect(auditWorkflow(file.content), `${file.path} audit`).toEqual([]);
  expectClean(await checkWorkflow(file.content, file.path), file.path);
  expectClean(await checkPrettierClean(file.path, file.content), file.path);
  for (const { where, script } of runScripts(file.content)) {
    expectClean(await checkShellcheck(asRun(script)), `${file.path} ${where}`);
  }
}

interface Workflow {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: Record<string, { permissions?: Record<string, string>; steps: Array<Record<string, unknown>>; needs?: string[]; environment?: string; if?: string }>;
}

function workflowData(content: string): Workflow {
  return parse(content, { version: "1.2" }) as Workflow;
}

function stepUsing(job: Workflow["jobs"][string], action: string): Record<string, unknown> {
  const step = job.steps.find((s) => typeof s["uses"] === "string" && s["uses"].startsWith(`${action}@`));
  if (!step) throw new Error(`no step uses ${action}`);
  return step;
}

describe("action pins", () => {
  it("holds full commit SHAs and release versions", () => {
    for (const [action, pin] of Object.entries(ACTION_PINS)) {
      expect(pin.commit, action).toMatch(/^[0-9a-f]{40}$/);
      expect(pin.version, action).toMatch(/^v\d+\.\d+\.\d+$/);
    }
  });

  it.runIf(existsSync(SHARED_PINS))("matches the release commits recorded in ../shared/action-pins.json", () => {
    const shared = JSON.parse(readFileSync(SHARED_PINS, "utf8")) as { actions: Array<{ action: string; version: string; commit: string }> };
    const byAction = new Map(shared.actions.map((a) => [a.action, a]));
    for (const [action, pin] of Object.entries(ACTION_PINS)) {
      const release = byAction.get(action);
      expect(release, `${action} is in the shared list`).toBeDefined();
      expect({ version: pin.version, commit: pin.commit }, action).toEqual({ version: release?.version, commit: release?.commit });
    }
  });
});

describe("workflow audit", () => {
  const sound = [
    "name: x",
    "on: push",
    "permissions:",
    "  contents: read",
    "jobs:",
    "  a:",
    "    runs-on: ubuntu-latest",
    "    steps:",
    `      - uses: actions/checkout@${ACTION_PINS["actions/checkout"].commit} # ${ACTION_PINS["actions/checkout"].version}`,
    "        with:",
    "          persist-credentials: false",
    "      - env:",
    "          TITLE: ${{ github.event.pull_request.title }}",
    '        run: echo "$TITLE"',
    "",
  ].join("\n");

  it("passes a workflow that keeps every rule", () => {
    expect(auditWorkflow(sound)).toEqual([]);
  });

  it("reports an action pinned to a tag, an unknown commit or a wrong version comment", () => {
    const commit = ACTION_PINS["actions/checkout"].commit;
    expect(auditWorkflow(sound.replace(`@${commit} # v7.0.1`, "@v4"))).toEqual(
      expect.arrayContaining([expect.stringContaining("is not pinned to a full commit SHA"), expect.stringContaining("has no version comment")]),
    );
    expect(auditWorkflow(sound.replace(commit, "0".repeat(40)))).toEqual([expect.stringContaining("is not the pinned commit")]);
    expect(auditWorkflow(sound.replace("# v7.0.1", "# v6.0.0"))).toEqual([expect.stringContaining("is not the pinned release")]);
    expect(auditWorkflow(sound.replace(`actions/checkout@${commit}`, `someone/checkout@${commit}`))).toEqual(
      expect.arrayContaining([expect.stringContaining("is not in the pins table")]),
    );
  });

  it("reports a missing or broad top-level permissions", () => {
    expect(auditWorkflow(sound.replace("permissions:\n  contents: read\n", ""))).toEqual(["no top-level permissions:"]);
    expect(auditWorkflow(sound.replace("permissions:\n  contents: read\n", "permissions: write-all\n"))).toEqual([expect.stringContaining("must list scopes")]);
    expect(auditWorkflow(sound.replace("  contents: read", "  contents: write"))).toEqual([expect.stringContaining("contents: write")]);
  });

  it("reports untrusted contexts and any other expression inside run:", () => {
    const inline = (expression: string): string => sound.replace('run: echo "$TITLE"', `run: echo "${expression}"`);
    expect(auditWorkflow(inline("${{ github.event.pull_request.title }}"))).toEqual([expect.stringContaining("untrusted context")]);
    expect(auditWorkflow(inline("${{ github.head_ref }}"))).toEqual([expect.stringContaining("untrusted context")]);
    expect(auditWorkflow(inline("${{ github.event.issue.body }}"))).toEqual([expect.stringContaining("untrusted context")]);
    expect(auditWorkflow(inline("${{ steps.meta.outputs.tags }}"))).toEqual([expect.stringContaining("expression")]);
    expect(auditWorkflow(inline("${{ '${{' }} literal"))).toEqual([]);
  });

  it("reports a checkout that keeps its credentials", () => {
    expect(auditWorkflow(sound.replace("persist-credentials: false", "persist-credentials: true"))).toEqual([expect.stringContaining("persist-credentials")]);
  });
});

describe("workflows of the examples", () => {
  for (const name of EXAMPLES) {
    const files = generate(exampleDocument(name));
    const workflows = workflowsOf(files);
    const hasTarget = (exampleDocument(name)["targets"] as Record<string, unknown>)["github"] !== undefined;
    it(`${name}: ${hasTarget ? "writes" : "writes no"} workflows`, () => {
      expect(workflows.length > 0).toBe(hasTarget);
    });
    for (const file of workflows) {
      it(`${name}: ${file.path} passes actionlint, the schema, prettier, shellcheck and the audit`, async () => {
        await expectSoundWorkflow(file);
      });
    }
  }

  it("mlops-api pushes to quay.io with the robot-account secrets, for both platforms", () => {
    const files = generate(exampleDocument("mlops-api"));
    const workflow = workflowData(fileOf(files, IMAGE_WORKFLOW_PATH));
    const job = workflow.jobs["image-api"];
    if (!job) throw new Error("no image-api job");
    expect(stepUsing(job, "docker/login-action")).toMatchObject({
      if: "github.event_name != 'pull_request'",
      with: { registry: "quay.io", username: "${{ secrets.QUAY_USER }}", password: "${{ secrets.QUAY_PWD }}" },
    });
    expect(stepUsing(job, "docker/metadata-action")["with"]).toMatchObject({ images: "quay.io/mlops-lab/mlops-api-api" });
    expect(stepUsing(job, "docker/build-push-action")["with"]).toMatchObject({
      context: ".",
      file: "docker/api.Dockerfile",
      platforms: "linux/amd64,linux/arm64",
      push: "${{ github.event_name != 'pull_request' }}",
    });
    expect(stepUsing(job, "docker/setup-qemu-action")["with"]).toEqual({ platforms: "linux/arm64" });
    // quay.io takes its own secrets, so the job needs no permission beyond the workflow's.
    expect(job.permissions).toBeUndefined();
    expect(workflow.permissions).toEqual({ contents: "read" });
    expect(workflow.on).toEqual({ push: { branches: ["main"], tags: ["v*.*.*"] }, pull_request: { branches: ["main"] } });
  });

  it("genui and bids-flux push to GHCR with GITHUB_TOKEN and packages: write, one job per image", () => {
    for (const [name, jobs] of [
      ["genui", ["image-web"]],
      ["bids-flux", ["image-api", "image-pipeline"]],
    ] as const) {
      const workflow = workflowData(fileOf(generate(exampleDocument(name)), IMAGE_WORKFLOW_PATH));
      // genui's workers run the web image (imageOf): it is built once.
      expect(Object.keys(workflow.jobs), name).toEqual([...jobs]);
      for (const id of jobs) {
        const job = workflow.jobs[id];
        if (!job) throw new Error(`no ${id}`);
        expect(job.permissions, `${name} ${id}`).toEqual({ contents: "read", packages: "write" });
        expect(stepUsing(job, "docker/login-action")["with"]).toEqual({ registry: "ghcr.io", username: "${{ github.actor }}", password: "${{ secrets.GITHUB_TOKEN }}" });
      }
    }
  });

  it("tags with metadata-action: semver, branch, pull request, sha and latest on the default branch", () => {
    const workflow = workflowData(fileOf(generate(exampleDocument("genui")), IMAGE_WORKFLOW_PATH));
    const meta = stepUsing(workflow.jobs["image-web"] ?? { steps: [] }, "docker/metadata-action")["with"] as Record<string, string>;
    expect(meta["tags"]?.trim().split("\n")).toEqual(TAG_RULES);
    expect(meta["tags"]).toContain("type=raw,value=latest,enable={{is_default_branch}}");
    expect(meta["flavor"]).toBe("latest=false");
  });

  it("the drift check runs the exact release that generated the files, on pull requests touching any of them", () => {
    for (const name of ["genui", "bids-flux", "mlops-api"]) {
      const files = generate(exampleDocument(name));
      const content = fileOf(files, DRIFT_WORKFLOW_PATH);
      const workflow = workflowData(content);
      const paths = (workflow.on["pull_request"] as { paths: string[] }).paths;
      for (const path of [...files.keys(), ".create-deploy/manifest.json", "deploy.yaml"]) expect(paths, `${name} ${path}`).toContain(path);
      const job = workflow.jobs["check"] as unknown as { env: Record<string, string> };
      expect(job.env).toEqual({ CREATE_DEPLOY: `create-deploy@${VERSION}` });
      expect(content).not.toMatch(/create-deploy@latest|npx create-deploy check/);
      expect(content).toContain('npx --yes "$CREATE_DEPLOY" diff --summary --base "$base" >> "$GITHUB_STEP_SUMMARY"');
    }
  });

  it("looks for the descriptor under the names the command line does", () => {
    expect(DESCRIPTOR_NAMES).toEqual([...DEFAULT_CONFIG_NAMES]);
  });
});

describe("github derivations", () => {
  it("pins the package to an exact version, never a range or a tag", () => {
    expect(packageSpec("1.2.3")).toBe("create-deploy@1.2.3");
    expect(packageSpec("1.2.3-rc.1")).toBe("create-deploy@1.2.3-rc.1");
    for (const floating of ["latest", "^1.2.3", "1.x", "", "1.2"]) expect(() => packageSpec(floating), floating).toThrow();
  });

  it("keeps descriptor text literal where GitHub would read an expression", () => {
    expect(literal("/srv/${{ secrets.X }}")).toBe("/srv/${{ '${{' }} secrets.X }}");
    expect(literal("/srv/$HOME/${x}")).toBe("/srv/$HOME/${x}");
  });
});

/** A small web app with one built image, the targets the workflow needs, and overrides. */
function appDescriptor(overrides: Record<string, unknown> = {}, github: Record<string, unknown> = { branches: ["main"] }): Record<string, unknown> {
  return {
    name: "shop",
    registry: { host: "ghcr.io", namespace: "shop-team" },
    services: {
      web: {
        type: "web",
        build: { runtime: "python", command: ["gunicorn", "shop.wsgi"] },
        ports: [{ port: 8000 }],
        healthcheck: { http: { path: "/health", port: 8000 } },
      },
    },
    targets: { docker: {}, compose: {}, github },
    ...overrides,
  };
}

const DEPLOYING = {
  nodes: { main: { address: "203.0.113.10", roles: ["app"] } },
};

function withDeploy(deploy: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const document = appDescriptor({ ...DEPLOYING, ...extra }, { branches: ["main"], deploy });
  const services = document["services"] as Record<string, Record<string, unknown>>;
  if (services["web"]) services["web"]["roles"] = ["app"];
  return document;
}

describe("github rules", () => {
  const pointers = (document: unknown): string[] => problemsOf(document).map((p) => p.pointer);

  it("needs a login for a registry other than GHCR", () => {
    const document = appDescriptor({ registry: { host: "quay.io", namespace: "shop" } });
    expect(problemsOf(document)).toEqual([expect.objectContaining({ pointer: "/registry", message: expect.stringContaining("cannot log in") })]);
    expect(pointers(appDescriptor({ registry: { host: "quay.io", namespace: "shop", credentials: { username: "QUAY_USER", password: "QUAY_PWD" } } }))).toEqual([]);
  });

  it("needs the docker target for the Dockerfiles it builds", () => {
    const document = appDescriptor();
    (document["targets"] as Record<string, unknown>)["docker"] = undefined;
    delete (document["targets"] as Record<string, unknown>)["docker"];
    expect(pointers(document)).toEqual(["/targets/github"]);
  });

  it("refuses a deploy job to an unknown node, without compose or swarm, or without an env file it can name", () => {
    expect(pointers(withDeploy({ node: "nowhere", user: "deploy", path: "/srv/shop" }))).toEqual(["/targets/github/deploy/node"]);
    const noCompose = withDeploy({ node: "main", user: "deploy", path: "/srv/shop" });
    delete (noCompose["targets"] as Record<string, unknown>)["compose"];
    expect(pointers(noCompose)).toEqual(["/targets/github/deploy"]);
    expect(pointers(withDeploy({ node: "main", user: "deploy", path: "/srv/shop", environmentFile: "staging" }))).toEqual(["/targets/github/deploy/environmentFile"]);
    expect(pointers(withDeploy({ node: "main", user: "deploy", path: "/srv/shop" }, { registry: undefined }))).toEqual(["/targets/github/deploy"]);
  });

  it("deploys a swarm only through a manager", () => {
    const document = exampleDocument("bids-flux");
    const targets = document["targets"] as Record<string, Record<string, unknown>>;
    targets["github"] = { branches: ["main"], deploy: { node: "processing-server", user: "deploy", path: "/srv/bids-flux" } };
    expect(problemsOf(document)).toEqual([expect.objectContaining({ pointer: "/targets/github/deploy/node", message: expect.stringContaining("not a swarm manager") })]);
  });
});

describe("the deploy job", () => {
  it("deploys compose over SSH with the pinned host key, from the default branch, in a gated environment", async () => {
    const files = generate(withDeploy({ node: "main", user: "deploy", path: "/srv/shop", environment: "production" }));
    const file = files.get(IMAGE_WORKFLOW_PATH);
    if (!file) throw new Error("no image workflow");
    await expectSoundWorkflow(file);
    const job = workflowData(file.content).jobs["deploy"];
    if (!job) throw new Error("no deploy job");
    expect(job.needs).toEqual(["image-web"]);
    expect(job.environment).toBe("production");
    expect(job.if).toContain("github.event.repository.default_branch");
    const scripts = job.steps.map((s) => String(s["run"] ?? "")).join("\n");
    expect(scripts).toContain("StrictHostKeyChecking yes");
    expect(scripts).toContain("UserKnownHostsFile ~/.ssh/known_hosts");
    expect(scripts).not.toMatch(/StrictHostKeyChecking (no|accept-new)|ssh-keyscan/);
    expect(scripts).toContain("docker compose -f compose.yaml --env-file env/default.env pull && docker compose -f compose.yaml --env-file env/default.env up -d --remove-orphans");
    expect(file.content).toContain("${{ secrets.DEPLOY_KNOWN_HOSTS }}");
    expect(file.content).toContain("${{ secrets.DEPLOY_SSH_KEY }}");
    expect(fileOf(files, "DEPLOY.md")).toContain("## Deploy from GitHub");
  });

  it("deploys a swarm stack from its manager", async () => {
    const document = exampleDocument("bids-flux");
    (document["targets"] as Record<string, unknown>)["github"] = { branches: ["main"], deploy: { node: "data-server", user: "deploy", path: "/srv/bids-flux" } };
    const files = generate(document);
    const file = files.get(IMAGE_WORKFLOW_PATH);
    if (!file) throw new Error("no image workflow");
    await expectSoundWorkflow(file);
    const stacks = [...files.values()].filter((f) => f.kind === "swarm-stack").map((f) => f.path);
    expect(stacks.length).toBeGreaterThan(0);
    for (const stack of stacks) expect(file.content).toContain(`docker stack deploy --with-registry-auth -c ${stack} bids-flux`);
  });

  it("without images to build, deploys from its own workflow", async () => {
    const document = withDeploy({ node: "main", user: "deploy", path: "/srv/shop" });
    const services = document["services"] as Record<string, Record<string, unknown>>;
    services["web"] = { type: "web", image: "nginxinc/nginx-unprivileged:1.27-alpine", roles: ["app"], ports: [{ port: 8080 }] };
    const files = generate(document);
    expect(files.has(IMAGE_WORKFLOW_PATH)).toBe(false);
    const file = files.get(DEPLOY_WORKFLOW_PATH);
    if (!file) throw new Error("no deploy workflow");
    await expectSoundWorkflow(file);
    expect(workflowData(file.content).on).toEqual({ push: { branches: ["main"] } });
  });
});

const AWKWARD_PATHS = ["/srv/shop", "/srv/my shop", "/srv/${{ secrets.GITHUB_TOKEN }}", "/srv/it's", "/srv/$(id)", "/srv/a;b", "/srv/ünï/%x#y", '/srv/"q"/`b`'];
const COMMIT = "0123456789abcdef0123456789abcdef01234567";

/**
 * Runs the deploy job's scripts with ssh, tar, mkdir and docker replaced by recorders: ssh
 * runs the remote command as the node's shell would (with `cd` recorded, not taken), so the
 * result is the list of commands the node would run, each as its argument words.
 */
async function commandsOnNode(scripts: readonly string[]): Promise<string[][]> {
  const dir = await mkdtemp(join(tmpdir(), "create-deploy-gh-"));
  const log = join(dir, "log");
  const record = (name: string, extra = ""): string => `#!/bin/bash\nprintf '%s\\0' ${name} ${extra} "$@" >> "$LOG"\nprintf '\\1' >> "$LOG"\n`;
  await writeFile(join(dir, "ssh"), '#!/bin/bash\ncat > /dev/null\ncd() { printf \'%s\\0\' cd "$@" >> "$LOG"; printf \'\\1\' >> "$LOG"; }\neval "$2"\n');
  await writeFile(join(dir, "mkdir"), record("mkdir"));
  await writeFile(join(dir, "tar"), record("tar"));
  await writeFile(join(dir, "docker"), record("docker", '"IMAGE_TAG=${IMAGE_TAG-}"'));
  for (const tool of ["ssh", "mkdir", "tar", "docker"]) await chmod(join(dir, tool), 0o755);
  await writeFile(log, "");
  for (const script of scripts) {
    const run = await runTool("bash", ["-c", script], { env: { PATH: `${dir}:${process.env["PATH"] ?? ""}`, LOG: log, GITHUB_SHA: COMMIT } });
    if (run.missing) throw new Error(run.reason);
    expect(run.code, run.stderr).toBe(0);
  }
  const text = await readFile(log, "utf8");
  await rm(dir, { recursive: true, force: true });
  return text.split("\u0001").slice(0, -1).map((entry) => entry.split("\0").slice(0, -1));
}

describe("descriptor text in workflows", () => {
  for (const path of AWKWARD_PATHS) {
    it(`keeps the deploy path ${JSON.stringify(path)} one inert word on the node`, async () => {
      const files = generate(withDeploy({ node: "main", user: "deploy", path }));
      const file = files.get(IMAGE_WORKFLOW_PATH);
      if (!file) throw new Error("no image workflow");
      await expectSoundWorkflow(file);
      const scripts = runScripts(file.content).filter((s) => s.where.startsWith("job deploy") && /\bssh deploy-target\b/.test(s.script));
      const compose = ["compose", "-f", "compose.yaml", "--env-file", "env/default.env"];
      expect(await commandsOnNode(scripts.map((s) => asRun(s.script)))).toEqual([
        ["tar", "-cf", "-", "compose.yaml", "env/default.env"],
        ["mkdir", "-p", "--", path],
        ["tar", "-xf", "-", "-C", path],
        ["cd", "--", path],
        ["docker", "IMAGE_TAG=sha-0123456", ...compose, "pull"],
        ["docker", "IMAGE_TAG=sha-0123456", ...compose, "up", "-d", "--remove-orphans"],
      ]);
    });
  }
});

const registryArb = fc.constantFrom<Record<string, unknown> | undefined>(
  undefined,
  { host: "ghcr.io", namespace: "team" },
  { host: "ghcr.io", namespace: "team", credentials: { username: "GHCR_USER", password: "GHCR_TOKEN" } },
  { host: "quay.io", namespace: "team", credentials: { username: "QUAY_USER", password: "QUAY_PWD" } },
  { host: "docker.io", namespace: "team", credentials: { username: "DOCKERHUB_USERNAME", password: "DOCKERHUB_TOKEN" } },
  { host: "registry.example.org:5000", namespace: "team/apps", credentials: { username: "REG_USER", password: "REG_TOKEN" } },
);

const variationArb = fc
  .record({
    registry: registryArb,
    builds: fc.subarray(["api", "web", "worker"], { minLength: 0 }),
    sharer: fc.boolean(),
    branches: fc.option(fc.subarray(["main", "release/*", "develop"], { minLength: 1 }), { nil: undefined }),
    platforms: fc.option(fc.subarray(["linux/amd64", "linux/arm64", "linux/arm/v7"], { minLength: 1 }), { nil: undefined }),
    sign: fc.option(fc.boolean(), { nil: undefined }),
    driftCheck: fc.option(fc.boolean(), { nil: undefined }),
    deploy: fc.option(fc.record({ path: fc.constantFrom(...AWKWARD_PATHS), environment: fc.option(fc.constantFrom("production", "staging env"), { nil: undefined }) }), { nil: undefined }),
  })
  .map((v) => {
    const services: Record<string, unknown> = {};
    for (const [index, name] of v.builds.entries()) {
      services[name] = {
        type: "web",
        roles: ["app"],
        build: { runtime: index % 2 === 0 ? "python" : "node", context: index === 0 ? "." : `./${name}`, command: ["run", name] },
        ports: [{ port: 8000 + index }],
        healthcheck: { http: { path: "/health", port: 8000 + index } },
      };
    }
    if (v.builds.length === 0) services["proxy"] = { type: "proxy", roles: ["app"], image: "nginxinc/nginx-unprivileged:1.27-alpine", ports: [{ port: 8080 }] };
    if (v.sharer && v.builds[0] !== undefined) services["helper"] = { type: "worker", roles: ["app"], imageOf: v.builds[0], command: ["run", "helper"] };
    const github: Record<string, unknown> = {};
    if (v.branches) github["branches"] = v.branches;
    if (v.platforms) github["platforms"] = v.platforms;
    if (v.sign !== undefined) github["sign"] = v.sign;
    if (v.driftCheck !== undefined) github["driftCheck"] = v.driftCheck;
    // A node pulling built images must find them in a declared registry.
    const canDeploy = v.registry !== undefined || v.builds.length === 0;
    if (v.deploy && canDeploy) github["deploy"] = { node: "main", user: "deploy", path: v.deploy.path, ...(v.deploy.environment ? { environment: v.deploy.environment } : {}) };
    return {
      name: "shop",
      ...(v.registry ? { registry: v.registry } : {}),
      ...DEPLOYING,
      services,
      targets: { ...(v.builds.length > 0 ? { docker: {} } : {}), compose: {}, github },
    };
  });

describe("generated variations", () => {
  it("every workflow passes actionlint, the schema, prettier, shellcheck and the audit", async () => {
    await fc.assert(
      fc.asyncProperty(variationArb, async (document) => {
        const files = generate(document);
        for (const file of workflowsOf(files)) await expectSoundWorkflow(file);
      }),
      { numRuns: 30 },
    );
  });

  it("builds each image once, with the permissions its registry and signing need and no more", () => {
    fc.assert(
      fc.property(variationArb, (document) => {
        const files = generate(document);
        const main = files.get(IMAGE_WORKFLOW_PATH);
        const services = document.services as Record<string, Record<string, unknown>>;
        const built = Object.keys(services).filter((name) => services[name]?.["build"] !== undefined);
        if (built.length === 0) {
          expect(main).toBeUndefined();
          return;
        }
        if (!main) throw new Error("no image workflow");
        const workflow = workflowData(main.content);
        expect(Object.keys(workflow.jobs).filter((id) => id.startsWith("image-"))).toEqual(built.map((name) => `image-${name}`));
        const github = (document.targets as Record<string, Record<string, unknown>>)["github"] ?? {};
        const registry = (document as { registry?: { host: string; credentials?: unknown } }).registry;
        const usesToken = registry === undefined || (registry.host === "ghcr.io" && registry.credentials === undefined);
        const expected: Record<string, string> = { contents: "read" };
        if (usesToken) expected["packages"] = "write";
        if (github["sign"] === true) expected["id-token"] = "write";
        for (const name of built) {
          const job = workflow.jobs[`image-${name}`];
          expect(job?.permissions ?? { contents: "read" }).toEqual(expected);
          const step = stepUsing(job ?? { steps: [] }, "docker/login-action");
          expect(step["if"]).toBe("github.event_name != 'pull_request'");
        }
      }),
      { numRuns: 30 },
    );
  });

  it("is deterministic", () => {
    fc.assert(
      fc.property(variationArb, (document) => {
        const first = workflowsOf(generate(document)).map((f) => f.content);
        expect(workflowsOf(generate(document)).map((f) => f.content)).toEqual(first);
      }),
      { numRuns: 15 },
    );
  });
});

describe("the drift check job, run on a real merge commit", () => {
  const BIN = join(repoRoot, "bin", "create-deploy.js");

  async function sh(dir: string, command: string, args: string[], env: Record<string, string> = {}) {
    const run = await runTool(command, args, { cwd: dir, env: { GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.org", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.org", ...env } });
    if (run.missing) throw new Error(run.reason);
    return run;
  }

  /**
   * A repository whose HEAD is the merge commit GitHub checks out for a pull request: the
   * base branch holds genui as generated, the pull request makes redis run as root
   * (regenerating the files, or not), and HEAD^1 is the base.
   */
  async function pullRequestCheckout(regenerate: boolean): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "create-deploy-drift-"));
    await writeFile(join(dir, "deploy.yaml"), readFileSync(join(examplesDir, "genui", "deploy.yaml")));
    for (const [command, args] of [
      ["node", [BIN, "generate"]],
      ["git", ["init", "-q", "-b", "main"]],
      ["git", ["add", "."]],
      ["git", ["commit", "-q", "-m", "base"]],
      ["git", ["checkout", "-q", "-b", "change"]],
    ] as const) expect((await sh(dir, command, [...args])).code).toBe(0);
    const text = readFileSync(join(dir, "deploy.yaml"), "utf8").replace("    user: redis\n", "    user: root\n");
    await writeFile(join(dir, "deploy.yaml"), text);
    if (regenerate) expect((await sh(dir, "node", [BIN, "generate"])).code).toBe(0);
    for (const args of [["add", "."], ["commit", "-q", "-m", "change"], ["checkout", "-q", "main"], ["merge", "-q", "--no-ff", "-m", "merge", "change"]]) {
      const run = await sh(dir, "git", args);
      expect(run.code, run.stderr).toBe(0);
    }
    return dir;
  }

  /** The job's steps after checkout, as the runner runs them: bash -e, `if:` conditions applied. */
  async function runCheckJob(dir: string): Promise<{ checkFailed: boolean; summary: string }> {
    const workflow = workflowData(fileOf(generate(exampleDocument("genui")), DRIFT_WORKFLOW_PATH));
    const steps = workflow.jobs["check"]?.steps.filter((s) => typeof s["run"] === "string") ?? [];
    const stubs = await mkdtemp(join(tmpdir(), "create-deploy-npx-"));
    // npx --yes create-deploy@X ARGS runs this checkout's build instead of the registry's.
    await writeFile(join(stubs, "npx"), `#!/bin/bash\n[ "$1" = --yes ] && shift\nshift\nexec node ${JSON.stringify(BIN)} "$@"\n`);
    await chmod(join(stubs, "npx"), 0o755);
    const summaryFile = join(stubs, "summary.md");
    await writeFile(summaryFile, "");
    const env = { PATH: `${stubs}:${process.env["PATH"] ?? ""}`, RUNNER_TEMP: stubs, GITHUB_STEP_SUMMARY: summaryFile, CREATE_DEPLOY: `create-deploy@${VERSION}` };
    let checkFailed = false;
    for (const step of steps) {
      const condition = String(step["if"] ?? "success()");
      const runs = condition === "!cancelled()" || (condition.startsWith("failure()") ? checkFailed : !checkFailed);
      if (!runs) continue;
      const run = await sh(dir, "bash", ["-e", "-c", String(step["run"])], env);
      if (step["id"] === "check") checkFailed = run.code !== 0;
      else expect(run.code, `${String(step["name"])}: ${run.stderr}`).toBe(0);
    }
    const summary = await readFile(summaryFile, "utf8");
    await rm(stubs, { recursive: true, force: true });
    return { checkFailed, summary };
  }

  it("passes with regenerated files, and summarises the change against the base branch", async () => {
    const dir = await pullRequestCheckout(true);
    const { checkFailed, summary } = await runCheckJob(dir);
    expect(checkFailed).toBe(false);
    expect(summary).toContain("## Deployment change: `genui`");
    expect(summary).toContain("**`redis` runs as root** (user `root`, was `redis`)");
    expect(summary).not.toContain("do not match");
    await rm(dir, { recursive: true, force: true });
  });

  it("fails with stale files and shows the diff in a fence DEPLOY.md's own fences cannot close", async () => {
    const dir = await pullRequestCheckout(false);
    const { checkFailed, summary } = await runCheckJob(dir);
    expect(checkFailed).toBe(true);
    expect(summary).toContain("### Generated files do not match deploy.yaml");
    expect(summary).toMatch(/````diff\n--- a\/compose\.yaml\n\+\+\+ b\/compose\.yaml\n[\s\S]*-    user: "redis"\n\+    user: "root"\n[\s\S]*\n````\n\n## Deployment change/);
    expect(summary).toContain("**`redis` runs as root**");
    await rm(dir, { recursive: true, force: true });
  });
});
