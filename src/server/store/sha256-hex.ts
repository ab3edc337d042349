/** SHA-256 of `bytes` as lowercase hex, through Web Crypto so that it runs on every server runtime. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const source = bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', source));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
