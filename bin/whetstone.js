#!/usr/bin/env node
// Thin launcher: all behaviour lives in the compiled library (built by `npm install` via `prepare`).
import { runMain } from '../dist/cli/main.js';

const code = await runMain(process.argv.slice(2));
process.exitCode = code;
