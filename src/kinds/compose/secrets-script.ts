// create-secrets.sh: makes every missing secret, never overwrites one. Compose reads
// secrets from files under secrets/ (git-ignored); swarm keeps them in its raft store,
// created with `docker secret create` from stdin. A secret both need (a swarm service and
// a plain compose container beside the stack) gets the same value in both places.
import type { Descriptor, Secret } from "../../model/descriptor.js";
import { SECRET_ALPHABETS, SECRETS_DIR, secretSourceOf } from "../../model/derive.js";
import type { PlannedFile } from "../types.js";

export const CREATE_SECRETS_PATH = "create-secrets.sh";

export interface SecretPlacement {
  /** Secrets a swarm service reads (docker secret create). */
  swarm: readonly string[];
  /** Secrets a compose service reads (files under secrets/). */
  files: readonly string[];
}

interface ScriptSecret {
  name: string;
  where: "swarm" | "file" | "both";
  /** Empty: the value is asked for. */
  alphabet: string;
  length: number;
  external: boolean;
  description: string;
  hasDescription: boolean;
}

function scriptSecrets(d: Descriptor, placement: SecretPlacement): ScriptSecret[] {
  return Object.entries(d.secrets ?? {}).flatMap(([name, secret]: [string, Secret]) => {
    const swarm = placement.swarm.includes(name);
    const file = placement.files.includes(name);
    if (!swarm && !file) return [];
    const source = secretSourceOf(secret);
    return [
      {
        name,
        where: swarm && file ? "both" : swarm ? "swarm" : "file",
        alphabet: source.how === "generate" ? SECRET_ALPHABETS[source.charset] : "",
        length: source.how === "generate" ? source.length : 0,
        external: source.how === "external",
        description: secret.description ?? "",
        hasDescription: secret.description !== undefined,
      },
    ];
  });
}

export function secretsScriptFile(d: Descriptor, placement: SecretPlacement): PlannedFile {
  const secrets = scriptSecrets(d, placement);
  const swarm = secrets.some((s) => s.where !== "file");
  return {
    path: CREATE_SECRETS_PATH,
    kind: "shell",
    executable: true,
    purpose: swarm
      ? "Creates each missing swarm secret (and secret file), printing generated values once"
      : "Creates each missing secret file under secrets/; never overwrites one",
    template: "compose/create-secrets",
    context: {
      project: d.name,
      swarm,
      files: secrets.some((s) => s.where !== "swarm"),
      secretsDir: SECRETS_DIR,
      managerFormat: "{{.Swarm.ControlAvailable}}",
      managed: secrets.filter((s) => !s.external),
      external: secrets.filter((s) => s.external),
      hasExternal: secrets.some((s) => s.external),
    },
  };
}
