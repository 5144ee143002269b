// Which text the token view shows (the prompt or one of the generated rows) and which token is inspected.
// Kept apart from the experiment: it is view state, not part of a shared link.

export type TokenSource = 'prompt' | 'baseline' | 'steered';

export class Inspector {
  source = $state<TokenSource>('prompt');
  /** Token pinned by click/tap/keyboard; hover shows another one without unpinning. */
  pinned = $state<number | null>(null);
  hovered = $state<number | null>(null);

  active = $derived(this.hovered ?? this.pinned);

  show(source: TokenSource, index: number | null = null): void {
    this.source = source;
    this.pinned = index;
    this.hovered = null;
  }
}
