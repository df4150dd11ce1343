/**
 * A sweep's folder: `sweep.json` and `report.html` at the top, each run a normal run directory
 * under `runs/<id>`, the config it trains under `configs/<id>.yaml`, its log under `logs/<id>.log` (and
 * `logs/<id>.pid` while a child trains it).
 * Local sweeps and queue workers (with `--out` on a shared filesystem) lay runs out the same way, so
 * a worker finds the checkpoint of a run another worker started.
 */
import { join } from 'node:path';
import type { RunPaths } from './run-child.js';

export const SWEEP_JSON = 'sweep.json';
export const SWEEP_HTML = 'report.html';

export function runPaths(sweepDir: string, id: string): RunPaths {
  return { id, runDir: join(sweepDir, 'runs', id), configFile: join(sweepDir, 'configs', `${id}.yaml`), logFile: join(sweepDir, 'logs', `${id}.log`), pidFile: join(sweepDir, 'logs', `${id}.pid`) };
}
