// Adversarial descriptors and the problem each must produce. Shared by the
// validation suite (test/bad-input.test.ts) and the command-line suite, which
// writes `yaml` to deploy.yaml, expects exit 1 and an untouched output folder,
// and looks for `deploy.yaml:<line>:<col> <field>: …<messageIncludes>…`.

export interface BadInputCase {
  name: string;
  /** The whole file, written as UTF-8. */
  yaml: string;
  /** The dotted path printed before the message; "(root)" for the file as a whole. */
  field: string;
  /** The line printed with that problem. */
  line?: number;
  messageIncludes?: string;
}

/** One line per argument, so line numbers can be read off the case. */
function lines(...text: string[]): string {
  return text.join("\n") + "\n";
}

// Lines 1–4 of most cases: a valid descriptor to break.
const HEAD = ["name: shop", "services:", "  web:", "    image: nginx:1.27"] as const;

const IDENTIFIER_RULE = "ASCII lowercase letters, digits and '-'";

export const badInputCases: BadInputCase[] = [
  // --- names and paths that could leave the output folder or break a command
  {
    name: "path traversal in a service name",
    yaml: lines("name: shop", "services:", "  ../../etc:", "    image: nginx:1.27"),
    field: 'services["../../etc"]',
    line: 3,
    messageIncludes: IDENTIFIER_RULE,
  },
  {
    name: "path traversal in the runbook path",
    yaml: lines(...HEAD, "targets:", "  docs:", "    file: ../../etc/passwd"),
    field: "targets.docs.file",
    line: 7,
    messageIncludes: "without a .. segment",
  },
  {
    name: "absolute env folder",
    yaml: lines(...HEAD, "targets:", "  env:", "    dir: /etc/cron.d"),
    field: "targets.env.dir",
    line: 7,
    messageIncludes: "relative path",
  },
  {
    name: "path traversal in a mount target",
    yaml: lines(...HEAD, "    mounts:", "      - hostPath: /srv/data", "        target: /data/../../etc"),
    field: "services.web.mounts[0].target",
    line: 7,
    messageIncludes: "without a .. segment",
  },
  {
    name: "path traversal in a secret file name",
    yaml: lines(...HEAD, "    secrets:", "      - source: key", "        target: ../../etc/shadow", "secrets:", "  key: {}"),
    field: "services.web.secrets[0].target",
    line: 7,
  },
  {
    name: "shell metacharacters in a project name",
    yaml: lines("name: shop;rm -rf ~", "services:", "  web:", "    image: nginx:1.27"),
    field: "name",
    line: 1,
    messageIncludes: IDENTIFIER_RULE,
  },
  // --- characters that would start a new line or hide text in generated files
  {
    name: "newline in an environment value",
    yaml: lines(...HEAD, "    environment:", '      LOG_LEVEL: "info\\nExecStartPre=/bin/sh -c evil"'),
    field: "services.web.environment.LOG_LEVEL",
    line: 6,
    messageIncludes: "U+000A line feed",
  },
  {
    name: "NUL in a description",
    yaml: lines(...HEAD, '    description: "web\\0server"'),
    field: "services.web.description",
    line: 5,
    messageIncludes: "U+0000 NUL",
  },
  {
    name: "carriage return in an image",
    yaml: lines("name: shop", "services:", "  web:", '    image: "nginx:1.27\\r"'),
    field: "services.web.image",
    line: 4,
    messageIncludes: "U+000D carriage return",
  },
  {
    name: "terminal escape in a command argument",
    yaml: lines(...HEAD, '    command: [nginx, "\\e[31m-g"]'),
    field: "services.web.command[1]",
    line: 5,
    messageIncludes: "U+001B escape",
  },
  {
    name: "tab inside an environment key",
    yaml: lines(...HEAD, "    environment:", '      "LOG\\tLEVEL": info'),
    field: 'services.web.environment["LOG\\tLEVEL"]',
    line: 6,
    messageIncludes: "the key contains U+0009 tab",
  },
  {
    name: "right-to-left override in a description",
    yaml: lines(...HEAD, '    description: "admin \\u202Etxt.exe"'),
    field: "services.web.description",
    line: 5,
    messageIncludes: "invisible text-direction mark",
  },
  {
    name: "block scalar keeps a final newline",
    yaml: lines(...HEAD, "    description: |", "      The web front end"),
    field: "services.web.description",
    line: 5,
    messageIncludes: "U+000A line feed",
  },
  // --- look-alike names
  {
    name: "Cyrillic letter in a service name",
    yaml: lines("name: shop", "services:", "  \u0430pi:", "    image: nginx:1.27"),
    field: 'services["\\u0430pi"]',
    line: 3,
    messageIncludes: IDENTIFIER_RULE,
  },
  {
    name: "Cyrillic letter in a dependency",
    yaml: lines(...HEAD, "  db:", "    image: postgres:16.4", "    dependsOn: [w\u0435b]"),
    field: "services.db.dependsOn[0]",
    line: 7,
    messageIncludes: IDENTIFIER_RULE,
  },
  {
    name: "upper-case service name",
    yaml: lines("name: shop", "services:", "  Web:", "    image: nginx:1.27"),
    field: "services.Web",
    line: 3,
    messageIncludes: IDENTIFIER_RULE,
  },
  {
    name: "lower-case environment variable",
    yaml: lines(...HEAD, "    environment:", "      log_level: info"),
    field: "services.web.environment.log_level",
    line: 6,
    messageIncludes: "ASCII uppercase letters, digits and '_'",
  },
  // --- YAML that is ambiguous, expensive or not plain data
  {
    name: "duplicate service",
    yaml: lines(...HEAD, "  web:", "    image: httpd:2.4"),
    field: "services.web",
    line: 5,
    messageIncludes: 'duplicate key "web" (first defined on line 3)',
  },
  {
    name: "duplicate field in a port",
    yaml: lines(...HEAD, "    ports:", "      - port: 8080", "        port: 9090"),
    field: "services.web.ports[0].port",
    line: 7,
    messageIncludes: 'duplicate key "port"',
  },
  {
    name: "alias bomb",
    yaml: lines(
      "name: shop",
      "x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]",
      "x-b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]",
      "x-c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]",
      "x-d: [*c, *c, *c, *c, *c, *c, *c, *c, *c]",
      "services:",
      "  web:",
      "    image: nginx:1.27",
    ),
    field: "x-c[7]",
    line: 4,
    messageIncludes: "at most 16 are allowed",
  },
  {
    name: "merge key",
    yaml: lines(...HEAD, "    environment: &env", "      LOG_LEVEL: info", "  worker:", "    <<: {image: nginx:1.27}"),
    field: 'services.worker["<<"]',
    line: 8,
    messageIncludes: "merge keys (<<) are not part of YAML 1.2",
  },
  {
    name: "binary tag",
    yaml: lines(...HEAD, "    description: !!binary aGVsbG8="),
    field: "services.web.description",
    line: 5,
    messageIncludes: 'uses the tag "!!binary"',
  },
  {
    name: "custom tag",
    yaml: lines(...HEAD, "    image: !include image.txt"),
    field: "services.web.image",
    line: 5,
    messageIncludes: 'uses the tag "!include"',
  },
  {
    name: "two documents",
    yaml: lines(...HEAD, "---", "name: other"),
    field: "(root)",
    line: 5,
    messageIncludes: "more than one YAML document",
  },
  {
    name: "byte order mark",
    yaml: "\uFEFF" + lines(...HEAD),
    field: "(root)",
    line: 1,
    messageIncludes: "byte order mark",
  },
  {
    name: "NUL byte in the file",
    yaml: lines(...HEAD, "    description: web\u0000server"),
    field: "(root)",
    line: 5,
    messageIncludes: "NUL byte",
  },
  {
    name: "file over 1 MiB",
    yaml: lines(...HEAD, "# " + "x".repeat(2 * 1024 * 1024)),
    field: "(root)",
    line: 1,
    messageIncludes: "at most 1048576 bytes",
  },
  {
    name: "__proto__ key",
    yaml: lines(...HEAD, "    __proto__:", "      privileged: true"),
    field: "services.web.__proto__",
    line: 5,
    messageIncludes: 'the key "__proto__" is not allowed',
  },
  {
    name: "constructor key",
    yaml: lines("constructor: {prototype: {}}", ...HEAD.slice(1)),
    field: "constructor",
    line: 1,
    messageIncludes: 'the key "constructor" is not allowed',
  },
  {
    name: "infinite number",
    yaml: lines(...HEAD, "    replicas: .inf"),
    field: "services.web.replicas",
    line: 5,
    messageIncludes: "finite number",
  },
  {
    name: "tab indentation",
    yaml: lines(...HEAD, "    ports:", "\t- port: 80"),
    field: "services.web.ports",
    line: 6,
    messageIncludes: "tabs are not allowed as indentation",
  },
  // --- wrong types and values
  {
    name: "ports as a map",
    yaml: lines(...HEAD, "    ports:", "      port: 8080"),
    field: "services.web.ports",
    line: 5,
    messageIncludes: "must be a list (found a map)",
  },
  {
    name: "quoted number",
    yaml: lines(...HEAD, '    replicas: "2"'),
    field: "services.web.replicas",
    line: 5,
    messageIncludes: "must be an integer",
  },
  {
    name: "YAML 1.1 boolean yes",
    yaml: lines(...HEAD, "    readOnly: yes"),
    field: "services.web.readOnly",
    line: 5,
    messageIncludes: "YAML 1.2 reads yes/no as strings: write true or false",
  },
  {
    name: "YAML 1.1 boolean off",
    yaml: lines(...HEAD, "    privileged: off"),
    field: "services.web.privileged",
    line: 5,
    messageIncludes: "YAML 1.2 reads yes/no as strings",
  },
  {
    name: "unquoted version 3.10",
    yaml: lines("name: shop", "services:", "  web:", "    build:", "      runtime: python", "      version: 3.10", "      command: [python, app.py]"),
    field: "services.web.build.version",
    line: 6,
    messageIncludes: 'write "3.10" in quotes',
  },
  {
    name: "octal-looking secret mode",
    yaml: lines(...HEAD, "    secrets:", "      - source: key", "        mode: 0400", "secrets:", "  key: {}"),
    field: "services.web.secrets[0].mode",
    line: 7,
    messageIncludes: "write 0o400 for octal",
  },
  {
    name: "port out of range",
    yaml: lines(...HEAD, "    ports:", "      - port: 70000"),
    field: "services.web.ports[0].port",
    line: 6,
    messageIncludes: "must be <= 65535",
  },
  {
    name: "port zero",
    yaml: lines(...HEAD, "    ports:", "      - port: 0"),
    field: "services.web.ports[0].port",
    line: 6,
    messageIncludes: "must be >= 1",
  },
  {
    name: "unknown protocol",
    yaml: lines(...HEAD, "    ports:", "      - port: 5060", "        protocol: sctp"),
    field: "services.web.ports[0].protocol",
    line: 7,
    messageIncludes: 'must be one of "tcp", "udp"',
  },
  {
    name: "unknown field with a likely typo",
    yaml: lines(...HEAD, "    prots:", "      - port: 8080"),
    field: "services.web.prots",
    line: 5,
    messageIncludes: 'unknown field "prots" (did you mean "ports"?)',
  },
  {
    name: "image and build together",
    yaml: lines(...HEAD, "    build: {runtime: python, command: [python, app.py]}"),
    field: "services.web.build",
    line: 5,
    messageIncludes: "use image or build, not both",
  },
  {
    name: "empty file",
    yaml: "",
    field: "(root)",
    line: 1,
    messageIncludes: "must be a map",
  },
  // --- references across the file
  {
    name: "unknown dependency",
    yaml: lines(...HEAD, "    dependsOn: [dbb]", "  db:", "    image: postgres:16.4"),
    field: "services.web.dependsOn[0]",
    line: 5,
    messageIncludes: 'depends on "dbb", which is not a service (did you mean "db"?)',
  },
  {
    name: "dependency cycle",
    yaml: lines(...HEAD, "    dependsOn: [db]", "  db:", "    image: postgres:16.4", "    dependsOn: [web]"),
    field: "services.db.dependsOn[0]",
    line: 8,
    messageIncludes: "dependency cycle: web → db → web",
  },
  {
    name: "undeclared secret",
    yaml: lines(...HEAD, "    secrets: [db-pasword]", "secrets:", "  db-password: {}"),
    field: "services.web.secrets[0]",
    line: 5,
    messageIncludes: 'secret "db-pasword" is not declared under secrets (did you mean "db-password"?)',
  },
  {
    name: "unknown volume",
    yaml: lines(...HEAD, "    mounts:", "      - volume: static", "        target: /static"),
    field: "services.web.mounts[0].volume",
    line: 6,
    messageIncludes: 'volume "static" is not declared under volumes',
  },
  {
    name: "port published twice",
    yaml: lines(
      ...HEAD,
      "    ports:",
      "      - port: 8080",
      "        exposure: public",
      "  api:",
      "    image: nginx:1.27",
      "    ports:",
      "      - port: 8080",
      "        exposure: public",
    ),
    field: "services.api.ports[0]",
    line: 11,
    messageIncludes: "publishes 8080/tcp on 0.0.0.0, which services.web.ports[0] already publishes",
  },
  {
    name: "hostOf a service without ports",
    yaml: lines(...HEAD, "    environment:", "      DB_HOST: {hostOf: db}", "  db:", "    image: postgres:16.4"),
    field: "services.web.environment.DB_HOST.hostOf",
    line: 6,
    messageIncludes: "services.db has no ports",
  },
  {
    name: "environment value no service reads",
    yaml: lines(...HEAD, "    environment:", "      LOG_LEVEL: info", "environments:", "  prod:", "    values:", "      LOG_LEVL: debug"),
    field: "environments.prod.values.LOG_LEVL",
    line: 10,
    messageIncludes: 'no service reads LOG_LEVL (did you mean "LOG_LEVEL"?)',
  },
  {
    name: "gpu on swarm",
    yaml: lines(...HEAD, "    gpu: {count: 1}", "networks:", "  overlay: {}", "targets:", "  swarm:", "    network: overlay"),
    field: "services.web.gpu",
    line: 5,
    messageIncludes: "swarm does not support GPU device reservations; run this service on a compose node or drop gpu",
  },
  {
    name: "systemd service without a systemd target",
    yaml: lines("name: shop", "services:", "  web:", "    platform: systemd", "    build: {runtime: python, command: [python, app.py]}"),
    field: "services.web.platform",
    line: 4,
    messageIncludes: "targets.systemd is missing",
  },
];
