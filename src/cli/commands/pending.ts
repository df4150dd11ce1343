import { NotImplementedError } from '../../errors.js';

/** Commands that are registered but whose implementation has not landed yet say so and exit 1. */
export function pending(name: string) {
  return async (): Promise<void> => {
    throw new NotImplementedError(`whetstone ${name}`);
  };
}
