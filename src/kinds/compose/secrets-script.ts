// create-secrets.sh: makes every missing secret, never overwrites one. Compose reads
// secrets from files under secrets/ (git-ignored); swarm keeps them in its raft store,
// created with `docker secret create` from stdin. A secret both need (a swarm service and
// a plain compose container beside the stack) gets the same value in both places.
import type { Descriptor, Secret } from "../../model/descriptor.js";
import { SECRETS_DIR } from "../../model/derive.js";
import type { PlannedFile } from "../types.js";

export const CREATE_SECRETS_PATH = "create-secrets.sh";

/** tr(1) sets of each charset; base64 is the URL-safe alphabet, as the schema documents. */
const ALPHABETS = { alnum: "A-Za-z0-9", hex: "0-9a-f", base64: "A-Za-z0-9_-" } as const;

export const DEFAULT_SECRET_LENGTH = 32;

export interface SecretPlacement {
  /** Secrets a swarm service reads (docker secret create). */
  swarm: readonly string[];
  /** Secrets a compose service reads (files under secrets/). */
  files: readonly string[];
}

export interface ScriptSecret {
  name: string;
  where: "swarm" | "file" | "both";
  /** Empty: the value is asked for. */
  alphabet: string;
  length: number;
  external: boolean;
  description: string;
  hasDescription: boolean;
}

export function scriptSecrets(d: Descriptor, placement: SecretPlacement): ScriptSecret[] {
  return Object.entries(d.secrets ?? {}).flatMap(([name, secret]: [string, Secret]) => {
    const swarm = placement.swarm.includes(name);
    const file = placement.files.includes(name);
    if (!swarm && !file) return [];
    const generate = secret.generate;
    return [
      {
        name,
        where: swarm && file ? "both" : swarm ? "swarm" : "file",
        alphabet: generate === false || secret.external === true ? "" : ALPHABETS[generate?.charset ?? "alnum"],
        length: generate === false ? 0 : (generate?.length ?? DEFAULT_SECRET_LENGTH),
        external: secret.external === true,
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
