/** File-system errors as short, one-line reasons for InputError messages. */

/** `ENOENT` → "no such file", etc.: short, one line, no stack. */
export function describeFsError(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, expected a file';
    case 'ENOTDIR':
      return 'a parent of the path is not a directory';
    default:
      return oneLine(err);
  }
}

/** The first line of an error's message, so InputError messages stay one line. */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split(/\r?\n/, 1)[0] ?? '';
}
