/** Training progress: a live bar on a TTY, and one plain line per epoch everywhere. */
import type { BatchProgress, EpochMetrics } from '../train/index.js';
import { int } from '../util/format.js';
import type { Output } from './output.js';

const pct = (v: number | null) => (v === null ? '  n/a ' : `${(v * 100).toFixed(2).padStart(6)}%`);

/** The one line each epoch prints, in CI logs and terminals alike. */
export function epochLine(m: EpochMetrics, out: Output): string {
  const sharp = m.sharpness.map((s) => (s === 1 ? '1' : s === 0 ? '0' : s.toFixed(2))).join(' ');
  return [
    `epoch ${String(m.epoch).padStart(3)}`,
    `loss ${m.loss.toFixed(4)}`,
    `acc ${pct(m.accuracy)}`,
    `val ${pct(m.val_accuracy)}`,
    `spiking val ${out.color.bold(pct(m.spiking_val_accuracy))}`,
    `sharpness [${sharp}] ${m.phase}`,
    `lr ${Number(m.learning_rate.toPrecision(3))}`,
    `${m.seconds.toFixed(1)}s ${int(m.images_per_second)} img/s`,
  ].join(' | ');
}

/** Redraws one status line on an interactive terminal; silent elsewhere (epoch lines suffice). */
export class ProgressBar {
  private drawn = false;
  private last = 0;

  constructor(private readonly out: Output) {}

  update(p: BatchProgress): void {
    if (!this.out.interactive) return;
    const now = Date.now();
    if (now - this.last < 100 && p.batch !== p.batches) return;
    this.last = now;
    const width = 30;
    const filled = Math.round((p.batch / p.batches) * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    this.out.io.stderr.write(
      `\r\x1b[2Kepoch ${p.epoch} ${bar} ${p.batch}/${p.batches} loss ${p.loss.toFixed(4)} acc ${(p.accuracy * 100).toFixed(2)}%`,
    );
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) this.out.io.stderr.write('\r\x1b[2K');
    this.drawn = false;
  }
}
