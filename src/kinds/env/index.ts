// env files: one per environment with its clear values, a committed example listing
// every secret as an empty placeholder, and the ignore file that keeps real secret
// values out of git.
import type { Descriptor } from "../../model/descriptor.js";
import {
  SECRETS_DIR,
  collectVariables,
  envFileEntries,
  environmentNames,
  envFilePath,
  isScalar,
  listServices,
  secretEnvName,
  secretFilePath,
  secretsExamplePath,
} from "../../model/derive.js";
import { isDotenvSafe } from "../../render/escape.js";
import type { ArtifactKind, PlannedFile, RuleProblem } from "../types.js";

function pointer(...parts: string[]): string {
  return `/${parts.map((p) => p.replace(/~/g, "~0").replace(/\//g, "~1")).join("/")}`;
}

/** Values must survive as KEY='value' in compose, systemd and dotenv alike. */
function checkEnvValues(d: Descriptor): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const unsafe = (value: string, at: string): void => {
    if (!isDotenvSafe(value)) {
      problems.push({
        pointer: at,
        message: "cannot be written to an env file: a value holding ' or \\ has no portable spelling",
        hint: "declare it under `secrets` instead; secret values are delivered as files",
      });
    }
  };
  const firstValue = new Map<string, { value: string; service: string }>();
  for (const [name, service] of listServices(d)) {
    for (const [key, value] of Object.entries(service.environment ?? {})) {
      if (!isScalar(value)) continue;
      const text = String(value);
      unsafe(text, pointer("services", name, "environment", key));
      const seen = firstValue.get(key);
      if (!seen) firstValue.set(key, { value: text, service: name });
      else if (seen.value !== text) {
        problems.push({
          pointer: pointer("services", name, "environment", key),
          message: `is "${text}" here but "${seen.value}" in service ${seen.service}; an env file holds one value per variable`,
          hint: "use the same value, or rename one of the variables",
        });
      }
    }
  }
  for (const [env, environment] of Object.entries(d.environments ?? {})) {
    for (const [key, value] of Object.entries(environment.values ?? {})) {
      unsafe(String(value), pointer("environments", env, "values", key));
    }
  }
  return problems;
}

function planEnvFiles(d: Descriptor): PlannedFile[] {
  const files: PlannedFile[] = environmentNames(d).map((env) => ({
    path: envFilePath(d, env),
    kind: "env",
    purpose: `Clear settings of the ${env} environment (no secrets)`,
    template: "env/environment",
    context: {
      environment: env,
      description: d.environments?.[env]?.description ?? "",
      hasDescription: d.environments?.[env]?.description !== undefined,
      entries: envFileEntries(d, env).map(([key, value]) => ({ key, value })),
      secretsDir: SECRETS_DIR,
      hasSecrets: Object.keys(d.secrets ?? {}).length > 0,
    },
  }));
  const secrets = Object.entries(d.secrets ?? {});
  if (secrets.length === 0) return files;
  const readers = new Map<string, readonly string[]>();
  for (const variable of collectVariables(d)) readers.set(variable.key, variable.services);
  files.push({
    path: secretsExamplePath(d),
    kind: "env",
    purpose: "Every secret as an empty placeholder; safe to commit",
    template: "env/secrets-example",
    context: {
      secrets: secrets.map(([name, secret]) => ({
        name,
        key: secretEnvName(name, secret),
        file: secretFilePath(name),
        description: secret.description ?? "",
        hasDescription: secret.description !== undefined,
        external: secret.external === true,
      })),
    },
  });
  files.push({
    path: `${SECRETS_DIR}/.gitignore`,
    kind: "other",
    purpose: "Keeps the secret values in this folder out of git",
    template: "env/secrets-gitignore",
    context: {},
  });
  return files;
}

export const envKind: ArtifactKind = {
  name: "env",
  enabled: () => true,
  check: checkEnvValues,
  plan: planEnvFiles,
};
