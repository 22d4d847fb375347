// YAML 1.2 parsing for checkers: duplicate keys and every parser complaint are findings.
import { type DocumentOptions, type ParseOptions, type SchemaOptions, parseDocument } from "yaml";

export interface ParsedYaml {
  data: unknown;
  findings: string[];
}

export function parseYamlStrictly(content: string, options: ParseOptions & DocumentOptions & SchemaOptions = {}): ParsedYaml {
  const document = parseDocument(content, { version: "1.2", uniqueKeys: true, prettyErrors: true, ...options });
  // The first line of a yaml error names the problem and its position; the rest is a source excerpt.
  const findings = [...document.errors, ...document.warnings].map((problem) => problem.message.split("\n")[0] ?? problem.message);
  return { data: findings.length === 0 ? document.toJS({ maxAliasCount: 100 }) : undefined, findings };
}
