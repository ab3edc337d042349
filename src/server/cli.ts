#!/usr/bin/env node
import { runCli } from './run-cli.js';

/** `omnipersona-server`: see `runCli` for the flags. */
const run = await runCli(process.argv.slice(2));
await run.stopped;
process.exitCode = run.exitCode;
