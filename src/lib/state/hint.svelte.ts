// The first-visit hint that points at one persona slider: shown until dismissed (or a slider is moved), and the
// dismissal is remembered in local storage so a returning visitor is not told again.

const STORAGE_KEY = 'persona-playground:first-visit-hint:v1';

export class FirstVisitHint {
  readonly #storage: Storage | null;
  visible = $state(false);

  constructor(storage: Storage | null) {
    this.#storage = storage;
    let seen = false;
    try {
      seen = storage?.getItem(STORAGE_KEY) === 'dismissed';
    } catch {
      seen = false;
    }
    this.visible = !seen;
  }

  dismiss(): void {
    this.visible = false;
    try {
      this.#storage?.setItem(STORAGE_KEY, 'dismissed');
    } catch {
      // Private mode or a full quota: the hint comes back next visit, nothing else is lost.
    }
  }
}
