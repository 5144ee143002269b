// The one place that picks the engine implementation; everything else receives a PlaygroundEngine.
// The worker client keeps the page responsive while the model runs (it hosts the in-thread engine in a worker).

import type { LabEngine } from '../engine/api';
import { WorkerEngine } from '../worker/client';

export function createEngine(): LabEngine {
  return new WorkerEngine();
}
