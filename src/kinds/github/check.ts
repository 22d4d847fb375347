// Rules only the GitHub workflows care about: the images they build must have Dockerfiles
// and a registry that lets the workflow log in; a deploy job needs a node it can reach and
// files it can apply there.
import type { Descriptor } from "../../model/descriptor.js";
import { joinPointer, quote } from "../../problems.js";
import type { RuleProblem } from "../types.js";
import { composeServicesOnNode } from "./deploy.js";
import { builtImageServices } from "./images.js";
import { GHCR } from "./registry.js";

function problem(segments: readonly (string | number)[], message: string, hint?: string): RuleProblem {
  return { pointer: joinPointer(segments), message, ...(hint === undefined ? {} : { hint }) };
}

function checkImages(d: Descriptor): RuleProblem[] {
  const built = builtImageServices(d);
  if (built.length === 0) return [];
  const problems: RuleProblem[] = [];
  if (d.targets?.docker === undefined) {
    problems.push(
      problem(
        ["targets", "github"],
        `the workflow builds ${built.join(", ")} from the Dockerfiles that targets.docker writes, but targets.docker is not set`,
        "add `docker: {}` under targets",
      ),
    );
  }
  const registry = d.registry;
  if (registry !== undefined && registry.host !== GHCR && registry.credentials === undefined) {
    problems.push(
      problem(
        ["registry"],
        `the workflow cannot log in to ${quote(registry.host)}: only ghcr.io accepts the workflow's own token`,
        "add `credentials: { username: REGISTRY_USER, password: REGISTRY_TOKEN }`: the names of the GitHub secrets holding the login",
      ),
    );
  }
  return problems;
}

function checkDeploy(d: Descriptor): RuleProblem[] {
  const deploy = d.targets?.github?.deploy;
  if (deploy === undefined) return [];
  const at = ["targets", "github", "deploy"];
  const problems: RuleProblem[] = [];
  const node = d.nodes?.[deploy.node];
  if (node === undefined) {
    const known = Object.keys(d.nodes ?? {});
    problems.push(
      problem(
        [...at, "node"],
        `names no node: ${quote(deploy.node)} is not under nodes`,
        known.length === 0 ? "declare the node under `nodes` with its address" : `use one of: ${known.join(", ")}`,
      ),
    );
  }
  const swarm = d.targets?.swarm !== undefined;
  if (!swarm && d.targets?.compose === undefined) {
    problems.push(problem(at, "has nothing to deploy: it applies compose or swarm files, and neither targets.compose nor targets.swarm is set", "add `compose: {}` or `swarm:` under targets"));
  }
  if (!swarm && d.targets?.compose !== undefined && node !== undefined && composeServicesOnNode(d, deploy.node).length === 0) {
    problems.push(problem([...at, "node"], `no compose service runs on ${quote(deploy.node)}, so the job would start nothing there`, "deploy to a node whose roles match the services' roles"));
  }
  if (swarm && node !== undefined && node.manager !== true) {
    problems.push(problem([...at, "node"], `${quote(deploy.node)} is not a swarm manager, and only a manager can run docker stack deploy`, "deploy to a node with `manager: true`"));
  }
  if (builtImageServices(d).length > 0 && d.registry === undefined) {
    problems.push(
      problem(
        at,
        "the node would have to pull images that are pushed nowhere it can name: no `registry` is declared",
        "declare `registry` (for GitHub: host ghcr.io, namespace your user or organisation)",
      ),
    );
  }
  if (deploy.environmentFile !== undefined && d.environments?.[deploy.environmentFile] === undefined) {
    const known = Object.keys(d.environments ?? {});
    problems.push(
      problem(
        [...at, "environmentFile"],
        `names no environment: ${quote(deploy.environmentFile)} is not under environments`,
        known.length === 0 ? "remove it: without environments there is one env file" : `use one of: ${known.join(", ")}`,
      ),
    );
  }
  return problems;
}

export function checkGithub(d: Descriptor): RuleProblem[] {
  return [...checkImages(d), ...checkDeploy(d)];
}
