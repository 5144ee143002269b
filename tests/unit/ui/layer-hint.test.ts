import { describe, expect, it } from 'vitest';
import { layerHint } from '../../../src/lib/ui/models';
import { layerFromHookName } from '../../../src/lib/sae/formats';

describe('layerHint (the layer to instrument, read from the SAE hook name before the SAE downloads)', () => {
  it('agrees with the SAE loader on residual hooks', () => {
    for (const hook of ['blocks.1.hook_resid_post', 'blocks.8.hook_resid_pre', 'blocks.11.hook_resid_post'])
      expect(layerHint(hook)).toEqual([layerFromHookName(hook)]);
  });
  it('gives no hint for names that do not say (the model is then instrumented at every layer)', () => {
    for (const hook of ['blocks.0.hook_resid_pre', 'layers.3', 'blocks.2.hook_mlp_out', '']) expect(layerHint(hook)).toBeUndefined();
  });
});
