/** A bad Action input: reported as one clear message, the run fails before any work. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}
