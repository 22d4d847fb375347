#!/usr/bin/env node
import module from "node:module";

// Node 22 and later keep V8's compiled code between runs, so a cold start skips most of
// the parsing and compiling; Node 20 has no such call. The CLI is imported after it, so
// its own code is cached too.
module.enableCompileCache?.();
await import("../dist/cli.js");
