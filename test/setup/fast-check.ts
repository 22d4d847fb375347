// Property tests draw new cases on every run, which is how they find bugs. CI instead
// runs them with one seed, so that a red run can be repeated exactly and a landing does
// not depend on the draw; FC_SEED=<n> picks a seed anywhere (fast-check prints the seed
// of any failure).
import fc from "fast-check";

const chosen = process.env["FC_SEED"] ?? (process.env["CI"] === "true" ? "20261122" : undefined);
if (chosen !== undefined) fc.configureGlobal({ seed: Number(chosen) });
