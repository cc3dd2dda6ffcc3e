/** Standard base64 (RFC 4648 §4) of bytes, and back; the share link's base64url is built on it. */

/** Base64 of `bytes`, encoded 32 KiB at a time (String.fromCharCode's argument list stays small). */
export function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** The bytes of base64 text `s` (atob's errors for text that is not base64). */
export function base64ToBytes(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
