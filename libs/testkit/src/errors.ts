/** Why a dtm stack could not be started: the message says what to do about it. */
export class TestkitError extends Error {
  override name = 'TestkitError';
}
