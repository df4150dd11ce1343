/**
 * The CLI as a table: each command declares its arguments and options and lazily imports one
 * module under commands/ that does the work. Commands hold no business logic: they parse,
 * call the library, and print. `runMain(argv)` is callable in-process (tests use it).
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { ExitCode } from '../errors.js';
import type { BackendName } from '../backend/index.js';
import type { CommandContext } from './context.js';
import { exitCodeFor } from './exit.js';
import { Output, type CliIO } from './output.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer.');
  return n;
}

// Listed here, not imported, so that `--help` and `schema` never load tfjs.
const BACKEND_CHOICES = ['auto', 'tfjs-node', 'wasm', 'cpu'] as const satisfies readonly BackendName[];
const backendOption = () =>
  new Option('--backend <name>', 'compute backend (default: $WHETSTONE_BACKEND or auto)').choices(BACKEND_CHOICES);

/** Commander accumulator for repeatable options. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

type Runner = (args: string[], options: Record<string, unknown>, ctx: CommandContext) => Promise<void>;

/** Declares one command; `load` imports its implementation only when it runs. */
interface CommandSpec {
  name: string;
  args: string;
  description: string;
  options?: (cmd: Command) => Command;
  load: () => Promise<Runner>;
}

const COMMANDS: CommandSpec[] = [
  {
    name: 'train',
    args: '[config]',
    description: 'train and sharpen a spiking network from a YAML experiment',
    options: (c) =>
      c
        .option('--out <dir>', 'parent directory for the run directory (default: output_dir in the config)')
        .addOption(backendOption())
        .option('--epochs <n>', 'override training.epochs', positiveInt)
        .option('--limit <n>', 'use only the first N images of each split', positiveInt)
        .option('--workers <n>', 'threads computing gradients, data-parallel (default: CNNs one per core, at most batch/64; otherwise 1)', positiveInt)
        .option('--resume <run-dir>', 'continue an interrupted run (then no config is given)')
        .option('--from <run-dir>', "start from that run's checkpoint, if this config trains its epochs so far the same way (a branch)")
        .option('--run-dir <dir>', 'create the run directory exactly here (it must not exist, or be empty), not under --out')
        .option('--set <key.path=value>', 'override a config value, e.g. training.epochs=5 (repeatable)', collect, [])
        .option('--assert <gate>', 'fail with exit code 3 unless the summary satisfies it, e.g. "spiking_accuracy>=0.97" (repeatable)', collect, [])
        .option('--json', 'print the summary as one JSON object on stdout (and nothing else there)'),
    load: async () => (await import('./commands/train.js')).run,
  },
  {
    name: 'sharpen',
    args: '<model>',
    description: 'cross-train an existing model (tfjs model.json, ONNX .onnx, Keras .keras or .h5) into a spiking network',
    options: (c) =>
      c
        .requiredOption('--data <dataset-or-config>', 'dataset name, or experiment YAML (its dataset, training and sharpening sections)')
        .addOption(new Option('--schedule <name>', 'sharpening schedule, with sharpen defaults (see docs/sharpen.md)').choices(['scheduled', 'simple', 'adaptive']))
        .option('--epochs <n>', 'maximum epochs', positiveInt)
        .option('--key-width <n>', 'output neurons per class (n of the n-hot key)', positiveInt)
        .option('--out <dir>', 'parent directory for the run directory')
        .addOption(backendOption())
        .option('--limit <n>', 'use only the first N images of each split', positiveInt)
        .option('--workers <n>', 'threads computing gradients, data-parallel (default: CNNs one per core, at most batch/64; otherwise 1)', positiveInt)
        .option('--json', 'print the summary as one JSON object on stdout (and nothing else there)'),
    load: async () => (await import('./commands/sharpen.js')).run,
  },
  {
    name: 'evaluate',
    args: '<run-dir|network.json>',
    description: 'run the spiking network in the simulator and report accuracy, spikes and energy',
    options: (c) =>
      c
        .option('--data <dataset-or-config>', "dataset name or experiment YAML (default: the run's test split)")
        .option('--limit <n>', 'evaluate only the first N test images', positiveInt)
        .option('--weight-bits <n>', 'quantize weights to N-bit signed levels per layer (2-16) first', positiveInt)
        .option('--json', 'print the result as one JSON object on stdout'),
    load: async () => (await import('./commands/evaluate.js')).run,
  },
  {
    name: 'export',
    args: '<run-dir|network.json>',
    description: 'export the spiking network to a neuromorphic platform (NIR, SpiNNaker/PyNN, Loihi/Lava, JSON)',
    options: (c) =>
      c
        .addOption(new Option('--target <target>', 'export target').choices(['nir', 'spinnaker', 'loihi', 'json']).makeOptionMandatory())
        .option('--out <dir>', 'output directory (default: <run>/export/<target>)')
        .addOption(new Option('--neuron <kind>', 'NIR neuron: threshold (faithful) or if').choices(['threshold', 'if']))
        .addOption(new Option('--simulator <name>', "SpiNNaker script's default PyNN backend (default: spiNNaker)").choices(['spiNNaker', 'brian2', 'nest']))
        .option('--weight-bits <n>', 'quantize weights to N-bit signed levels per layer first (reports the accuracy)', positiveInt)
        .option('--data <dataset-or-config>', "test images: dataset name or experiment YAML (default: the run's)")
        .option('--limit <n>', 'use only the first N test images for accuracies', positiveInt)
        .option('--samples <n>', 'test samples a generated script carries (default: 100)', positiveInt)
        .option('--json', 'print the result as one JSON object on stdout'),
    load: async () => (await import('./commands/export.js')).run,
  },
  {
    name: 'report',
    args: '<run-dir>',
    description: 're-render the run report: report.html (charts), report.md (tables)',
    load: async () => (await import('./commands/report.js')).run,
  },
  {
    name: 'compare',
    args: '<run-dir...>',
    description: "print the runs' key figures side by side",
    options: (c) => c.option('--json', 'print one JSON array on stdout, one object per run'),
    load: async () => (await import('./commands/compare.js')).run,
  },
  {
    name: 'sweep',
    args: '<sweep.yaml|status|collect> [paths...]',
    description: 'run a sweep of experiments here, or on a Redis queue; `sweep status SWEEP.yaml`, `sweep collect SWEEP.yaml DIR...`',
    options: (c) =>
      c
        .option('--queue <redis-url>', 'enqueue the runs on this BullMQ queue (redis://HOST:PORT) for `whetstone worker`s, instead of running them here')
        .option('--out <dir>', "parent of the sweep's folder (default: output_dir in the sweep file)")
        .option('--concurrency <n>', 'runs at a time on this machine (default: budget.max_concurrent, else from the cores)', positiveInt)
        .addOption(backendOption())
        .option('--only <run-id>', 'run only this run of the sweep (repeatable; a CI job of --matrix)', collect, [])
        .option('--matrix', 'print the runs as a JSON job matrix for CI and run nothing')
        .option('--watch', 'status: follow the sweep until every run has ended')
        .option('--interval <seconds>', 'status --watch: seconds between looks (default: 2)', positiveInt)
        .option('--json', 'print the sweep summary as one JSON object on stdout'),
    load: async () => (await import('./commands/sweep.js')).run,
  },
  {
    name: 'worker',
    args: '<redis-url>',
    description: "train runs that `sweep --queue` enqueued, reporting each run's summary back through the queue",
    options: (c) =>
      c
        .option('--concurrency <n>', 'runs at a time (default: 1)', positiveInt)
        .option('--out <dir>', "where sweeps' folders go; share it between workers to resume a dead worker's run (default: runs/sweeps)")
        .addOption(backendOption())
        .option('--lock-seconds <n>', "seconds after a worker dies before its run is given to another (default: 10)", positiveInt),
    load: async () => (await import('./commands/worker.js')).run,
  },
  {
    name: 'validate',
    args: '<config...>',
    description: 'check experiment files against the schema',
    load: async () => (await import('./commands/validate.js')).run,
  },
  {
    name: 'schema',
    args: '',
    description: 'print the JSON Schema of experiment files (for editor completion)',
    options: (c) => c.option('--sweep', 'the JSON Schema of sweep files instead'),
    load: async () => (await import('./commands/schema.js')).run,
  },
];

/** Runs the CLI with the given arguments (without `node` and the script) and returns the exit code. */
export async function runMain(
  argv: readonly string[],
  io: CliIO = { stdout: process.stdout, stderr: process.stderr, env: process.env },
  cwd: string = process.cwd(),
): Promise<number> {
  const out = new Output(io);
  const base = { out, io, cwd };
  let pending: Promise<void> | undefined;

  const program = new Command('whetstone')
    .description('Cross-train deep networks into spiking neural networks (the Whetstone method).')
    .version(VERSION, '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(out.color.red(s)),
    })
    .showSuggestionAfterError(true)
    .allowExcessArguments(false);

  for (const spec of COMMANDS) {
    let cmd = program.command(`${spec.name}${spec.args ? ` ${spec.args}` : ''}`).description(spec.description);
    cmd = spec.options ? spec.options(cmd) : cmd;
    const usage = `whetstone ${spec.name} ${cmd.usage()}`;
    // A missing argument, an unknown option or a bad choice: commander's one line, then this.
    cmd.showHelpAfterError(`usage: ${usage}`);
    cmd.allowExcessArguments(false).action((...params: unknown[]) => {
      // commander passes positional args, then the options object, then the command.
      const command = params[params.length - 1] as Command;
      const positional = command.processedArgs.flat().filter((a): a is string => typeof a === 'string');
      const ctx: CommandContext = { ...base, usage };
      pending = spec.load().then((runner) => runner(positional, command.opts(), ctx));
    });
  }

  try {
    await program.parseAsync([...argv], { from: 'user' });
    if (pending === undefined) {
      program.outputHelp({ error: true });
      return ExitCode.usage;
    }
    await pending;
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Asked-for help and version exit 0 in commander; everything else it rejects is a usage error.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    return exitCodeFor(error, out);
  }
}
