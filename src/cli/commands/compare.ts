/** `whetstone compare <run-dir>...`: the key figures of runs side by side (or, with --json, as a JSON array). */
import { resolve } from 'node:path';
import { compareRuns, compareTable } from '../../report/index.js';
import type { CommandContext } from '../context.js';

interface CompareFlags {
  json?: boolean;
}

/** Plain-text columns: numbers right-aligned, two spaces between columns. */
export function columns(header: readonly string[], rows: readonly (readonly string[])[], numeric: readonly number[]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  return all.map((r) => r.map((cell, c) => (numeric.includes(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd());
}

export async function run(args: string[], flags: CompareFlags, ctx: CommandContext): Promise<void> {
  const runs = compareRuns(args.map((a) => resolve(ctx.cwd, a)), args);
  if (flags.json) {
    ctx.out.result(JSON.stringify(runs));
    return;
  }
  const table = compareTable(runs);
  for (const line of columns(table.header, table.rows, table.numeric)) ctx.out.result(line);
}
