/**
 * Early stopping as a pure function of the runs' learning curves: a run whose spiking validation
 * accuracy at some epoch trails the best accuracy any run reached at that same epoch by
 * more than `trails_best_by` is stopped. Comparing at the same epoch, not against final results,
 * keeps a slow starter from being judged against a finished run's last epoch.
 */
import type { EarlyStopping } from './schema.js';

/** Spiking validation accuracy by epoch (index 0 = epoch 1); null where an epoch had none. */
export type Curve = readonly (number | null)[];

export interface StopDecision {
  readonly id: string;
  readonly epoch: number;
  readonly reason: string;
}

/** The runs among `candidates` to stop now; `curves` holds every run's curve so far (finished ones too). */
export function runsToStop(curves: ReadonlyMap<string, Curve>, candidates: readonly string[], rule: EarlyStopping): StopDecision[] {
  const decisions: StopDecision[] = [];
  for (const id of candidates) {
    const curve = curves.get(id) ?? [];
    // Every epoch, not only the latest: a run ahead of the others is judged once they catch up.
    for (let epoch = rule.min_epoch; epoch <= curve.length; epoch++) {
      const own = curve[epoch - 1];
      if (own === null || own === undefined) continue;
      let best = -Infinity;
      let bestId = '';
      for (const [other, c] of curves) {
        const v = c[epoch - 1];
        if (v !== null && v !== undefined && v > best) [best, bestId] = [v, other];
      }
      if (bestId !== id && best - own > rule.trails_best_by) {
        decisions.push({ id, epoch, reason: `spiking validation accuracy ${(own * 100).toFixed(2)}% at epoch ${epoch}, ${((best - own) * 100).toFixed(2)} points below ${bestId} (more than ${rule.trails_best_by * 100})` });
        break;
      }
    }
  }
  return decisions;
}
