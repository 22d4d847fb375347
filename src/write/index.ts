// The write stage: plan what generate would change (pure), read and write the output
// folder (the only IO the pipeline has on its output side).
export { applyChanges, type AppliedChange, type ApplyOptions, type ApplyResult, type WriteOps } from "./apply.js";
export { WriteError } from "./errors.js";
export {
  buildManifest,
  hashBytes,
  type Manifest,
  type ManifestEntry,
  parseManifest,
  serializeManifest,
} from "./manifest.js";
export { checkOutputPath, MANIFEST_PATH } from "./paths.js";
export {
  blockedChanges,
  type ChangeAction,
  type ChangePlan,
  type CurrentState,
  effectOf,
  formatChangeLine,
  formatPlan,
  labelOf,
  planChanges,
  type PlannedChange,
} from "./plan.js";
export { type DiskState, readCurrentState, readManifest } from "./read.js";
export {
  createInspector,
  inspectTarget,
  isInside,
  type OutputRoot,
  resolveOutputRoot,
  type TargetState,
} from "./safety.js";
