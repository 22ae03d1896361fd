/** A character outside ASCII, where UTF-8 bytes and UTF-16 units stop being one to one. */
export const NON_ASCII = /[^\0-\x7f]/;

/**
 * UTF-8 length of a string without allocating (TextEncoder would copy every message). Lone
 * surrogates count 3 bytes, as they are sent as U+FFFD.
 *
 * @example
 * utf8Length('héllo') // 6
 */
export function utf8Length(text: string): number {
  if (!NON_ASCII.test(text)) return text.length; // a native scan, several times the loop's speed
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 2 UTF-16 units, 4 UTF-8 bytes
      i++;
    } else bytes += 2; // the rest of the BMP, and lone surrogates (sent as U+FFFD, 3 bytes)
  }
  return bytes;
}

/**
 * Where the `bytes` UTF-8 bytes of `text` that start at index `start` end (an index), or -1 when
 * they end inside a character or past the end of `text`. Counts as `utf8Length` does.
 *
 * @example
 * utf8End('aé b', 0, 3) // 2
 */
export function utf8End(text: string, start: number, bytes: number): number {
  let i = start;
  while (bytes > 0 && i < text.length) {
    const c = text.charCodeAt(i++);
    if (c < 0x80) bytes--;
    else if (c < 0x800) bytes -= 2;
    else if (c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i) & 0xfc00) === 0xdc00) {
      bytes -= 4;
      i++;
    } else bytes -= 3;
  }
  return bytes === 0 ? i : -1;
}
