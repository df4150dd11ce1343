/**
 * summary.json's shape and keys, apart from the pipeline that writes it, so that readers (gates,
 * sweeps ranking runs) need not load tfjs.
 */
/** summary.json: stable keys, documented in docs/run-directory.md. */
export interface TrainSummary {
  experiment: string;
  dataset: string;
  backend: string;
  seed: number;
  epochs: number;
  max_epochs: number;
  sharpening_finished: boolean;
  /** Test accuracy of the network at the end of pre-sharpening training; null if sharpening began in epoch 1. */
  unsharpened_accuracy: number | null;
  /** Test accuracy of the spiking network (every layer a step, batch norm folded). */
  spiking_accuracy: number;
  /** unsharpened_accuracy − spiking_accuracy. */
  accuracy_drop: number | null;
  final_val_accuracy: number | null;
  final_spiking_val_accuracy: number | null;
  train_images: number;
  test_images: number;
  wall_seconds: number;
  train_seconds: number;
  images_per_second: number;
  /** The spiking network run in the event-driven simulator on the test split (snn/ in the run directory). */
  /** `sharpen` runs only: test accuracy of the source model, before it was rewritten. */
  original_accuracy?: number;
  /** `sharpen` runs only: the model.json the run started from. */
  source_model?: string;
  snn: {
    accuracy: number;
    /** Simulator and tfjs model predict the same class for every test image. */
    agrees_with_tfjs: boolean;
    neurons: number;
    spikes_per_inference: number;
    synaptic_events_per_inference: number;
    ann_macs_per_inference: number;
    latency_steps: number;
    /** Simulator test accuracy with weights quantized to QUANTIZED_WEIGHT_BITS-bit levels per layer (as for Loihi). */
    quantized_accuracy: number;
    quantized_weight_bits: number;
  };
}

// Written out so the compiler checks them against TrainSummary: gates (--assert) are validated against this list.
const TOP_KEYS: Record<Exclude<keyof TrainSummary, 'snn'>, true> = {
  experiment: true, dataset: true, backend: true, seed: true, epochs: true, max_epochs: true,
  sharpening_finished: true, unsharpened_accuracy: true, spiking_accuracy: true, accuracy_drop: true,
  final_val_accuracy: true, final_spiking_val_accuracy: true, train_images: true, test_images: true,
  wall_seconds: true, train_seconds: true, images_per_second: true, original_accuracy: true, source_model: true,
};
const SNN_KEYS: Record<keyof TrainSummary['snn'], true> = {
  accuracy: true, agrees_with_tfjs: true, neurons: true, spikes_per_inference: true,
  synaptic_events_per_inference: true, ann_macs_per_inference: true, latency_steps: true,
  quantized_accuracy: true, quantized_weight_bits: true,
};
/** Every key of summary.json, nested ones dotted (`snn.accuracy`). */
export const SUMMARY_KEYS: readonly string[] = [...Object.keys(TOP_KEYS), ...Object.keys(SNN_KEYS).map((k) => `snn.${k}`)];
