/** `whetstone report <run-dir>`: re-renders report.html, report.md and its charts from the run's files. */
import { relative, resolve } from 'node:path';
import { writeReport } from '../../report/index.js';
import type { CommandContext } from '../context.js';

export async function run(args: string[], _flags: Record<string, unknown>, ctx: CommandContext): Promise<void> {
  const shown = args[0]!;
  const written = await writeReport(resolve(ctx.cwd, shown), shown);
  const show = (p: string) => relative(ctx.cwd, p) || '.';
  ctx.out.result(`report      ${show(written.html)}`);
  ctx.out.result(`markdown    ${show(written.markdown)} (+ ${written.charts.length} charts in ${show(written.runDir)}/charts/)`);
}
