import type { CliIO, Output } from './output.js';

/** What every command receives besides its own parsed options. */
export interface CommandContext {
  readonly out: Output;
  readonly io: CliIO;
  /** Directory that relative paths on the command line are resolved against. */
  readonly cwd: string;
  /** The command's usage line, e.g. "whetstone train [options] [config]", for errors that need it. */
  readonly usage: string;
}
