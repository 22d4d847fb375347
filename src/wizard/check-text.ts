// A descriptor's text checked in memory, before anything is written: the same load and
// validation `generate` runs on the file.
import { kinds } from "../kinds/index.js";
import { parseDescriptor } from "../load.js";
import type { Descriptor } from "../model/descriptor.js";
import type { Problem } from "../problems.js";
import { validateDescriptor } from "../validate/index.js";

export type TextCheck = { ok: true; descriptor: Descriptor } | { ok: false; problems: Problem[] };

export function checkDescriptorText(text: string, file = "deploy.yaml"): TextCheck {
  const parsed = parseDescriptor(text, file);
  const result = validateDescriptor(parsed, file, kinds);
  if (result.problems.length > 0 || result.descriptor === undefined) return { ok: false, problems: result.problems };
  return { ok: true, descriptor: result.descriptor };
}
