import { experimentJsonSchema } from '../../config/schema.js';
import { sweepJsonSchema } from '../../sweep/schema.js';
import type { CommandContext } from '../context.js';

export async function run(_args: string[], options: { sweep?: boolean }, ctx: CommandContext): Promise<void> {
  ctx.out.result(JSON.stringify(options.sweep ? sweepJsonSchema() : experimentJsonSchema(), null, 2));
}
