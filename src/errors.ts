/**
 * Typed errors. Exactly one place (src/cli/exit.ts) maps them to exit codes and messages:
 * - `InputError`  — the user's input is wrong (bad config, bad file, bad flag): exit 2, one line.
 * - `RuntimeFailure` — the job ran but failed (e.g. sharpening did not finish): exit 1.
 * Anything else is a bug: exit 1 with a short message and where to report it.
 */
export class WhetstoneError extends Error {
  constructor(
    message: string,
    /** Process exit code this error maps to. */
    readonly exitCode: number,
    /** Optional one-line hint printed after the message. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A mistake in what the user gave us: a file, a config value, a flag. Exit code 2. */
export class InputError extends WhetstoneError {
  constructor(message: string, hint?: string) {
    super(message, 2, hint);
  }
}

/** The job ran but did not succeed. Exit code 1. */
export class RuntimeFailure extends WhetstoneError {
  constructor(message: string, hint?: string) {
    super(message, 1, hint);
  }
}

/** Exit codes, documented in docs/cli.md. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** A `--assert` gate did not hold. */
  gate: 3,
  interrupted: 130,
} as const;

/** The user interrupted (Ctrl-C). Exit code 130, as shells report SIGINT. */
export class InterruptedError extends WhetstoneError {
  constructor(message: string, hint?: string) {
    super(message, 130, hint);
  }
}
