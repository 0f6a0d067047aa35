/**
 * Label expressions choose sites by their labels, as pkg_chk's tags do: `physics and not legacy`,
 * `el9 or el8`, `(el8 or el9) and not test`. Operators are the words `and`, `or`, `not` (lower case) and
 * parentheses; `not` binds tighter than `and`, which binds tighter than `or`. Labels use the name characters
 * (letters, digits, ".", "_", "-"). Pure: parse once, evaluate per site.
 */
import { specText } from './diagnostics.js';

export type LabelExpr =
  | { type: 'label'; name: string; offset: number }
  | { type: 'not'; operand: LabelExpr }
  | { type: 'and' | 'or'; left: LabelExpr; right: LabelExpr };

export interface LabelExprError {
  /** Offset of the problem inside the expression text (0-based). */
  offset: number;
  message: string;
  hint?: string;
}

export const OPERATOR_WORDS: readonly string[] = ['and', 'or', 'not'];

const SYNTAX_HINT = 'combine labels with and, or, not and parentheses, e.g. "physics and not legacy"';
const SPELLED: Record<string, string> = { '&&': 'and', '&': 'and', '||': 'or', '|': 'or', '!': 'not' };

interface Token {
  kind: 'word' | '(' | ')' | 'end';
  text: string;
  offset: number;
}

function tokenize(text: string): Token[] | LabelExprError {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '(' || c === ')') {
      tokens.push({ kind: c, text: c, offset: i });
      i++;
    } else {
      const word = /^[A-Za-z0-9._-]+/.exec(text.slice(i))?.[0];
      if (word === undefined) {
        const symbol = /^(&&|\|\||[&|!])/.exec(text.slice(i))?.[0];
        const instead = symbol === undefined ? undefined : SPELLED[symbol];
        return {
          offset: i,
          message: `unexpected ${specText(JSON.stringify(symbol ?? c))} in label expression`,
          hint: instead ? `write "${instead}" instead of "${symbol}"` : SYNTAX_HINT,
        };
      }
      tokens.push({ kind: 'word', text: word, offset: i });
      i += word.length;
    }
  }
  tokens.push({ kind: 'end', text: '', offset: text.length });
  return tokens;
}

class ParseFailure {
  constructor(readonly error: LabelExprError) {}
}

export function parseLabelExpr(text: string): { expr: LabelExpr } | { error: LabelExprError } {
  const tokens = tokenize(text);
  if (!Array.isArray(tokens)) return { error: tokens };
  if (tokens.length === 1)
    return { error: { offset: 0, message: 'empty label expression', hint: SYNTAX_HINT } };
  let position = 0;
  const peek = (): Token => tokens[position] as Token;
  const fail = (token: Token, message: string, hint: string = SYNTAX_HINT): never => {
    throw new ParseFailure({ offset: token.offset, message, hint });
  };
  const isWord = (token: Token, word: string) => token.kind === 'word' && token.text === word;

  const parseOr = (): LabelExpr => {
    let left = parseAnd();
    while (isWord(peek(), 'or')) {
      position++;
      left = { type: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): LabelExpr => {
    let left = parseUnary();
    while (isWord(peek(), 'and')) {
      position++;
      left = { type: 'and', left, right: parseUnary() };
    }
    return left;
  };
  const parseUnary = (): LabelExpr => {
    if (isWord(peek(), 'not')) {
      position++;
      return { type: 'not', operand: parseUnary() };
    }
    return parsePrimary();
  };
  const parsePrimary = (): LabelExpr => {
    const token = peek();
    const after = position > 0 ? tokens[position - 1] : undefined;
    const wanted =
      after === undefined
        ? 'expected a label'
        : `expected a label or "(" after ${JSON.stringify(after.text)}`;
    if (token.kind === '(') {
      position++;
      const inner = parseOr();
      if (peek().kind !== ')') {
        fail(token, 'unclosed "(" in label expression', 'add the matching ")"');
      }
      position++;
      return inner;
    }
    if (token.kind === 'word' && !OPERATOR_WORDS.includes(token.text)) {
      position++;
      return { type: 'label', name: token.text, offset: token.offset };
    }
    if (token.kind === 'end') return fail(token, `${wanted}, found the end of the expression`);
    return fail(token, `${wanted}, found ${JSON.stringify(token.text)}`);
  };

  try {
    const expr = parseOr();
    const rest = peek();
    if (rest.kind === ')')
      fail(rest, 'unexpected ")" in label expression', 'remove it or add the matching "("');
    if (rest.kind !== 'end') {
      fail(rest, `expected "and" or "or" before ${JSON.stringify(rest.text)}`);
    }
    return { expr };
  } catch (failure) {
    if (failure instanceof ParseFailure) return { error: failure.error };
    throw failure;
  }
}

export function evaluateLabelExpr(expr: LabelExpr, labels: ReadonlySet<string>): boolean {
  switch (expr.type) {
    case 'label':
      return labels.has(expr.name);
    case 'not':
      return !evaluateLabelExpr(expr.operand, labels);
    case 'and':
      return evaluateLabelExpr(expr.left, labels) && evaluateLabelExpr(expr.right, labels);
    case 'or':
      return evaluateLabelExpr(expr.left, labels) || evaluateLabelExpr(expr.right, labels);
  }
}

/** Every label the expression names, with its offset. */
export function labelsOf(expr: LabelExpr): Array<{ name: string; offset: number }> {
  switch (expr.type) {
    case 'label':
      return [{ name: expr.name, offset: expr.offset }];
    case 'not':
      return labelsOf(expr.operand);
    default:
      return [...labelsOf(expr.left), ...labelsOf(expr.right)];
  }
}
