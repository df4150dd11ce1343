import { resolve } from 'node:path';
import { InputError } from '../../errors.js';
import { formatProblem, loadExperimentFile } from '../../config/loader.js';
import type { CommandContext } from '../context.js';

/** Checks each file; prints `ok <file>` per valid one on stdout, every problem on stderr. */
export async function run(files: string[], _options: Record<string, unknown>, ctx: CommandContext): Promise<void> {
  let invalid = 0;
  for (const file of files) {
    let result;
    try {
      result = loadExperimentFile(resolve(ctx.cwd, file), file);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      ctx.out.error(e.message);
      invalid++;
      continue;
    }
    for (const w of result.warnings) ctx.out.warn(formatProblem(w));
    for (const e of result.errors) ctx.out.error(formatProblem(e));
    if (result.config) ctx.out.result(`ok ${file}`);
    else invalid++;
  }
  if (invalid > 0) throw new InputError(`${invalid} of ${files.length} config file(s) invalid`);
}
