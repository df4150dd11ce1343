/**
 * JSON: the spiking-network artifact itself (network.json + weights.bin, docs/snn-format.md) with
 * the JSON Schema of network.json, for tools that want plain data. Represents everything exactly.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { networkJsonSchema, serializeNetwork, NETWORK_FILE, WEIGHTS_FILE } from '../snn/io.js';
import type { ExportTarget, TargetContext, TargetReport } from './target.js';

export const SCHEMA_FILE = 'network.schema.json';

export const jsonTarget: ExportTarget = {
  name: 'json',
  description: 'the spiking-network artifact (network.json + weights.bin) with its JSON Schema',
  needsSamples: false,
  check() {},
  async write(ctx: TargetContext): Promise<TargetReport> {
    const { json, weights } = serializeNetwork(ctx.network, 'whetstone export');
    writeFileSync(join(ctx.dir, WEIGHTS_FILE), weights);
    writeFileSync(join(ctx.dir, NETWORK_FILE), `${JSON.stringify(json, null, 2)}\n`);
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: 'Whetstone spiking network (network.json)',
      description: 'Structure of a Whetstone spiking network; the arrays live in the little-endian float32 file named by weights.file, at the byte offsets given (docs/snn-format.md).',
      ...networkJsonSchema(),
    };
    writeFileSync(join(ctx.dir, SCHEMA_FILE), `${JSON.stringify(schema, null, 2)}\n`);
    return {
      files: [NETWORK_FILE, WEIGHTS_FILE, SCHEMA_FILE],
      readme: [
        `The spiking network \`${ctx.network.name}\` as Whetstone's own artifact: \`${NETWORK_FILE}\` (structure, key, class names, where each array lives), \`${WEIGHTS_FILE}\` (every array, little-endian float32, back to back) and \`${SCHEMA_FILE}\` (JSON Schema of ${NETWORK_FILE}).`,
        '',
        'Semantics: a neuron layer computes z = b + Σ w·s over the previous layer\'s spikes and fires iff z ≥ θ; neurons are memoryless; layer k fires at step k; maps are HWC; the output is decoded with the key. Full description: docs/snn-format.md in Whetstone.',
        '',
        '```python',
        'import json, numpy as np',
        `net = json.load(open("${NETWORK_FILE}"))`,
        `blob = np.fromfile("${WEIGHTS_FILE}", dtype="<f4")`,
        'layer = net["layers"][1]; w = layer["weights"]',
        'W = blob[w["offset"] // 4 : w["offset"] // 4 + np.prod(w["shape"])].reshape(w["shape"])',
        '```',
        '',
        `\`whetstone evaluate ${NETWORK_FILE} --data <dataset>\` runs it in Whetstone's simulator.`,
        '',
      ].join('\n'),
      lines: [`artifact: ${json.layers.length} layers, ${weights.byteLength.toLocaleString('en-US')} bytes of weights, with ${SCHEMA_FILE}`],
    };
  },
};
