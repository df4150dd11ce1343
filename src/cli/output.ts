/**
 * Output policy, in one place: results go to stdout, progress and diagnostics to stderr.
 * Colour and live redraws (spinners, progress bars) only on an interactive terminal: with `CI`
 * set, `NO_COLOR` set, or stderr not a TTY, progress is one plain line per event.
 * `FORCE_COLOR` turns colour on even when piped (as chalk and most tools honour).
 */
import { Chalk, type ChalkInstance } from 'chalk';
import ora, { type Ora } from 'ora';

/** A writable text sink: process.stdout/stderr, or a buffer in tests. */
export interface TextSink {
  write(chunk: string): unknown;
  isTTY?: boolean;
  /** Terminal width; a pseudo-terminal without a size reports 0. */
  columns?: number;
}

export interface CliIO {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** A live status line: a spinner on a TTY, otherwise plain lines at start and end. */
export interface Status {
  update(text: string): void;
  succeed(text: string): void;
  fail(text: string): void;
}

export class Output {
  /** Redraws allowed: stderr is a TTY and neither CI nor NO_COLOR-style plain mode applies. */
  readonly interactive: boolean;
  readonly color: ChalkInstance;

  constructor(readonly io: CliIO) {
    const env = io.env;
    const isCI = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
    const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
    const forceColor = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
    // A terminal without a size (some pseudo-terminals) cannot be redrawn safely: spinners there
    // miscount lines and flood the output, so it gets plain lines too.
    this.interactive = io.stderr.isTTY === true && (io.stderr.columns ?? 0) > 0 && !isCI && !noColor;
    const colorLevel = forceColor ? 1 : this.interactive ? 1 : 0;
    this.color = new Chalk({ level: noColor && !forceColor ? 0 : colorLevel });
  }

  /** A result: stdout, exactly as given, plus a newline. */
  result(text: string): void {
    this.io.stdout.write(`${text}\n`);
  }

  /** Progress or information for the human: stderr. */
  info(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  warn(text: string): void {
    this.io.stderr.write(`${this.color.yellow('warning')} ${text}\n`);
  }

  error(text: string): void {
    this.io.stderr.write(`${this.color.red('error')} ${text}\n`);
  }

  /** A spinner on a TTY; elsewhere one line when it starts and one when it ends. */
  status(text: string): Status {
    if (!this.interactive) {
      this.info(text);
      // The start line says it all; no second line for success, an error line is printed by the caller.
      return { update: () => {}, succeed: () => {}, fail: () => {} };
    }
    // discardStdin would put stdin in raw mode and can keep the process alive after the spinner stops.
    const spinner: Ora = ora({ text, stream: this.io.stderr as NodeJS.WritableStream, isEnabled: true, discardStdin: false }).start();
    return {
      update: (t) => {
        spinner.text = t;
      },
      succeed: (t) => {
        spinner.succeed(t);
      },
      fail: (t) => {
        spinner.fail(t);
      },
    };
  }
}
