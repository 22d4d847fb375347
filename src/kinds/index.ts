// The registry of artifact kinds, in planning order. Adding a kind means one module
// here, one folder of templates, one `$defs` entry in the schema and one example.
import { composeKind } from "./compose/index.js";
import { dockerKind } from "./docker/index.js";
import { docsKind } from "./docs/index.js";
import { envKind } from "./env/index.js";
import { firewallKind } from "./firewall/index.js";
import { githubKind } from "./github/index.js";
import { swarmKind } from "./swarm/index.js";
import { systemdKind } from "./systemd/index.js";
import type { ArtifactKind } from "./types.js";

export const kinds: readonly ArtifactKind[] = [
  envKind,
  dockerKind,
  firewallKind,
  systemdKind,
  composeKind,
  swarmKind,
  // The drift check lists every file planned before it: keep it after every kind that writes files.
  githubKind,
  // DEPLOY.md lists every other kind's files and sections, so it is planned last.
  docsKind,
];
