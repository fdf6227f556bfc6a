/** True when `error` is a Node system error with the given errno code (ENOENT, EEXIST...). */
export function isErrnoCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
