/**
 * The backend, chosen once when a command starts: the `--backend` value checked before anything
 * else, then the selection, returned with what the CLI prints about it.
 */
import { BACKEND_ORDER, describeBackend, fallbackWarning, isBackendName, selectBackend, type BackendInfo } from '../engine/backend.ts';
import { EngramError } from '../errors.ts';

export type { BackendInfo };

/** `--backend NAME` (or ENGRAM_BACKEND, `from`) must name a backend (E_BAD_ARGUMENT naming it); undefined means "the first that works". */
export function checkBackendOption(name: string | undefined, from: '--backend' | 'ENGRAM_BACKEND' = '--backend'): void {
  if (name !== undefined && !isBackendName(name)) {
    throw new EngramError('E_BAD_ARGUMENT', `${from} must be one of ${BACKEND_ORDER.join(', ')} (got '${name}')`);
  }
}

export interface StartedBackend {
  backend: BackendInfo;
  /** Why the fast path is missing and how to get it (for stderr), or null. */
  warning: string | null;
  /** One line naming the backend, device, BLAS and threads (for people, not for --json). */
  description: string;
}

/** Select the backend (`requested`, else the first of the order that works). */
export async function startBackend(requested: string | undefined): Promise<StartedBackend> {
  const backend = await selectBackend(requested);
  return { backend, warning: fallbackWarning(backend), description: describeBackend(backend) };
}
