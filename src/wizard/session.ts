// One run of a generator: where it works, how it prints, what was decided before the
// questions (flags, a preset), and what came of it. The plopfile receives it from
// create-deploy, or makes one when plop itself runs the generators.
import type { Io } from "../commands/common.js";
import { detectProject, type Project } from "./detect.js";
import { schemaReference } from "./descriptor-text.js";
import type { Preset } from "./presets.js";
import type { RawAnswers } from "./questions.js";
import type { ServiceKind } from "./add-service.js";

export interface WizardSession {
  /** The repository: where deploy.yaml is (or goes) and the files are generated. */
  dir: string;
  /** The folder paths are shown relative to. */
  cwd: string;
  io: Io;
  env: NodeJS.ProcessEnv;
  project: Project;
  schemaReference: string;
  preset?: Preset;
  /** Answers given before the questions (flags); their questions are not asked. */
  given: RawAnswers;
  /** add service: the kind chosen before the questions. */
  serviceKind?: ServiceKind;
  /** The exit code the run ends with; set by the actions. */
  exitCode: number;
}

export function createSession(options: {
  dir: string;
  cwd?: string;
  io?: Io;
  env?: NodeJS.ProcessEnv;
  preset?: Preset;
  given?: RawAnswers;
  serviceKind?: ServiceKind;
}): WizardSession {
  return {
    dir: options.dir,
    cwd: options.cwd ?? options.dir,
    io: options.io ?? consoleIo,
    env: options.env ?? {},
    project: detectProject(options.dir),
    schemaReference: schemaReference(options.dir),
    ...(options.preset === undefined ? {} : { preset: options.preset }),
    given: options.given ?? {},
    ...(options.serviceKind === undefined ? {} : { serviceKind: options.serviceKind }),
    exitCode: 0,
  };
}

/** Plain output for plop's own command line, which gives the generators no printer. */
const consoleIo: Io = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};
