import { CommandUnavailableError } from '../actors/commands.ts';
import { MooringError } from '../errors.ts';

/** An actor's answer to a command, or a 503 (with Retry-After) when it did not come in time. */
export async function commanded<R>(pending: Promise<R>): Promise<R> {
  try {
    return await pending;
  } catch (error) {
    if (error instanceof CommandUnavailableError)
      throw new MooringError('busy', undefined, {}, { cause: error });
    throw error;
  }
}
