// Worker names, jids, methods and error messages read from Redis go into log lines.
// Anyone who can write to Redis could put a line break (or a terminal escape) in them
// and print a fake log line of their own choosing: every engine log line goes through
// these functions (see escapingLogger) so such text stays on its line, visibly.

/**
 * C0 controls, DEL, C1 controls, and the line and paragraph separators (line breaks
 * to JavaScript, and to log viewers that split on them).
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(char: string): string {
  const named = NAMED[char];
  if (named !== undefined) return named;
  const code = char.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `text` with every control character written out: a line break becomes the two
 * characters `\n`, other controls `\xNN` (`\u2028`, `\u2029` for the separators).
 * Text without any comes back unchanged.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, escapeOne);
}

/** A stack frame line as V8 writes it: indented, then "at ". */
const FRAME = /^\s+at /;

/**
 * A stack trace with its frames on their own lines, and everything else escaped: its
 * first line holds the error's message, which may come from Redis. A line break is
 * kept only where a frame line follows, so every line printed is the first one or
 * starts with "    at ", never a line that could pass for a log line.
 */
export function escapeStack(stack: string): string {
  const lines = stack.split('\n');
  let out = escapeControl(lines[0]);
  for (const line of lines.slice(1)) {
    out += (FRAME.test(line) ? '\n' : '\\n') + escapeControl(line);
  }
  return out;
}
