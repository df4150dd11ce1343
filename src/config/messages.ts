/**
 * Turns zod issues into the short messages a user reads after `file:line:col path:`.
 * Zod's own wording ("Invalid input: expected int, received number") is written for
 * developers; ours says what the value must be, and suggests the nearest valid name.
 */
import type { core } from 'zod';
import { closest } from '../util/near-miss.js';

export function didYouMean(word: string, candidates: readonly string[]): string {
  const guess = closest(word, candidates);
  return guess === undefined ? '' : ` (did you mean '${guess}'?)`;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `'${value}'`;
  return String(value);
}

function article(type: string): string {
  switch (type) {
    case 'object':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'int':
      return 'an integer';
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'boolean':
      return 'true or false';
    default:
      return type;
  }
}

/** Zod attaches its generic message unless the schema supplied one; ours start lower-case. */
function isCustomMessage(message: string): boolean {
  return !/^(Invalid|Too (small|big)|Unrecognized|Expected)/.test(message);
}

/**
 * A one-line message for one issue. `value` is the offending input value at the issue's
 * path (undefined when the key is missing).
 */
export function issueMessage(issue: core.$ZodIssue, value: unknown): string {
  if (issue.code === 'invalid_type' && value === undefined) return 'is required';
  if (issue.code !== 'unrecognized_keys' && isCustomMessage(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return 'is required';
      return `must be ${article(issue.expected)}, got ${describeValue(value)}`;
    case 'too_small': {
      if (issue.origin === 'array') return `must have at least ${String(issue.minimum)} item(s)`;
      if (issue.origin === 'string') return 'must not be empty';
      return `must be ${issue.inclusive === false ? '>' : '≥'} ${String(issue.minimum)}, got ${describeValue(value)}`;
    }
    case 'too_big': {
      if (issue.origin === 'array') return `must have at most ${String(issue.maximum)} item(s)`;
      return `must be ${issue.inclusive === false ? '<' : '≤'} ${String(issue.maximum)}, got ${describeValue(value)}`;
    }
    case 'invalid_value': {
      const options = issue.values.map(String);
      const hint = typeof value === 'string' ? didYouMean(value, options) : '';
      return `must be one of ${options.join(', ')}, got ${describeValue(value)}${hint}`;
    }
    case 'invalid_union': {
      const withOptions = issue as core.$ZodIssueInvalidUnion & { options?: unknown[]; discriminator?: string };
      if (withOptions.discriminator !== undefined && Array.isArray(withOptions.options)) {
        const options = withOptions.options.map(String);
        if (value === undefined) return `is required: one of ${options.join(', ')}`;
        const hint = typeof value === 'string' ? didYouMean(value, options) : '';
        return `unknown ${withOptions.discriminator} ${describeValue(value)}, expected one of ${options.join(', ')}${hint}`;
      }
      return `has the wrong form (got ${describeValue(value)})`;
    }
    case 'invalid_format':
      return `has the wrong format (${issue.format})`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    default:
      return issue.message;
  }
}
