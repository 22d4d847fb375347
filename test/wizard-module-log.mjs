// Loaded with `node --import`: records the URL of every module the process resolves, one per
// line, in the file named by CREATE_DEPLOY_MODULE_LOG. Tests read it to see which modules a
// command really loads.
import { register } from "node:module";

const hooks = `
import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (process.env.CREATE_DEPLOY_MODULE_LOG) appendFileSync(process.env.CREATE_DEPLOY_MODULE_LOG, result.url + "\\n");
  return result;
}
`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
