#!/usr/bin/env node
// The fti command: runs the compiled CLI (npx tsc -b cli, or make build).
import { main } from "../dist/index.js";

process.exitCode = await main(process.argv.slice(2));
