// Where the workflow pushes images and how it logs in. GHCR takes the workflow's own
// GITHUB_TOKEN (with `packages: write`); any other registry, or GHCR with a token of its
// own, takes the two GitHub secrets the descriptor names. Without `registry`, images go to
// GHCR under the repository owner, whose name is only known when the workflow runs.
import type { Descriptor } from "../../model/descriptor.js";
import { builtImageName } from "../../model/derive.js";
import { expr } from "./steps.js";

export const GHCR = "ghcr.io";
export const DOCKER_HUB = "docker.io";

/** The step that lower-cases the owner (image names must be lower case; GitHub owners need not be). */
export const OWNER_STEP_ID = "owner";

export interface RegistryLogin {
  /** Registry host, as people name it. */
  host: string;
  /** login-action's `registry` input; absent for Docker Hub, its default. */
  registryInput?: string;
  username: string;
  password: string;
  /** Logs in with GITHUB_TOKEN, so the job needs `packages: write`. */
  githubToken: boolean;
  /** GitHub secrets a person must set; empty for GITHUB_TOKEN. */
  secrets: string[];
  /** The namespace is the repository owner, computed by a step. */
  ownerFromRepository: boolean;
}

export function registryLoginOf(d: Descriptor): RegistryLogin {
  const registry = d.registry;
  const host = registry?.host ?? GHCR;
  const base = { host, ...(host === DOCKER_HUB ? {} : { registryInput: host }), ownerFromRepository: registry === undefined };
  const credentials = registry?.credentials;
  if (credentials !== undefined) {
    return {
      ...base,
      username: expr(`secrets.${credentials.username}`),
      password: expr(`secrets.${credentials.password}`),
      githubToken: false,
      secrets: [credentials.username, credentials.password],
    };
  }
  return { ...base, username: expr("github.actor"), password: expr("secrets.GITHUB_TOKEN"), githubToken: true, secrets: [] };
}

/** Whether the registry lets the workflow log in without secrets of its own. */
export function loginNeedsNoSecrets(d: Descriptor): boolean {
  return (d.registry?.host ?? GHCR) === GHCR;
}

/** The image a service's job pushes, as the workflow spells it (may hold an expression). */
export function pushedImageOf(d: Descriptor, service: string): string {
  if (d.registry !== undefined) return builtImageName(d, service);
  return `${GHCR}/${expr(`steps.${OWNER_STEP_ID}.outputs.name`)}/${builtImageName(d, service)}`;
}

/** The same image for people reading DEPLOY.md. */
export function pushedImageForPeople(d: Descriptor, service: string): string {
  if (d.registry !== undefined) return builtImageName(d, service);
  return `${GHCR}/<owner>/${builtImageName(d, service)}`;
}
