// Structure of csh-style {a,b} alternatives in a pkg_match pattern (lib/opattern.c alternate_match).

/** More alternatives than any sane pattern has; pkg_install would expand them all, exponentially. */
export const MAX_ALTERNATIVES = 1024;

/**
 * How many plain patterns the alternatives expand to, or -1 when a '{' is never closed (pkg_install exits with
 * "Malformed alternate"). A '}' without '{' is an ordinary character, as in alternate_match.
 * Saturates at MAX_ALTERNATIVES + 1 so nested groups cannot overflow.
 */
export function countAlternatives(pattern: string): number {
  const cap = MAX_ALTERNATIVES + 1;
  const stack: Array<{ outer: number; sum: number }> = [];
  let product = 1;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '{') {
      stack.push({ outer: product, sum: 0 });
      product = 1;
    } else if (c === ',' && stack.length > 0) {
      const top = stack[stack.length - 1] as { outer: number; sum: number };
      top.sum = Math.min(cap, top.sum + product);
      product = 1;
    } else if (c === '}' && stack.length > 0) {
      const top = stack.pop() as { outer: number; sum: number };
      product = Math.min(cap, top.outer * Math.min(cap, top.sum + product));
    }
  }
  return stack.length > 0 ? -1 : product;
}
