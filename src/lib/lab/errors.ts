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
