import { runEvalCli } from './run-eval-cli.js';

/** `npm run eval`: see `runEvalCli` for the flags. */
process.exitCode = await runEvalCli(process.argv.slice(2));
