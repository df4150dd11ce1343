/**
 * The one place that maps errors to exit codes and what the user sees.
 * A user mistake prints one line (and a hint), never a stack trace; an unexpected error
 * prints a short message and where to report it (the stack only with WHETSTONE_DEBUG=1).
 */
import { ExitCode, InputError, WhetstoneError } from '../errors.js';
import type { Output } from './output.js';

/** A command called without what it needs: the message, then the command's usage line. Exit code 2. */
export class UsageError extends InputError {
  constructor(
    message: string,
    /** e.g. "whetstone train [options] [config]". */
    readonly usage: string,
  ) {
    super(message);
  }
}

export const REPORT_BUGS = 'This is a bug in whetstone: please report it with the command you ran (set WHETSTONE_DEBUG=1 for details).';

export function exitCodeFor(error: unknown, out: Output): number {
  if (error instanceof WhetstoneError) {
    for (const line of error.message.split('\n')) out.error(line);
    if (error instanceof UsageError) out.info(`usage: ${error.usage}`);
    if (error.hint !== undefined) out.info(`${out.color.dim('hint:')} ${error.hint}`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  out.error(`unexpected failure: ${message.split('\n')[0]}`);
  if (out.io.env.WHETSTONE_DEBUG === '1' && error instanceof Error && error.stack) out.info(error.stack);
  else out.info(REPORT_BUGS);
  return ExitCode.failure;
}
