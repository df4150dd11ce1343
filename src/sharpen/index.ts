/**
 * Sharpening schedules: pure state machines that say how sharp each spiking layer should be as
 * training progresses. See docs/architecture.md and the original Whetstone (Severa et al., 2019).
 */
export { createSchedule, plannedEpochs } from './schedule.js';
export type { SharpeningPhase, SharpeningSchedule } from './sharpening-schedule.js';
export { layerSharpness, allSharp } from './mapping.js';
export type { SharpeningOrder } from './mapping.js';
export { SimpleSharpener, simpleTotalSteps } from './simple.js';
export type { SimpleSharpeningConfig } from './simple.js';
export { ScheduledSharpener, scheduleWindows } from './scheduled.js';
export type { ScheduledSharpeningConfig, SharpeningWindow } from './scheduled.js';
export { AdaptiveSharpener } from './adaptive.js';
export type { AdaptiveSharpeningConfig } from './adaptive.js';
export { CHECKPOINT_VERSION } from './checkpoint.js';
export type { AdaptiveCheckpoint, ScheduledCheckpoint, SharpeningCheckpoint, SimpleCheckpoint } from './checkpoint.js';
