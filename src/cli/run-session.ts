/**
 * What `train` and `sharpen` show while a run trains, in one place: Ctrl-C turned into an abort
 * (the loop stops after the batch and the last epoch stays checkpointed), the live bar on a TTY
 * and one line per epoch everywhere, a spinner for the phases between epochs, and the report
 * rendered once the run directory is complete (a failure there is a warning, never an error).
 */
import type { StartInfo, TrainEvents } from '../train/index.js';
import { int } from '../util/format.js';
import { oneLine } from '../util/fs-errors.js';
import type { Output, Status } from './output.js';
import { epochLine, ProgressBar } from './progress.js';

/**
 * Renders the run's report after training. A report that cannot be written must not cost the trained
 * run: it is a warning on stderr with the command to retry, never an error. Returns report.html's path.
 */
export async function reportAfterTraining(runDir: string, out: Output): Promise<string | null> {
  try {
    const { writeReport } = await import('../report/index.js');
    return (await writeReport(runDir)).html;
  } catch (e) {
    out.warn(`the report was not written (${oneLine(e)}); the run itself is complete. Retry with: whetstone report ${runDir}`);
    return null;
  }
}

export class RunSession {
  readonly controller = new AbortController();
  /** report.html once it is written. */
  reportPath: string | null = null;
  private readonly bar: ProgressBar;
  private status: Status | undefined;
  private lastPhase = '';
  private readonly onSigint = () => {
    this.out.info('\ninterrupt: stopping after this batch (the last completed epoch is checkpointed)');
    this.controller.abort();
  };

  /** `verb` starts the line that announces the run: "training", "sharpening". */
  constructor(
    private readonly out: Output,
    private readonly verb: string,
  ) {
    this.bar = new ProgressBar(out);
    process.once('SIGINT', this.onSigint);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The events to hand to trainExperiment / sharpenModel; `extra` adds command-specific ones. */
  events<E extends TrainEvents>(extra: Omit<E, keyof TrainEvents> = {} as Omit<E, keyof TrainEvents>): E {
    const { out } = this;
    const events: TrainEvents = {
      onBackend: (info) => out.info(`backend: ${info.name}${info.fallbackReason ? ` (${info.fallbackReason})` : ''}`),
      onStart: (s: StartInfo) => {
        this.endStatus();
        const what =
          s.branchedFrom !== undefined
            ? `branching from ${s.branchedFrom} at epoch ${s.resumedFromEpoch + 1}:`
            : s.resumedFromEpoch > 0
              ? `resuming at epoch ${s.resumedFromEpoch + 1}`
              : this.verb;
        out.info(
          `${what} ${s.config.name}: ${int(s.trainCount)} train / ${int(s.validationCount)} validation / ${int(s.testCount)} test images, ${int(s.parameters)} parameters, ${s.spikingLayers} spiking layers, up to ${s.config.training.epochs} epochs`,
        );
        out.info(`run directory: ${s.runDir}`);
      },
      onBatch: (p) => {
        this.endStatus();
        this.bar.update(p);
      },
      onEpoch: (m) => {
        this.bar.clear();
        out.info(epochLine(m, out));
      },
      onPhase: (text) => this.phase(text),
      onWritten: async (dir) => {
        this.phase('writing the report');
        this.reportPath = await reportAfterTraining(dir, out);
      },
    };
    return { ...events, ...extra } as E;
  }

  /** Ends the spinner of the current phase (if any) as done. */
  endStatus(): void {
    this.status?.succeed(this.lastPhase);
    this.status = undefined;
  }

  /** The run ended: close the last phase and say where the report is. */
  finish(): void {
    this.endStatus();
    if (this.reportPath !== null) this.out.info(`report: ${this.reportPath}`);
  }

  /** The run failed: mark the current phase failed. */
  fail(): void {
    this.status?.fail(this.lastPhase);
    this.status = undefined;
  }

  /** Always, last: clears the bar and stops listening for Ctrl-C. */
  close(): void {
    this.bar.clear();
    process.removeListener('SIGINT', this.onSigint);
  }

  private phase(text: string): void {
    this.bar.clear();
    this.endStatus();
    this.lastPhase = text;
    this.status = this.out.status(text);
  }
}
