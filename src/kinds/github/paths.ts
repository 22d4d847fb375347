// Where the workflows are written. GitHub reads workflows only from .github/workflows/ at
// the repository's root, so deploy.yaml and its output folder belong there too.
import type { Descriptor } from "../../model/descriptor.js";
import { builtImageServices } from "./images.js";

export const IMAGE_WORKFLOW_PATH = ".github/workflows/images.yaml";
export const DEPLOY_WORKFLOW_PATH = ".github/workflows/deploy.yaml";
export const DRIFT_WORKFLOW_PATH = ".github/workflows/deploy-files.yaml";

/** The build-and-deploy workflow: named for images when it builds any, else for the deploy. */
export function mainWorkflowPath(d: Descriptor): string {
  return builtImageServices(d).length > 0 ? IMAGE_WORKFLOW_PATH : DEPLOY_WORKFLOW_PATH;
}
