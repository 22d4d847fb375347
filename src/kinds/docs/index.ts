// DEPLOY.md: the runbook of this descriptor. Its own sections describe what is common
// to every deployment (files, variables, secrets, regeneration); every other kind adds
// the sections for the files it writes. Planned last so it can list every file.
import type { Descriptor, Port, Service } from "../../model/descriptor.js";
import {
  SECRETS_DIR,
  builtImageName,
  collectVariables,
  environmentNames,
  envFilePath,
  exposureOf,
  listServices,
  platformOf,
  secretEnvName,
  secretFilePath,
  secretSourceOf,
  secretsExamplePath,
  serviceSecretNames,
} from "../../model/derive.js";
import { formatTable } from "../../render/markdown.js";
import type { ArtifactKind, PlanContext, PlannedFile, RunbookSection } from "../types.js";

export const MANIFEST_PATH = ".create-deploy/manifest.json";

export function docsPath(d: Descriptor): string {
  return d.targets?.docs?.file ?? "DEPLOY.md";
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
export function headingAnchor(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

function describePort(port: Port): string {
  const protocol = port.protocol ?? "tcp";
  const exposure = exposureOf(port);
  if (exposure === "internal") return `${port.port}/${protocol} internal`;
  const published = port.published ?? port.port;
  const mapping = published === port.port ? `${port.port}` : `${published}→${port.port}`;
  return `${mapping}/${protocol} ${exposure}`;
}

function describeImage(d: Descriptor, name: string, service: Service): string {
  if (service.image) return service.image;
  if (service.imageOf) return `${builtImageName(d, name)} (image of ${service.imageOf})`;
  if (service.build) return `${builtImageName(d, name)} (built, ${service.build.runtime})`;
  return "";
}

function overviewSection(d: Descriptor): RunbookSection {
  const rows = listServices(d).map(([name, s]) => [
    name,
    s.type ?? "other",
    platformOf(s) === "systemd" ? "systemd unit" : "container",
    describeImage(d, name, s),
    (s.ports ?? []).map(describePort).join(", "),
  ]);
  return {
    id: "overview",
    title: "Overview",
    order: 0,
    template: "docs/overview",
    context: {
      table: formatTable(["Service", "Type", "Runs as", "Image", "Ports"], rows, { code: [0] }),
      exposureNote:
        "Port exposure: `public` is reachable from anywhere, `cluster` only from the cluster network and nodes, `local` only from this host (bound to 127.0.0.1), `internal` only from the other services.",
    },
  };
}

function filesSection(d: Descriptor, files: readonly PlannedFile[]): RunbookSection {
  const listed = [
    ...files.map((f) => [f.path, f.kind, f.purpose]),
    [docsPath(d), "markdown", "This runbook"],
    [MANIFEST_PATH, "other", "What was generated, with hashes; lets create-deploy spot hand edits"],
  ].sort((a, b) => ((a[0] ?? "") < (b[0] ?? "") ? -1 : 1));
  return {
    id: "files",
    title: "Generated files",
    order: 5,
    template: "docs/files",
    context: { table: formatTable(["File", "Kind", "Purpose"], listed, { code: [0] }) },
  };
}

/** Beyond this many names a "Read by" or "Used by" cell summarises instead of listing. */
const LISTED_SERVICES = 8;

/**
 * The services of a table cell. Every service listed on every row would make the table
 * grow with the square of the service count (and pad every row to the longest), so a long
 * list that covers every service says so, one that misses a few names those, and any other
 * names the first few and counts the rest. Short lists are written out whole.
 */
export function summarizeServices(names: readonly string[], all: readonly string[]): string {
  if (names.length <= LISTED_SERVICES) return names.join(", ");
  if (names.length === all.length) return `every service (${names.length})`;
  const missing = all.length - names.length;
  if (missing <= 3) {
    const included = new Set(names);
    return `every service but ${all.filter((n) => !included.has(n)).join(", ")}`;
  }
  return `${names.slice(0, LISTED_SERVICES - 2).join(", ")} and ${names.length - (LISTED_SERVICES - 2)} more`;
}

function variablesSection(d: Descriptor): RunbookSection {
  const envs = environmentNames(d);
  const all = listServices(d).map(([name]) => name);
  const rows = collectVariables(d).map((v) => [
    v.key,
    summarizeServices(v.services, all),
    ...envs.map((env) => (v.source === "secret" ? "secret" : v.source === "value" || v.source === "host-user" ? (v.values[env] ?? "") : (v.note ?? ""))),
  ]);
  return {
    id: "variables",
    title: "Environments and variables",
    order: 20,
    template: "docs/variables",
    context: {
      environments: envs.map((env) => ({
        name: env,
        file: envFilePath(d, env),
        description: d.environments?.[env]?.description ?? "",
        hasDescription: d.environments?.[env]?.description !== undefined,
      })),
      hasVariables: rows.length > 0,
      table: formatTable(["Variable", "Read by", ...envs], rows, { code: [0] }),
    },
  };
}

function secretsSection(d: Descriptor): RunbookSection | undefined {
  const secrets = Object.entries(d.secrets ?? {});
  if (secrets.length === 0) return undefined;
  const services = listServices(d);
  const all = services.map(([name]) => name);
  const usedBy = (name: string): string =>
    summarizeServices(
      services.filter(([, s]) => serviceSecretNames(s).includes(name)).map(([n]) => n),
      all,
    );
  const made = (secret: NonNullable<Descriptor["secrets"]>[string]): string => {
    const source = secretSourceOf(secret);
    if (source.how === "external") return "created outside create-deploy";
    if (source.how === "prompt") return "asked for (stdin)";
    return `random, ${source.length} ${source.charset} characters`;
  };
  const rows = secrets.map(([name, s]) => [name, secretEnvName(name, s), usedBy(name), made(s), s.description ?? ""]);
  const targets = d.targets ?? {};
  const databaseSecrets = secrets
    .map(([name]) => name)
    .filter((name) => listServices(d).some(([, s]) => s.type === "database" && serviceSecretNames(s).includes(name)));
  return {
    id: "secrets",
    title: "Secrets",
    order: 30,
    template: "docs/secrets",
    context: {
      table: formatTable(["Secret", "Variable", "Used by", "Value", "Description"], rows, { code: [0, 1] }),
      secretsDir: SECRETS_DIR,
      example: secretsExamplePath(d),
      exampleFile: secretFilePath(secrets[0]?.[0] ?? "name"),
      compose: targets.compose !== undefined,
      swarm: targets.swarm !== undefined,
      systemd: targets.systemd !== undefined,
      github: targets.github !== undefined,
      hasDatabaseSecrets: databaseSecrets.length > 0,
      databaseSecrets: databaseSecrets.map((name) => `\`${name}\``).join(", "),
    },
  };
}

function regenerateSection(): RunbookSection {
  return { id: "regenerate", title: "Change and regenerate", order: 90, template: "docs/regenerate", context: { manifest: MANIFEST_PATH } };
}

function planDocs(d: Descriptor, context: PlanContext): PlannedFile[] {
  const own = [overviewSection(d), filesSection(d, context.files), variablesSection(d), secretsSection(d), regenerateSection()].filter(
    (s): s is RunbookSection => s !== undefined,
  );
  const sections = [...own, ...context.sections].sort((a, b) => a.order - b.order || (a.id < b.id ? -1 : 1));
  return [
    {
      path: docsPath(d),
      kind: "markdown",
      purpose: "This runbook",
      template: "docs/runbook",
      context: {
        name: d.name,
        description: d.description ?? "",
        hasDescription: d.description !== undefined,
        sections: sections.map((s) => ({ ...s, anchor: headingAnchor(s.title) })),
      },
    },
  ];
}

export const docsKind: ArtifactKind = {
  name: "docs",
  enabled: () => true,
  plan: planDocs,
};
