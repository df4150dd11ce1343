/**
 * The experiment schema: the single source of the config's TypeScript types, its defaults,
 * its validation messages and the JSON Schema that editors use (`whetstone schema`).
 *
 * Keys are snake_case, as in the YAML files users write. Every object is strict: an unknown key
 * is an error with a "did you mean" hint (see loader.ts), because a typo that silently falls back
 * to a default costs a researcher a whole training run.
 */
import { z } from 'zod';
import { DATASET_NAMES } from '../data/types.js';

const positiveIntMessage = { error: 'must be a positive integer' };
const positiveInt = z.number(positiveIntMessage).int(positiveIntMessage).positive(positiveIntMessage);
const nonNegativeIntMessage = { error: 'must be an integer ≥ 0' };
const nonNegativeInt = z.number(nonNegativeIntMessage).int(nonNegativeIntMessage).nonnegative(nonNegativeIntMessage);
const fraction = z.number().min(0).max(1);
/** A size that is either one number (square) or [height, width]. */
const size2d = z.union([positiveInt, z.tuple([positiveInt, positiveInt])]);

// ───────────────────────────── dataset ─────────────────────────────

export const datasetSchema = z
  .strictObject({
    name: z.enum(DATASET_NAMES).default('mnist').describe('Dataset to train on. Defaults to mnist (embedded).'),
    path: z
      .string()
      .min(1)
      .optional()
      .describe('Directory of the files, for idx and cifar10; relative to the config file.'),
    files: z
      .strictObject({
        train_images: z.string().min(1).optional(),
        train_labels: z.string().min(1).optional(),
        test_images: z.string().min(1).optional(),
        test_labels: z.string().min(1).optional(),
      })
      .optional()
      .describe('For idx: file names inside `path`. Defaults to the standard MNIST names (optionally .gz).'),
    limit: z
      .union([
        positiveInt,
        z.strictObject({ train: positiveInt.optional(), test: positiveInt.optional() }),
      ])
      .optional()
      .describe('Keep only the first N images of each split (one number applies to both). For quick runs.'),
    validation: z
      .number()
      .min(0)
      .max(0.5)
      .default(0.1)
      .describe('Fraction of the training split held out for validation. Defaults to 0.1.'),
  })
  .superRefine((d, ctx) => {
    if ((d.name === 'idx' || d.name === 'cifar10') && d.path === undefined) {
      ctx.addIssue({ code: 'custom', path: ['path'], message: `is required for dataset '${d.name}'` });
    }
    if (d.files !== undefined && d.name !== 'idx') {
      ctx.addIssue({ code: 'custom', path: ['files'], message: `only applies to dataset 'idx'` });
    }
  });

// ───────────────────────────── model ─────────────────────────────

export const SPIKING_ACTIVATIONS = ['brelu', 'sigmoid'] as const;
const spikingActivation = z.enum(SPIKING_ACTIVATIONS);

const conv2dLayer = z.strictObject({
  type: z.literal('conv2d'),
  filters: positiveInt.describe('Number of output channels.'),
  kernel_size: size2d.default(3).describe('Kernel size. Defaults to 3.'),
  strides: size2d.default(1).describe('Stride. Defaults to 1.'),
  padding: z.enum(['same', 'valid']).default('same').describe('Defaults to same.'),
  use_bias: z.boolean().default(true).describe('Defaults to true.'),
});

const denseLayer = z.strictObject({
  type: z.literal('dense'),
  units: positiveInt.describe('Number of neurons.'),
  use_bias: z.boolean().default(true).describe('Defaults to true.'),
});

const poolFields = {
  pool_size: size2d.default(2).describe('Window. Defaults to 2.'),
  strides: size2d.optional().describe('Stride. Defaults to pool_size.'),
  padding: z.enum(['same', 'valid']).default('valid').describe('Defaults to valid.'),
};
const maxPoolLayer = z.strictObject({ type: z.literal('max_pool2d'), ...poolFields });
const avgPoolLayer = z.strictObject({ type: z.literal('avg_pool2d'), ...poolFields });
const flattenLayer = z.strictObject({ type: z.literal('flatten') });
const batchNormLayer = z.strictObject({
  type: z.literal('batch_norm'),
  epsilon: z.number().positive().default(1e-3).describe('Added to the variance inside the square root. Defaults to 1e-3.'),
  momentum: z.number().min(0).lt(1).default(0.99).describe('Moving-average momentum. Defaults to 0.99.'),
});
const dropoutLayer = z.strictObject({
  type: z.literal('dropout'),
  rate: z.number().min(0).lt(1).describe('Fraction of inputs dropped during training.'),
});
const spikingLayer = z.strictObject({
  type: z.literal('spiking'),
  activation: spikingActivation.optional().describe('Defaults to model.activation.'),
});

export const layerSchema = z.discriminatedUnion('type', [
  conv2dLayer,
  denseLayer,
  maxPoolLayer,
  avgPoolLayer,
  flattenLayer,
  batchNormLayer,
  dropoutLayer,
  spikingLayer,
]);
export const LAYER_TYPES = [
  'conv2d',
  'dense',
  'max_pool2d',
  'avg_pool2d',
  'flatten',
  'batch_norm',
  'dropout',
  'spiking',
] as const;

export const outputSchema = z
  .strictObject({
    neurons_per_class: positiveInt
      .default(10)
      .describe('n: how many output neurons vote for each class (n-hot key). Defaults to 10.'),
    overlapping: z
      .boolean()
      .default(false)
      .describe('If true, classes share neurons: each class is a random n-hot code of `width`. Defaults to false.'),
    width: positiveInt
      .optional()
      .describe('Neurons in the last spiking layer. Defaults to classes × neurons_per_class.'),
    batch_norm: z.boolean().default(false).describe('Batch-normalise the output layer. Defaults to false.'),
    temperature: z
      .number()
      .positive()
      .default(1)
      .describe(
        'Training only: the decoder divides its logits by this, softmax((2s − 1)·(2Kᵀ − 1) / T). Wider keys give larger logits; T keeps the softmax from saturating. The readout (an argmax) does not depend on it. Defaults to 1 (Whetstone).',
      ),
  })
  .superRefine((o, ctx) => {
    if (o.width !== undefined && o.width < o.neurons_per_class) {
      ctx.addIssue({ code: 'custom', path: ['width'], message: 'must be at least neurons_per_class' });
    }
  });

export const modelSchema = z.strictObject({
  activation: spikingActivation
    .default('brelu')
    .describe('Spiking activation used by `spiking` layers that name none: brelu (step at 0.5) or sigmoid (step at 0). Defaults to brelu.'),
  input_encoding: z
    .enum(['binary', 'analog'])
    .default('binary')
    .describe('binary: pixels are thresholded into spikes (runs on every target); analog: the first layer gets real values. Defaults to binary.'),
  input_threshold: fraction
    .default(0.5)
    .describe('For binary encoding: a pixel (scaled to [0, 1]) spikes when it is ≥ this. Defaults to 0.5.'),
  layers: z
    .array(layerSchema)
    .min(1)
    .describe('Hidden layers, input side first. The output spiking layer and its decoder are added after them.'),
  output: outputSchema.default({ neurons_per_class: 10, overlapping: false, batch_norm: false, temperature: 1 }),
});

// ───────────────────────────── training ─────────────────────────────

export const OPTIMIZER_NAMES = ['adadelta', 'adam', 'sgd', 'rmsprop'] as const;

export const optimizerSchema = z.strictObject({
  name: z.enum(OPTIMIZER_NAMES).default('adadelta').describe('Defaults to adadelta, as in the original Whetstone.'),
  learning_rate: z
    .number()
    .positive()
    .optional()
    .describe('Defaults to adadelta 4.0 (the original Whetstone rate), adam 0.001, sgd 0.01, rmsprop 0.001.'),
  momentum: z.number().min(0).lt(1).optional().describe('For sgd and rmsprop. Defaults to 0.'),
});

export const augmentationSchema = z.strictObject({
  shift: nonNegativeInt
    .max(8, { error: 'must be at most 8 pixels' })
    .default(0)
    .describe('Translate each training image by a random whole number of pixels in −shift…shift along each axis (zero-filled). Defaults to 0.'),
  flip_horizontal: z.boolean().default(false).describe('Mirror each training image left–right with probability ½. Defaults to false.'),
  until_epoch: positiveInt
    .optional()
    .describe(
      'Augment only the epochs before this one (0-based, as sharpening.start_epoch): set it to the start of sharpening to let the binary network fit the plain images. In a list, the phase ends here and the next begins. Defaults to every epoch (in a list: required except on the last phase).',
    ),
});

/** One mapping, or phases in epoch order: each runs from the previous phase's until_epoch to its own. */
export const augmentationPhasesSchema = z.union([
  augmentationSchema,
  z
    .array(augmentationSchema)
    .min(1)
    .superRefine((phases, ctx) => {
      phases.forEach((p, i) => {
        const last = i === phases.length - 1;
        if (p.until_epoch === undefined && !last) {
          ctx.addIssue({ code: 'custom', path: [i, 'until_epoch'], message: 'every phase but the last needs until_epoch (where the next phase begins)' });
        }
        const before = i > 0 ? phases[i - 1]!.until_epoch : undefined;
        if (p.until_epoch !== undefined && before !== undefined && p.until_epoch <= before) {
          ctx.addIssue({ code: 'custom', path: [i, 'until_epoch'], message: `must be after the previous phase's until_epoch (${before})` });
        }
      });
    }),
]);

const decayFactor = z.number().gt(0).max(1);
const lrStart = nonNegativeInt
  .default(0)
  .describe('First epoch (0-based, as sharpening.start_epoch) whose rate is lowered; earlier epochs train at optimizer.learning_rate. Defaults to 0.');

export const learningRateScheduleSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('step'),
    milestones: z
      .array(nonNegativeInt)
      .min(1)
      .refine((m) => m.every((v, i) => i === 0 || v > m[i - 1]!), 'must be increasing')
      .describe('step: epochs (0-based) from which the rate is multiplied by `factor` once more.'),
    factor: decayFactor.describe('step: multiplier applied at each milestone, in (0, 1].'),
  }),
  z.strictObject({
    type: z.literal('exponential'),
    start_epoch: lrStart,
    factor: decayFactor.describe('exponential: multiplier applied at every epoch from start_epoch on, in (0, 1].'),
  }),
  z.strictObject({
    type: z.literal('cosine'),
    start_epoch: lrStart,
    end_epoch: positiveInt.optional().describe('cosine: the rate reaches min_learning_rate in the epoch before this one. Defaults to training.epochs.'),
    min_learning_rate: z.number().min(0).default(0).describe('cosine: the final rate. Defaults to 0.'),
  }),
]);

export const trainingSchema = z.strictObject({
  epochs: positiveInt
    .default(20)
    .describe('Maximum number of epochs. Training stops earlier once every layer is fully sharpened. Defaults to 20.'),
  batch_size: positiveInt.default(128).describe('Defaults to 128.'),
  optimizer: optimizerSchema.default({ name: 'adadelta' }),
  augmentation: augmentationPhasesSchema
    .optional()
    .describe(
      'Random transformations of the training images, drawn from the seed; validation and test images are never changed. One mapping, or a list of phases (e.g. 2-pixel shifts until epoch 4, then 1-pixel shifts). Defaults to none.',
    ),
  learning_rate_schedule: learningRateScheduleSchema
    .optional()
    .describe('How the learning rate changes from epoch to epoch (step, exponential or cosine decay). Defaults to a constant rate.'),
}).superRefine((t, ctx) => {
  const s = t.learning_rate_schedule;
  if (s?.type === 'cosine' && (s.end_epoch ?? t.epochs) <= s.start_epoch) {
    const path = s.end_epoch === undefined ? ['learning_rate_schedule', 'start_epoch'] : ['learning_rate_schedule', 'end_epoch'];
    ctx.addIssue({ code: 'custom', path, message: `cosine decay needs end_epoch (default: training.epochs) after start_epoch` });
  }
});

// ───────────────────────────── sharpening ─────────────────────────────

const order = z
  .enum(['bottom_up', 'uniform'])
  .default('bottom_up')
  .describe('bottom_up: one layer at a time, input side first; uniform: all layers together. Defaults to bottom_up.');

const simpleSharpening = z.strictObject({
  schedule: z.literal('simple'),
  order,
  start_epoch: nonNegativeInt.default(5).describe('Epoch (0-based) at which sharpening begins. Defaults to 5.'),
  steps: positiveInt.default(4).describe('Steps to sharpen each layer fully (all layers, when uniform). Defaults to 4.'),
  per: z.enum(['epoch', 'batch']).default('epoch').describe('Take a step after every epoch or every batch. Defaults to epoch.'),
});

const scheduledSharpening = z
  .strictObject({
    schedule: z.literal('scheduled'),
    order,
    layers: z
      .array(z.tuple([nonNegativeInt, positiveInt]))
      .min(1)
      .optional()
      .describe('Explicit [start, stop) epochs per spiking layer, input side first.'),
    start: nonNegativeInt.optional().describe('Generated schedule: epoch the first layer starts.'),
    duration: positiveInt.optional().describe('Generated schedule: epochs to sharpen each layer.'),
    intermission: nonNegativeInt.default(0).describe('Generated schedule: epochs of rest between layers. Defaults to 0.'),
  })
  .superRefine((s, ctx) => {
    if (s.layers === undefined && (s.start === undefined || s.duration === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'needs either `layers` or both `start` and `duration`' });
    }
    s.layers?.forEach(([start, stop], i) => {
      if (stop <= start) ctx.addIssue({ code: 'custom', path: ['layers', i], message: 'stop must be after start' });
    });
  });

const adaptiveSharpening = z.strictObject({
  schedule: z.literal('adaptive'),
  order,
  min_init_epochs: positiveInt.default(10).describe('Epochs to train before sharpening may begin. Defaults to 10.'),
  rate: z.number().gt(0).max(1).default(0.25).describe('Sharpness added per epoch while sharpening. Defaults to 0.25.'),
  critical: fraction.default(0.75).describe('Sharpness above which the critical-zone rate applies. Defaults to 0.75.'),
  cz_rate: z.number().gt(0).max(1).default(0.126).describe('Sharpening rate in the critical zone. Defaults to 0.126.'),
  first_layer_relative_rate: z.number().positive().default(1).describe('Rate multiplier for the first layer. Defaults to 1.'),
  patience: nonNegativeInt.default(1).describe('Epochs without significant improvement before sharpening resumes. Defaults to 1.'),
  sig_increase: z.number().positive().default(0.15).describe('Relative loss increase that pauses sharpening. Defaults to 0.15.'),
  sig_decrease: z.number().positive().default(0.15).describe('Relative loss decrease that counts as improvement. Defaults to 0.15.'),
});

export const sharpeningSchema = z.discriminatedUnion('schedule', [
  simpleSharpening,
  scheduledSharpening,
  adaptiveSharpening,
]);

// ───────────────────────────── experiment ─────────────────────────────

export const experimentSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be letters, digits, ".", "_" or "-"')
    .optional()
    .describe('Experiment name, used in run directory names. Defaults to the config file name.'),
  description: z.string().optional(),
  seed: nonNegativeInt.default(0).describe('Seeds initialisation, splits, shuffling and the output key. Defaults to 0.'),
  dataset: datasetSchema.default({ name: 'mnist', validation: 0.1 }),
  model: modelSchema,
  training: trainingSchema.default({ epochs: 20, batch_size: 128, optimizer: { name: 'adadelta' } }),
  sharpening: sharpeningSchema.default({
    schedule: 'simple',
    order: 'bottom_up',
    start_epoch: 5,
    steps: 4,
    per: 'epoch',
  }),
  output_dir: z.string().min(1).default('runs').describe('Where run directories are created, relative to the working directory. Defaults to runs.'),
});

/** A fully resolved experiment: every default filled in. */
export type ExperimentConfig = z.output<typeof experimentSchema>;
/** What a user may write in YAML. */
export type ExperimentInput = z.input<typeof experimentSchema>;
export type LayerConfig = z.output<typeof layerSchema>;
export type SharpeningConfig = z.output<typeof sharpeningSchema>;
export type DatasetConfig = z.output<typeof datasetSchema>;
export type ModelConfig = z.output<typeof modelSchema>;
export type OptimizerConfig = z.output<typeof optimizerSchema>;
export type LearningRateScheduleConfig = z.output<typeof learningRateScheduleSchema>;
export type AugmentationConfig = z.output<typeof augmentationPhasesSchema>;

/** JSON Schema of the experiment file (draft 2020-12), generated from the same zod schema. */
export function experimentJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(experimentSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'urn:whetstone:experiment',
    title: 'Whetstone experiment',
  };
}
