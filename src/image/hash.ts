import { createHash } from 'node:crypto';

/** Hex SHA-256 of the encoded bytes: identifies a photo by content, wherever it is stored or renamed. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
