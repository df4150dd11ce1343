import { experimentJsonSchema } from '../../config/schema.js';
import type { CommandContext } from '../context.js';

export async function run(_args: string[], _options: Record<string, unknown>, ctx: CommandContext): Promise<void> {
  ctx.out.result(JSON.stringify(experimentJsonSchema(), null, 2));
}
