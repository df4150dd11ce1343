import { runMain } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured, non-TTY output (as in CI: plain lines, no colour). */
export async function cli(argv: string[], env: Record<string, string | undefined> = {}, cwd?: string): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runMain(
    argv,
    {
      stdout: { write: (s: string) => (stdout += s), isTTY: false },
      stderr: { write: (s: string) => (stderr += s), isTTY: false },
      env: { CI: 'true', ...env },
    },
    cwd,
  );
  return { code, stdout, stderr };
}
