// Env files: what dotenv reads back must be exactly what the generator meant to write.
import { parse } from "dotenv";
import { type CheckResult } from "./result.js";

export async function checkEnvRoundTrip(content: string, expected: Record<string, string>): Promise<CheckResult> {
  const tool = "dotenv";
  const parsed = parse(content);
  const findings: string[] = [];
  for (const [key, value] of Object.entries(expected)) {
    if (!(key in parsed)) findings.push(`${key}: missing after parsing`);
    else if (parsed[key] !== value) findings.push(`${key}: reads back as ${JSON.stringify(parsed[key])}, expected ${JSON.stringify(value)}`);
  }
  for (const key of Object.keys(parsed)) {
    if (!(key in expected)) findings.push(`${key}: parsed but not expected`);
  }
  return { tool, findings };
}
