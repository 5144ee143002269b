import { describe, expect, it } from 'vitest';
import { hubFolderUrl, HubRepoIdError, isHubRepoId } from '../../../src/lib/runtime/hub';

describe('hub repository ids', () => {
  it('maps owner/name to the resolve/main folder of the hub', () => {
    expect(hubFolderUrl('voices-lab/voices')).toBe('https://huggingface.co/voices-lab/voices/resolve/main/');
    expect(hubFolderUrl('a/b', 'http://127.0.0.1:9000/')).toBe('http://127.0.0.1:9000/a/b/resolve/main/');
  });
  it('keeps a revision', () => {
    expect(hubFolderUrl('org/model.v2@refs/pr/3', 'http://h')).toBe('http://h/org/model.v2/resolve/refs%2Fpr%2F3/');
  });
  it('rejects what is not a repository id', () => {
    for (const bad of ['voices', 'models/voices/', 'http://x/y', '/abs/path', 'a/b/c']) {
      expect(isHubRepoId(bad), bad).toBe(false);
      expect(() => hubFolderUrl(bad)).toThrow(HubRepoIdError);
    }
  });
});
