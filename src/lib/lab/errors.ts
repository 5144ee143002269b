// Errors a lab user can cause (a bad prompt file, two models that cannot be compared): typed, saying what was
// expected and what was found, thrown before any model work starts so nothing on the page is lost.

/** A prompt or text list that cannot be used (empty, binary, too large, a line too long). */
export class LabInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabInputError';
  }
}

/** Two models, or a model and an SAE, whose residual widths differ: their activations cannot be compared. */
export class LabWidthMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabWidthMismatchError';
  }
}

/** The two models of a diff tokenise a prompt differently, so their tokens cannot be paired. */
export class LabTokenMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabTokenMismatchError';
  }
}

/**
 * A recipe file (variants.json, voice-classifier.json, emergence-golden.json; formats in models/recipe's README and
 * the lab's readers) that is not what its reader expects: a wrong `format` tag, a row of the wrong length, a value
 * that is not a finite number, a vocabulary that is not the model's. `source` names the file, `expected` and `found`
 * say what differed.
 */
export class LabFileFormatError extends Error {
  constructor(
    readonly source: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`${source}: expected ${expected}, found ${found}.`);
    this.name = 'LabFileFormatError';
  }
}
