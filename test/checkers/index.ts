// Every ecosystem checker the tests use on generated files.
export { type CheckResult } from "./result.js";
export { expectClean } from "./expect.js";
export { verifyUnit, scoreUnitSecurity, findExecPaths, MAX_EXPOSURE, type SecurityResult, type VerifyOptions } from "./systemd.js";
export { checkBashSyntax, checkShellcheck } from "./shell.js";
export { checkDockerfile, looksSecret, type DockerfileOptions } from "./dockerfile.js";
export { checkCompose, checkComposeMerge, checkComposeModel, mergeComposeFiles, parseCompose, ComposeTagged } from "./compose.js";
export { checkSwarmStack, type StackOptions } from "./swarm-stack.js";
export { checkWorkflow, checkWorkflowSchema, lintWorkflow } from "./workflow.js";
export { checkNftables } from "./nftables.js";
export { checkEnvRoundTrip } from "./env.js";
export { checkPrettierClean } from "./prettier.js";
