/**
 * A new run's id: a UUID of version 7 (RFC 9562, section 5.7), whose first 48 bits are the time
 * it was made in milliseconds and the rest random. Ids of runs started later sort after those of
 * earlier runs, so a list of run ids in descending order begins with the latest run: the Sensors
 * dashboard lists them so and opens on the first (dashboards/sensors.ts). Still a lowercase UUID,
 * as paths and headers expect one (RUN_ID in identity.ts).
 */
import { randomBytes } from 'node:crypto';

export const newRunId = (now: number = Date.now(), random: Buffer = randomBytes(10)): string => {
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(now, 0, 6);
  random.copy(bytes, 6, 0, 10);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x70; // version 7
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80; // the RFC's variant, 10xx
  const hex = bytes.toString('hex');
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    hex.slice(12, 16),
    hex.slice(16, 20),
    hex.slice(20),
  ].join('-');
};
