// Tests import the generated modules directly, so they are always rebuilt from the
// current templates and schema before a run.
// @ts-expect-error -- plain JavaScript build script without type declarations
import { runCodegen } from "../../scripts/codegen.mjs";

export default function setup(): void {
  runCodegen();
}
