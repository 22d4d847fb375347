// The generators of create-deploy, for plop: `init` writes deploy.yaml from a few questions
// and generates the deployment files; `add service` adds a database, cache, worker or web
// service to an existing deploy.yaml, keeping its comments and order, and regenerates.
//
// create-deploy runs them itself (`create-deploy init`, `create-deploy add`) and passes its
// own modules in the config. Run by plop directly, they load the built package:
//   npx plop --plopfile node_modules/create-deploy/generators/plopfile.js init
//
// Plain JavaScript, so it runs without a build step of its own.
import { createRequire } from "node:module";

/**
 * @param {import("node-plop").NodePlopAPI} plop
 * @param {{ wizard?: any, session?: any }} [config]
 */
export default async function createDeployGenerators(plop, config = {}) {
  const wizard = config.wizard ?? (await createRequire(import.meta.url)("../dist/cli.cjs").loadWizardApi());
  const session = config.session ?? wizard.createSession({ dir: plop.getDestBasePath(), cwd: process.cwd() });

  plop.setActionType("write deploy.yaml", (answers) => wizard.writeInitDescriptor(answers, session));
  plop.setActionType("generate", () => wizard.generateFiles(session));
  plop.setActionType("add the service to deploy.yaml", (answers) => wizard.addServiceToDescriptor(answers, session));

  const declined = (answers) => (answers[wizard.INIT_CONFIRM] === false ? "nothing written" : false);

  plop.setGenerator("init", {
    description: "Write deploy.yaml from a few questions, then generate the deployment files",
    prompts: wizard.initPrompts(session),
    actions: [
      { type: "write deploy.yaml", abortOnFail: true },
      { type: "generate", abortOnFail: true, skip: declined },
    ],
  });

  plop.setGenerator("add service", {
    description: "Add a database, cache, worker or web service to deploy.yaml, then regenerate",
    prompts: wizard.addServicePrompts(session, await wizard.readServices(session).catch(() => ({}))),
    actions: [
      { type: "add the service to deploy.yaml", abortOnFail: true },
      { type: "generate", abortOnFail: true },
    ],
  });
}
