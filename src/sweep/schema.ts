/**
 * The sweep file schema: which experiment to start from, which dotted config keys to vary and how
 * (a grid, seeded random samples, a list of seeds), what to rank the runs by, when to stop a run
 * early, and the budget. Like the experiment schema it is the single source of the types, the
 * defaults and the JSON Schema (`whetstone schema --sweep`), and every object is strict.
 */
import { z } from 'zod';

const positiveIntMessage = { error: 'must be a positive integer' };
const positiveInt = z.number(positiveIntMessage).int(positiveIntMessage).positive(positiveIntMessage);
const nonNegativeIntMessage = { error: 'must be an integer ≥ 0' };
const nonNegativeInt = z.number(nonNegativeIntMessage).int(nonNegativeIntMessage).nonnegative(nonNegativeIntMessage);

/** A YAML scalar or structure a config key may be set to. */
const value = z.union([z.number(), z.string(), z.boolean(), z.null(), z.array(z.unknown()), z.record(z.string(), z.unknown())]);

const rangeSpec = z.strictObject({
  range: z.tuple([z.number(), z.number()]).describe('[low, high], both included.'),
  step: z.number().positive().optional().describe('Grid: low, low + step, … up to high. Random: one of those points; without step, any real number in the range.'),
});
const logRangeSpec = z.strictObject({
  log_range: z.tuple([z.number().positive(), z.number().positive()]).describe('[low, high] > 0, both included, spaced evenly on a log scale.'),
  num: positiveInt.optional().describe('Grid: this many points from low to high (required in a grid). Random: one of those points; without num, any number in the range, log-uniformly.'),
});
const valuesSpec = z.strictObject({ values: z.array(value).describe('The values, in order.') });

/** How one key varies: a list of values, or a range, or a log range. */
export const paramSpecSchema = z.union([z.array(value), valuesSpec, rangeSpec, logRangeSpec]);

/** Dotted config keys (`training.optimizer.learning_rate`, `model.layers.1.units`) → how each varies. */
const params = z.record(z.string(), paramSpecSchema);

export const randomSearchSchema = z.strictObject({
  samples: positiveInt.describe('How many configurations to draw.'),
  seed: nonNegativeInt.default(0).describe('Seeds the draw, so the same file always gives the same runs. Defaults to 0.'),
  params: params.describe('Keys drawn independently for each sample.'),
});

export const earlyStoppingSchema = z.strictObject({
  trails_best_by: z
    .number()
    .gt(0)
    .max(1)
    .describe("Stop a run whose spiking validation accuracy is more than this (a fraction, 0.05 = 5 points) below the best run's at the same epoch."),
  min_epoch: positiveInt.default(1).describe('Compare only from this epoch (1-based) on. Defaults to 1.'),
});

export const budgetSchema = z.strictObject({
  max_runs: positiveInt.optional().describe('Run at most this many configurations (the first ones, in expansion order). Defaults to all.'),
  max_concurrent: positiveInt
    .optional()
    .describe("Runs training at the same time on this machine. Defaults to the cores divided by each run's gradient workers."),
});

export const sweepSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be letters, digits, ".", "_" or "-"')
    .optional()
    .describe("The sweep's name: its folder under output_dir and its jobs on a queue. Defaults to the file name."),
  description: z.string().optional(),
  base: z
    .union([z.string().min(1), z.record(z.string(), z.unknown())])
    .describe('The experiment every run starts from: a path to its YAML file (relative to this file), or the experiment inline.'),
  grid: params.optional().describe('Every combination of these values is a run.'),
  random: randomSearchSchema.optional().describe('Seeded random search: each sample is a run (combined with every grid point).'),
  seeds: z.array(nonNegativeInt).min(1).optional().describe('Each configuration is run once with each of these seeds (sets `seed`).'),
  metric: z.string().min(1).default('spiking_accuracy').describe('The summary.json key runs are ranked by (dotted for nested keys, e.g. snn.accuracy). Defaults to spiking_accuracy.'),
  goal: z.enum(['max', 'min']).default('max').describe('Whether a larger or a smaller metric is better. Defaults to max.'),
  early_stopping: earlyStoppingSchema.optional().describe('Stop runs that trail the best one (local runs only).'),
  budget: budgetSchema.default({}),
  output_dir: z
    .string()
    .min(1)
    .default('runs/sweeps')
    .describe("Where the sweep's folder is created, relative to the working directory. Defaults to runs/sweeps."),
});

export type SweepConfig = z.output<typeof sweepSchema>;
export type ParamSpec = z.output<typeof paramSpecSchema>;
export type EarlyStopping = z.output<typeof earlyStoppingSchema>;

/** JSON Schema of the sweep file (draft 2020-12), generated from the same zod schema. */
export function sweepJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(sweepSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, $id: 'urn:whetstone:sweep', title: 'Whetstone sweep' };
}
