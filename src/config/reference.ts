/**
 * docs/config.md, generated from the schema (the same descriptions and defaults the validator and
 * `whetstone schema` use), so the reference cannot drift from the code. A test checks it is current;
 * `npm run docs:config` rewrites it.
 */
import { experimentJsonSchema } from './schema.js';

type Json = Record<string, unknown>;

function typeOf(s: Json): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (Array.isArray(s.enum)) return s.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  const variants = (s.anyOf ?? s.oneOf) as Json[] | undefined;
  if (variants?.every((v) => v.type === 'object')) return 'mapping (one of the forms below)';
  if (variants) return variants.map(typeOf).join(' or ');
  if (s.type === 'array') {
    if (Array.isArray(s.prefixItems)) return `[${(s.prefixItems as Json[]).map(typeOf).join(', ')}]`;
    return `list of ${s.items ? typeOf(s.items as Json) : 'values'}`;
  }
  if (s.type === 'object') return 'mapping';
  return String(s.type ?? 'any');
}

function rows(s: Json, path: string, out: string[]): void {
  const props = s.properties as Record<string, Json> | undefined;
  if (!props) return;
  const required = new Set((s.required as string[] | undefined) ?? []);
  for (const [key, sub] of Object.entries(props)) {
    const p = path ? `${path}.${key}` : key;
    const def = sub.default !== undefined && typeof sub.default !== 'object' ? `\`${String(sub.default)}\`` : required.has(key) ? '**required**' : '';
    // The default column says it when the schema has a plain default; otherwise keep the prose.
    const prose = String(sub.description ?? '');
    const description = (def.startsWith('`') ? prose.replace(/\s*Defaults to .*$/, '') : prose).replace(/\|/g, '\\|');
    out.push(`| \`${p}\` | ${typeOf(sub)} | ${def} | ${description} |`);
    if (sub.type === 'object') rows(sub, p, out);
    const variants = (sub.anyOf ?? sub.oneOf) as Json[] | undefined;
    variants?.filter((v) => v.type === 'object').forEach((v) => rows(v, p, out));
  }
}

function section(title: string, intro: string, s: Json, path: string): string {
  const out = [`## ${title}`, '', intro, '', '| key | type | default | meaning |', '|---|---|---|---|'];
  rows(s, path, out);
  return out.join('\n');
}

export function configReference(): string {
  const schema = experimentJsonSchema() as Json;
  const props = schema.properties as Record<string, Json>;
  const top: Json = { properties: Object.fromEntries(['name', 'description', 'seed', 'output_dir'].map((k) => [k, props[k]!])) };
  const layers = ((props.model!.properties as Record<string, Json>).layers!.items as Json).oneOf as Json[] | undefined;
  const layerVariants = layers ?? (((props.model!.properties as Record<string, Json>).layers!.items as Json).anyOf as Json[]);
  const sharpening = (props.sharpening!.oneOf ?? props.sharpening!.anyOf) as Json[];
  const modelWithoutLayers: Json = {
    ...props.model!,
    properties: Object.fromEntries(Object.entries(props.model!.properties as Record<string, Json>).filter(([k]) => k !== 'layers')),
  };
  const variantSection = (prefix: string, v: Json, discriminator: string) => {
    const name = ((v.properties as Record<string, Json>)[discriminator]!.const as string) ?? '?';
    const out = [`### ${discriminator}: ${name}`, '', '| key | type | default | meaning |', '|---|---|---|---|'];
    rows(v, prefix, out);
    return out.join('\n');
  };
  return [
    '# Experiment configuration',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs:config`; do not edit by hand. -->',
    '',
    'An experiment is one YAML file. Every section but `model` has defaults; unknown keys are errors',
    '(with a "did you mean" hint), and every error names the file, line, column and dotted path:',
    '',
    '    configs/x.yaml:12:5 training.epochs: must be a positive integer',
    '',
    'Check a file with `whetstone validate FILE`; `whetstone schema` prints the JSON Schema for editor completion.',
    '',
    section('Top level', 'Relative `dataset.path` values are relative to the config file; `output_dir` is relative to the working directory.', top, ''),
    '',
    section('dataset', 'Which images to train and test on. See datasets/README.md.', props.dataset!, 'dataset'),
    '',
    section('model', 'The network. The output layer (`dense` of `output.width` neurons, spiking) and its decoder are added after `layers`.', modelWithoutLayers, 'model'),
    '',
    '## model.layers',
    '',
    'A list, input side first. Each conv2d/dense must be followed by a `spiking` layer (pooling, batch norm and dropout may sit between); `batch_norm` must directly follow a conv2d/dense so it can be folded exactly.',
    '',
    ...layerVariants.map((v) => variantSection('model.layers[]', v, 'type') + '\n'),
    section('training', '', props.training!, 'training'),
    '',
    '## sharpening',
    '',
    'How the activations become steps. `order: bottom_up` sharpens one layer at a time, input side first; `uniform` sharpens all together. Training stops once every layer is at sharpness 1.',
    '',
    ...sharpening.map((v) => variantSection('sharpening', v, 'schedule') + '\n'),
  ].join('\n');
}
