/**
 * CI gates on a run's summary: `--assert "spiking_accuracy>=0.97"`. A gate names a summary key
 * (dotted for nested ones, e.g. `snn.agrees_with_tfjs`), a comparison and a value. Gates are parsed
 * and their keys checked before training starts, so a typo costs seconds, not a training run.
 */
import { didYouMean } from '../config/messages.js';
import { ExitCode, InputError, WhetstoneError } from '../errors.js';

export type GateOperator = '>=' | '<=' | '>' | '<' | '==' | '!=';

export interface Gate {
  readonly text: string;
  readonly key: string;
  readonly op: GateOperator;
  readonly value: number | boolean | string;
}

/** A gate did not hold. Exit code 3: distinct from a runtime failure (1) and bad input (2). */
export class GateFailedError extends WhetstoneError {
  constructor(message: string) {
    super(message, ExitCode.gate);
  }
}

const GATE = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(>=|<=|==|!=|>|<)\s*(\S.*?)\s*$/;

function parseValue(raw: string): number | boolean | string {
  if (raw === 'true' || raw === 'false') return raw === 'true';
  const n = Number(raw);
  return raw !== '' && Number.isFinite(n) ? n : raw;
}

/** Parses `--assert` texts and checks each key is one the summary has. Throws InputError. */
export function parseGates(texts: readonly string[], knownKeys: readonly string[]): Gate[] {
  return texts.map((text) => {
    const m = GATE.exec(text);
    if (m === null) throw new InputError(`--assert '${text}': expected KEY OP VALUE, e.g. "spiking_accuracy>=0.97" (OP: >= <= > < == !=)`);
    const [, key, op, raw] = m as unknown as [string, string, GateOperator, string];
    if (!knownKeys.includes(key)) {
      throw new InputError(`--assert '${text}': summary has no key '${key}'${didYouMean(key, knownKeys)}`, `keys: ${knownKeys.join(', ')}`);
    }
    const value = parseValue(raw);
    if (typeof value === 'string' && op !== '==' && op !== '!=') {
      throw new InputError(`--assert '${text}': '${raw}' is not a number; ${op} compares numbers`);
    }
    return { text, key, op, value };
  });
}

function lookup(summary: unknown, key: string): unknown {
  let v: unknown = summary;
  for (const part of key.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return v;
}

function holds(actual: unknown, op: GateOperator, expected: number | boolean | string): boolean {
  switch (op) {
    case '==':
      return actual === expected;
    case '!=':
      return actual !== expected;
    default:
      if (typeof actual !== 'number' || typeof expected !== 'number') return false;
      return op === '>=' ? actual >= expected : op === '<=' ? actual <= expected : op === '>' ? actual > expected : actual < expected;
  }
}

export interface GateResult {
  readonly gate: Gate;
  readonly actual: unknown;
  readonly passed: boolean;
}

export function checkGates(gates: readonly Gate[], summary: unknown): GateResult[] {
  return gates.map((gate) => {
    const actual = lookup(summary, gate.key);
    return { gate, actual, passed: holds(actual, gate.op, gate.value) };
  });
}
