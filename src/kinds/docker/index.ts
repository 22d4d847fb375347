// Dockerfiles: one per container service with `build`, each with its own ignore file beside
// it, and the runbook section that builds and pushes the images. Services with `imageOf`
// run another service's image and get no Dockerfile.
import type { Descriptor } from "../../model/descriptor.js";
import { buildContextOf, builtImageName, dockerfilePath, dockerignorePath, listServices, secretEnvName, secretFilePath } from "../../model/derive.js";
import { quoteShell } from "../../render/escape.js";
import { formatTable } from "../../render/markdown.js";
import type { ArtifactKind, PlannedFile, RunbookSection } from "../types.js";
import { buildIgnoreModel } from "./ignore.js";
import { buildDockerfileModel, listBuiltServices, usesNpmrc } from "./image.js";
import { checkDockerBuilds } from "./rules.js";

const RUNTIME_NAMES = { python: "Python", node: "Node.js", generic: "custom base image" } as const;

function planDockerFiles(d: Descriptor): PlannedFile[] {
  const files: PlannedFile[] = [];
  for (const [name, service] of listBuiltServices(d)) {
    const model = buildDockerfileModel(d, name, service);
    files.push({
      path: dockerfilePath(name),
      kind: "dockerfile",
      purpose: `Image of ${name} (${RUNTIME_NAMES[model.runtime]}), non-root`,
      template: `docker/${model.runtime}`,
      context: { ...model },
    });
    files.push({
      path: dockerignorePath(name),
      kind: "dockerignore",
      purpose: `What the build of ${name} leaves out of its context`,
      template: "docker/dockerignore",
      context: { service: name, context: model.context, dockerfile: model.dockerfile, ...buildIgnoreModel(d, service.build) },
    });
  }
  return files;
}

/** One `docker build` command, continued over lines when it passes build secrets. */
export function buildCommandOf(d: Descriptor, name: string): string {
  const service = d.services[name];
  const build = service?.build;
  if (!build) throw new Error(`services.${name} has no build`);
  const secrets = (build.secrets ?? []).map((secret) => `--secret ${quoteShell(`id=${secret},src=${secretFilePath(secret)}`)}`);
  const parts = [`docker build -f ${quoteShell(dockerfilePath(name))}`, ...secrets, `-t ${quoteShell(builtImageName(d, name))}:"$TAG" ${quoteShell(buildContextOf(build))}`];
  return secrets.length === 0 ? parts.join(" ") : parts.join(" \\\n  ");
}

function buildSection(d: Descriptor): RunbookSection {
  const built = listBuiltServices(d);
  const rows = built.map(([name, service]) => [name, dockerfilePath(name), buildContextOf(service.build), builtImageName(d, name)]);
  const sharers = listServices(d)
    .filter(([, s]) => s.imageOf !== undefined && built.some(([name]) => name === s.imageOf))
    .map(([name, s]) => ({ service: name, source: s.imageOf ?? "" }));
  const secretNames = [...new Set(built.flatMap(([, s]) => s.build.secrets ?? []))];
  const npmrcBuilds = built.filter(([, s]) => usesNpmrc(s.build));
  const npmrcSecret = npmrcBuilds[0]?.[1].build.secrets?.[0] ?? "";
  return {
    id: "docker-build",
    title: "Build and push images",
    order: 40,
    template: "docker/runbook",
    context: {
      table: formatTable(["Service", "Dockerfile", "Context", "Image"], rows, { code: [0, 1, 2, 3] }),
      sharers,
      hasSharers: sharers.length > 0,
      builds: built.map(([name]) => buildCommandOf(d, name)),
      secrets: secretNames.map((name) => ({ name, file: secretFilePath(name), variable: secretEnvName(name, d.secrets?.[name]) })),
      hasSecrets: secretNames.length > 0,
      npmrcServices: npmrcBuilds.map(([name]) => name),
      npmrcVariable: secretEnvName(npmrcSecret, d.secrets?.[npmrcSecret]),
      hasNpmrc: npmrcBuilds.length > 0,
      hasRegistry: d.registry !== undefined,
      registryHost: d.registry?.host ?? "",
      pushes: built.map(([name]) => `docker push ${quoteShell(builtImageName(d, name))}:"$TAG"`),
      ignoreFiles: built.map(([name]) => dockerignorePath(name)),
      exampleDockerfile: dockerfilePath(built[0]?.[0] ?? "web"),
      exampleIgnore: dockerignorePath(built[0]?.[0] ?? "web"),
    },
  };
}

export const dockerKind: ArtifactKind = {
  name: "docker",
  enabled: (d) => d.targets?.docker !== undefined && listBuiltServices(d).length > 0,
  check: checkDockerBuilds,
  plan: planDockerFiles,
  runbook: (d) => [buildSection(d)],
};
