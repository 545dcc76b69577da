/**
 * CRC-32 (the checksum of zip, gzip and PNG: polynomial 0xEDB88320, reflected), so that a file can
 * tell a damaged byte from a good one. Table-driven, eight bytes a step ("slicing-by-8", as zlib
 * does): table k gives the CRC of a byte followed by k zero bytes, so the eight lookups of one step
 * each account for one byte of the eight and the bytes after it. A checkpoint of gigabytes is
 * checked on every load, so the speed matters.
 */
const TABLES = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  // One more zero byte after each: T_k[n] = T_{k-1}[n] shifted through T_0.
  for (let k = 1; k < 8; k++) {
    for (let n = 0; n < 256; n++) {
      const previous = t[(k - 1) * 256 + n];
      t[k * 256 + n] = (previous >>> 8) ^ t[previous & 0xff];
    }
  }
  return t;
})();

/** The CRC-32 of the pieces one after another, as 8 lowercase hex digits. */
export function crc32(pieces: Iterable<Uint8Array>): string {
  const t = TABLES;
  let crc = 0xffffffff;
  for (const bytes of pieces) {
    let i = 0;
    const whole = bytes.length - (bytes.length % 8);
    for (; i < whole; i += 8) {
      const one = crc ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
      const two = bytes[i + 4] | (bytes[i + 5] << 8) | (bytes[i + 6] << 16) | (bytes[i + 7] << 24);
      crc =
        t[1792 + (one & 0xff)] ^
        t[1536 + ((one >>> 8) & 0xff)] ^
        t[1280 + ((one >>> 16) & 0xff)] ^
        t[1024 + (one >>> 24)] ^
        t[768 + (two & 0xff)] ^
        t[512 + ((two >>> 8) & 0xff)] ^
        t[256 + ((two >>> 16) & 0xff)] ^
        t[two >>> 24];
    }
    for (; i < bytes.length; i++) crc = t[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  }
  return ((crc ^ 0xffffffff) >>> 0).toString(16).padStart(8, "0");
}
