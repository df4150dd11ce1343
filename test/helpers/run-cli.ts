/** `whetstone` from the sources, for tests that need a real child process (run with vite-node). */
import { runMain } from '../../src/cli/main.js';

process.exitCode = await runMain(process.argv.slice(2));
