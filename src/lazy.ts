/**
 * A value made on first use and kept. For what is costly to make and not needed by every command: each JSON Schema
 * validator compiles in 0.1-0.3 s, which at import time every `gridpkg` start (and every test file) paid for all of
 * them, `gridpkg pkg compare` included.
 */
export function lazily<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => {
    made ??= { value: make() };
    return made.value;
  };
}
