/**
 * A `train` started by a sweep or a worker (with an IPC channel and WHETSTONE_EXIT_WITH_PARENT=1)
 * ends when its parent ends, however the parent ended. Linux does not kill the children of a
 * SIGKILLed process; without this, the queue would give a dead worker's run to another worker while
 * the orphan still trains it, two processes writing one run directory.
 */
import { ExitCode } from '../errors.js';

export function exitWithParent(): void {
  if (process.channel === undefined) return;
  // The channel is only a tripwire: it must not keep the process alive once training is done.
  process.channel.unref();
  process.once('disconnect', () => process.exit(ExitCode.interrupted));
}
