// Which way a prompt is tokenised: as written, or as the user's turn of a chat (instruct models with a template).
import type { ModelInfo, PromptMode } from '../engine/api';
import type { Experiment } from './experiment';

/** Chat only when the experiment asks for it and the loaded model has a chat template; text otherwise. */
export function effectivePromptMode(experiment: Experiment, model: ModelInfo | null): PromptMode {
  return experiment.promptMode === 'chat' && model?.chatTemplate ? 'chat' : 'text';
}

