// The image workflow: one job per built image. Pull requests build (no login, no push);
// pushes to the publishing branches and version tags log in, tag with metadata-action and
// push. Each job's permissions are raised only as far as its registry and signing need.
import type { Descriptor, GithubTarget } from "../../model/descriptor.js";
import { buildContextOf, builtImageName, dockerfilePath } from "../../model/derive.js";
import { listBuiltServices } from "../docker/image.js";
import { NOT_PULL_REQUEST, RUNNER, type Step, actionStep, checkoutStep, expr, runStep } from "./steps.js";
import { OWNER_STEP_ID, pushedImageOf, registryLoginOf } from "./registry.js";

export const DEFAULT_BRANCHES = ["main"];
export const DEFAULT_PLATFORMS = ["linux/amd64"];
/** Tags that publish a release; metadata-action turns v1.2.3 into 1.2.3 and 1.2. */
export const VERSION_TAGS = ["v*.*.*"];
/** The platform GitHub's hosted runners run natively; others need QEMU. */
const NATIVE_PLATFORM = "linux/amd64";

/** The metadata-action tag rules, one per line, as the workflow and DEPLOY.md show them. */
export const TAG_RULES = [
  "type=semver,pattern={{version}}",
  "type=semver,pattern={{major}}.{{minor}}",
  "type=ref,event=branch",
  "type=ref,event=pr",
  "type=sha",
  "type=raw,value=latest,enable={{is_default_branch}}",
];

export function branchesOf(target: GithubTarget): string[] {
  return target.branches ?? DEFAULT_BRANCHES;
}

export function platformsOf(target: GithubTarget): string[] {
  return target.platforms ?? DEFAULT_PLATFORMS;
}

export function foreignPlatforms(target: GithubTarget): string[] {
  return platformsOf(target).filter((platform) => platform !== NATIVE_PLATFORM);
}

/** The job id of a service's image build. Service names are identifiers, valid job ids as they are. */
export function imageJobId(service: string): string {
  return `image-${service}`;
}

/** Services whose image this workflow builds: one build per image (services with `imageOf` share it). */
export function builtImageServices(d: Descriptor): string[] {
  return listBuiltServices(d).map(([name]) => name);
}

function jobPermissions(d: Descriptor, target: GithubTarget): Record<string, string> | undefined {
  const login = registryLoginOf(d);
  const permissions: Record<string, string> = {};
  if (login.githubToken) permissions["packages"] = "write";
  if (target.sign === true) permissions["id-token"] = "write";
  // Job permissions replace the workflow's, so the one the checkout needs is repeated.
  return Object.keys(permissions).length === 0 ? undefined : { contents: "read", ...permissions };
}

function ownerStep(): Step {
  return runStep("Lower-case the image namespace", 'echo "name=${OWNER,,}" >> "$GITHUB_OUTPUT"', {
    id: OWNER_STEP_ID,
    env: { OWNER: expr("github.repository_owner") },
  });
}

function loginStep(d: Descriptor): Step {
  const login = registryLoginOf(d);
  const inputs: Record<string, string> = {};
  if (login.registryInput !== undefined) inputs["registry"] = login.registryInput;
  inputs["username"] = login.username;
  inputs["password"] = login.password;
  return actionStep(`Log in to ${login.host}`, "docker/login-action", { if: NOT_PULL_REQUEST, with: inputs });
}

/**
 * metadata-action adds the standard OCI labels from the repository (source, revision,
 * version, licenses); the title names the image rather than the repository. Descriptions
 * stay out: the action reads this input as comma- and #-aware CSV, which free text breaks.
 */
function labelsOf(d: Descriptor, service: string): string {
  return `org.opencontainers.image.title=${builtImageName(d, service).split("/").pop() ?? service}\n`;
}

function signSteps(d: Descriptor, service: string): Step[] {
  return [
    actionStep("Install cosign", "sigstore/cosign-installer", { if: NOT_PULL_REQUEST }),
    // Keyless: the signature is tied to this workflow's OIDC identity, recorded in Rekor.
    runStep("Sign the image (keyless)", 'cosign sign --yes "${IMAGE}@${DIGEST}"', {
      if: NOT_PULL_REQUEST,
      env: { IMAGE: pushedImageOf(d, service), DIGEST: expr("steps.build.outputs.digest") },
    }),
  ];
}

function imageJob(d: Descriptor, target: GithubTarget, service: string): Record<string, unknown> {
  const build = d.services[service]?.build;
  if (build === undefined) throw new Error(`services.${service} has no build`);
  const login = registryLoginOf(d);
  const foreign = foreignPlatforms(target);
  const steps: Step[] = [checkoutStep()];
  if (login.ownerFromRepository) steps.push(ownerStep());
  if (foreign.length > 0) {
    steps.push(actionStep("Set up QEMU for foreign platforms", "docker/setup-qemu-action", { with: { platforms: foreign.join(",") } }));
  }
  steps.push(actionStep("Set up Docker Buildx", "docker/setup-buildx-action"));
  steps.push(loginStep(d));
  steps.push(
    actionStep("Compute tags and labels", "docker/metadata-action", {
      id: "meta",
      with: {
        images: pushedImageOf(d, service),
        tags: `${TAG_RULES.join("\n")}\n`,
        // `latest` comes from the rule above (default branch only), not from every version tag.
        flavor: "latest=false",
        labels: labelsOf(d, service),
      },
    }),
  );
  steps.push(
    actionStep(`Build${target.sign === true ? ", push and sign" : " and push"} ${service}`, "docker/build-push-action", {
      id: "build",
      with: {
        context: buildContextOf(build),
        file: dockerfilePath(service),
        platforms: platformsOf(target).join(","),
        push: expr(NOT_PULL_REQUEST),
        tags: expr("steps.meta.outputs.tags"),
        labels: expr("steps.meta.outputs.labels"),
        "cache-from": `type=gha,scope=${service}`,
        "cache-to": `type=gha,mode=max,scope=${service}`,
      },
    }),
  );
  if (target.sign === true) steps.push(...signSteps(d, service));
  const permissions = jobPermissions(d, target);
  return {
    name: `Image ${service}`,
    "runs-on": RUNNER,
    "timeout-minutes": 60,
    ...(permissions === undefined ? {} : { permissions }),
    steps,
  };
}

/** The jobs building images, keyed by job id, in the descriptor's order. */
export function imageJobs(d: Descriptor, target: GithubTarget): Record<string, unknown> {
  return Object.fromEntries(builtImageServices(d).map((service) => [imageJobId(service), imageJob(d, target, service)]));
}

/** `on:` of the image workflow: pull requests into the publishing branches build, pushes publish. */
export function imageTriggers(target: GithubTarget): Record<string, unknown> {
  const branches = branchesOf(target);
  return { push: { branches, tags: VERSION_TAGS }, pull_request: { branches } };
}
