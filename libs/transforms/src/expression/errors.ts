// A problem in one expression, at a character offset. The public entry points
// turn it into an InvalidArgumentError naming the caller's field.
export class ExpressionError extends Error {
  constructor(
    readonly problem: string,
    /** 0-based offset of the offending token in the expression. */
    readonly position: number,
  ) {
    super(problem);
  }
}

/** "at position 7 of `a + `: <problem>" — positions are 1-based for people. */
export function describeExpressionError(expression: string, err: ExpressionError): string {
  return `at position ${err.position + 1} of \`${expression}\`: ${err.problem}`;
}
