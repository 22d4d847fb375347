// A refusal the person running the command can act on (a symlink in the way, a path
// outside the output folder, a file that cannot be written). The command line prints
// the message and exits 1; anything else thrown from the write stage is a defect.
export class WriteError extends Error {
  override readonly name = "WriteError";
  constructor(
    message: string,
    /** The output path concerned, relative to the output folder, when there is one. */
    readonly path?: string,
  ) {
    super(message);
  }
}
