#!/usr/bin/env node
// Runs the command line through V8's code cache: see src/start.ts.
import { start } from "../dist/start.js";

await start();
