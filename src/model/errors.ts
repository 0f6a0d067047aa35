/**
 * Errors that say whether trying again can help. A retryable error is a passing condition (a CE or batch system
 * that does not answer, a timeout, a site lock held by another job, a plan the site changed under): the controller
 * tries the site again after a backoff. A terminal error needs a person (a bad spec, a missing or expired proxy, a
 * plan gridpkg refuses): the site stops and says why until something changes. Pure: no imports.
 */
export class GridpkgError extends Error {
  override name = 'GridpkgError';
  readonly retryable: boolean;

  constructor(message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable;
  }
}

/** A passing condition: the same work may succeed later. */
export class RetryableError extends GridpkgError {
  override name = 'RetryableError';

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { retryable: true, ...options });
  }
}

/** Needs a person: trying again without a change (of the spec, the credentials, the site) cannot help. */
export class TerminalError extends GridpkgError {
  override name = 'TerminalError';

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { retryable: false, ...options });
  }
}
