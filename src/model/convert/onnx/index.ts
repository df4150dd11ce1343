/**
 * `model.onnx` → tfjs layers-model artifacts: the file is decoded with onnx-proto (protobufjs and
 * ONNX's own schema), its opset checked, and its graph rebuilt as a Sequential of Keras-style
 * layers (graph.ts) whose weights are already in tfjs's NHWC layout.
 */
import onnxProto from 'onnx-proto';
import { InputError } from '../../../errors.js';
import { oneLine } from '../../../util/fs-errors.js';
import { packWeights, readModelBytes, type ImportedModel } from '../imported.js';
import type { LayerProblem } from '../source.js';
import { translateGraph } from './graph.js';
import { int } from './tensor.js';

const { onnx } = onnxProto;

/** The default-domain opsets whose operator semantics graph.ts implements (ONNX 1.4 to 1.14). */
export const OPSETS = { min: 9, max: 18 } as const;

/** Decodes an ONNX ModelProto; throws InputError (one line naming `shown`) for anything that is not one. */
export function decodeOnnx(bytes: Uint8Array, shown: string) {
  let model;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new InputError(`${shown}: not an ONNX model, or a truncated one (${oneLine(e)})`);
  }
  if (model.graph === null || model.graph === undefined || (model.graph.node ?? []).length === 0) {
    throw new InputError(`${shown}: not an ONNX model (no graph with nodes)`);
  }
  return model;
}

/** The ai.onnx opset the model imports, or a problem naming it. */
function defaultOpset(model: ReturnType<typeof decodeOnnx>, problems: LayerProblem[]): number {
  const entry = (model.opsetImport ?? []).find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx');
  const version = entry === undefined ? 1 : int(entry.version);
  if (version < OPSETS.min || version > OPSETS.max) {
    problems.push({ layer: model.graph?.name || 'graph', className: 'opset', message: `uses ai.onnx opset ${version}; sharpen reads opsets ${OPSETS.min}–${OPSETS.max} (re-export with opset_version=${Math.min(Math.max(version, OPSETS.min), OPSETS.max)})` });
  }
  return version;
}

/** Reads `file` (named `shown` in messages) as tfjs artifacts plus the problems that refuse it. */
export function readOnnxModel(file: string, shown: string): ImportedModel {
  return onnxArtifacts(readModelBytes(file, shown), file, shown);
}

/** The bytes of an ONNX file as tfjs artifacts (external data is looked up beside `file`). */
export function onnxArtifacts(bytes: Uint8Array, file: string, shown: string): ImportedModel {
  const model = decodeOnnx(bytes, shown);
  const problems: LayerProblem[] = [];
  const opset = defaultOpset(model, problems);
  const graph = model.graph!;
  const chain = translateGraph(graph, opset, { file, shown });
  problems.push(...chain.problems);
  // A chain that stops early still describes its layers, so plan.ts can add its own findings.
  const layers = chain.layers.length > 0 ? chain.layers : [{ class_name: 'InputLayer', config: { name: 'input', batch_input_shape: [null, 1] } }];
  return {
    artifacts: {
      modelTopology: { class_name: 'Sequential', config: { name: graph.name || 'onnx', layers } },
      format: 'layers-model',
      generatedBy: `${model.producerName || 'unknown'} ${model.producerVersion || ''}`.trim(),
      convertedBy: 'whetstone (ONNX import)',
      ...packWeights(chain.weights),
    },
    format: 'onnx',
    className: 'graph',
    problems,
  };
}
