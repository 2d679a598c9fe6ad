/**
 * A start-up failure the user can act on, said in one sentence: the CLI prints the message
 * alone, because a stack trace would bury the one line that matters.
 */
export class StartupError extends Error {
  override name = 'StartupError';
}
