/**
 * UTF-8 length of a string without allocating (TextEncoder would copy every message). Lone
 * surrogates count 3 bytes, as they are sent as U+FFFD.
 *
 * @example
 * utf8Length('héllo') // 6
 */
export function utf8Length(text: string): number {
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
