// The chat prompt mode: kept in the link (pm=c), and in force only for a model that has a chat template.
import { expect, test } from 'vitest';
import { decodeExperiment, encodeExperiment } from '../../../src/lib/ui/url-state';
import { defaultExperiment } from '../../../src/lib/ui/experiment';
import { effectivePromptMode } from '../../../src/lib/ui/promptMode';
import type { ModelInfo } from '../../../src/lib/engine/api';

test('pm=c round-trips; plain text stays out of the link; a bad value is ignored with a warning', () => {
  const e = { ...defaultExperiment(), promptMode: 'chat' as const };
  const query = encodeExperiment(e);
  expect(query).toContain('pm=c');
  expect(decodeExperiment(`?${query}`).experiment.promptMode).toBe('chat');
  expect(encodeExperiment(defaultExperiment())).not.toContain('pm=');
  const bad = decodeExperiment('?v=1&pm=x');
  expect(bad.experiment.promptMode).toBe('text');
  expect(bad.warnings.join(' ')).toMatch(/prompt mode "x"/);
});

test('chat mode applies only to a model with a chat template', () => {
  const chat = { ...defaultExperiment(), promptMode: 'chat' as const };
  const model = { chatTemplate: true } as ModelInfo;
  expect(effectivePromptMode(chat, model)).toBe('chat');
  expect(effectivePromptMode(chat, { ...model, chatTemplate: false })).toBe('text');
  expect(effectivePromptMode(chat, null)).toBe('text');
  expect(effectivePromptMode(defaultExperiment(), model)).toBe('text');
});
