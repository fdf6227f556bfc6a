// MongoDB refuses an expression that reads a `$$name` no one defines (17276, "Use of undefined variable: name") when
// it parses the command, before touching a document; mingo would only fail (or read undefined) per document.
import { MongoCommandError } from '../errors.js';

/** System variables (uppercase) are always defined. */
const SYSTEM_VARIABLE = /^[A-Z]/;

/** Names bound inside the expression itself: $let's vars, $map/$filter's `as`, $reduce's this/value. */
function collectBoundNames(expression: unknown, bound: Set<string>): void {
  if (Array.isArray(expression)) {
    for (const item of expression) collectBoundNames(item, bound);
    return;
  }
  if (expression === null || typeof expression !== 'object' || expression.constructor !== Object) return;
  for (const [key, value] of Object.entries(expression as Record<string, unknown>)) {
    if (key === '$let' && value && typeof value === 'object') {
      const vars = (value as { vars?: unknown }).vars;
      if (vars && typeof vars === 'object') for (const name of Object.keys(vars)) bound.add(name);
    }
    if ((key === '$map' || key === '$filter') && value && typeof value === 'object') {
      const as = (value as { as?: unknown }).as;
      bound.add(typeof as === 'string' ? as : 'this');
    }
    if (key === '$reduce') {
      bound.add('this');
      bound.add('value');
    }
    collectBoundNames(value, bound);
  }
}

function firstUndefined(expression: unknown, defined: (name: string) => boolean): string | undefined {
  if (typeof expression === 'string') {
    if (!expression.startsWith('$$')) return undefined;
    const name = expression.slice(2).split('.')[0] ?? '';
    return SYSTEM_VARIABLE.test(name) || defined(name) ? undefined : name;
  }
  if (Array.isArray(expression)) {
    for (const item of expression) {
      const found = firstUndefined(item, defined);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (expression === null || typeof expression !== 'object' || expression.constructor !== Object)
    return undefined;
  for (const [key, value] of Object.entries(expression as Record<string, unknown>)) {
    // $literal's operand is data, not an expression.
    if (key === '$literal') continue;
    const found = firstUndefined(value, defined);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Throws 17276 when `expression` reads a user variable that neither `variables` nor the expression defines. */
export function assertVariablesDefined(expression: unknown, variables: object | undefined): void {
  const bound = new Set<string>();
  collectBoundNames(expression, bound);
  const name = firstUndefined(
    expression,
    (candidate) => bound.has(candidate) || (variables !== undefined && candidate in variables),
  );
  if (name !== undefined) {
    throw new MongoCommandError('Location17276', `Use of undefined variable: ${name}`);
  }
}
