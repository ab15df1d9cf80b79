// Text from outside (a server's answer, a command-line argument) inside one of
// our sentences: a newline, another control character or a bidi override in
// it would break the line or reorder what the user reads. They are shown
// escaped instead (`\u000a`), the rest as it is.
export function shown(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
