// Building blocks of the generated workflows, as plain objects for the yaml library.
// Expressions (`${{ … }}`) are plain strings: the yaml library writes them as they are.
// Values from outside the descriptor reach a `run:` script only through `env:`, so a
// script never has an expression spliced into its text.
import { Scalar } from "yaml";
import { ACTION_PINS, type PinnedAction, usesReference } from "./pins.js";

export type Step = Record<string, unknown>;

/** Pushes and tag builds publish; pull requests only build. */
export const NOT_PULL_REQUEST = "github.event_name != 'pull_request'";

/** The runner every job uses. */
export const RUNNER = "ubuntu-latest";

/** `owner/repo@<commit> # vX.Y.Z`: the comment rides on the scalar so it stays on the same line. */
export function pinnedUses(action: PinnedAction): Scalar {
  const node = new Scalar(usesReference(action));
  node.comment = ` ${ACTION_PINS[action].version}`;
  return node;
}

export interface StepOptions {
  id?: string;
  if?: string;
  with?: Record<string, string | number | boolean>;
  env?: Record<string, string>;
}

function withOptions(step: Step, options: StepOptions): Step {
  const out: Step = { name: step["name"] };
  if (options.id !== undefined) out["id"] = options.id;
  if (options.if !== undefined) out["if"] = options.if;
  for (const [key, value] of Object.entries(step)) if (key !== "name") out[key] = value;
  if (options.with !== undefined && Object.keys(options.with).length > 0) out["with"] = options.with;
  if (options.env !== undefined && Object.keys(options.env).length > 0) out["env"] = options.env;
  return out;
}

/** A step running a pinned action. */
export function actionStep(name: string, action: PinnedAction, options: StepOptions = {}): Step {
  return withOptions({ name, uses: pinnedUses(action) }, options);
}

/**
 * GitHub evaluates `${{` anywhere in a workflow, scripts included, before any shell sees
 * them; no escape character exists, but an expression can produce the two characters
 * itself. Text from the descriptor passes through here so it stays the text it was.
 */
export function literal(text: string): string {
  return text.replace(/\$\{\{/g, () => "${{ '${{' }}");
}

/** A step running a bash script; `env` is where every outside value comes in. */
export function runStep(name: string, script: string | string[], options: Omit<StepOptions, "with"> = {}): Step {
  // Our scripts hold no expression of their own, so all of the text can be made literal.
  const text = literal(Array.isArray(script) ? `${script.join("\n")}\n` : script);
  const step = withOptions({ name }, options);
  // `run:` last, after `env:`, so a reader sees where the variables come from first.
  step["run"] = text;
  return step;
}

/**
 * Checkout without leaving the token in .git/config: nothing later in the job needs git
 * credentials, and a build step (or a compromised dependency) must not find them there.
 */
export function checkoutStep(fetchDepth?: number): Step {
  const options: Record<string, string | number | boolean> = { "persist-credentials": false };
  if (fetchDepth !== undefined) options["fetch-depth"] = fetchDepth;
  return actionStep("Check out the repository", "actions/checkout", { with: options });
}

/** An expression, written exactly as GitHub reads it. */
export function expr(body: string): string {
  return `\${{ ${body} }}`;
}
