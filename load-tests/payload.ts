/**
 * Readings a person would believe, and the request bodies the front end sends — shared by the
 * simulator (Node) and the k6 scripts, so this module uses no Node API: plain ECMAScript only.
 *
 * Every series (one sensor and type) has a plausible baseline, slow drift, noise and the odd
 * spike, all drawn from a generator seeded by (seed, sensor, type): the same seed gives the
 * same values in the same order.
 */

export const DEFAULT_TYPES = ['temperature', 'humidity', 'pressure'] as const;

/** mulberry32: a small, fast 32-bit generator; values in [0, 1). */
export const seededRandom = (seed: number): (() => number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** FNV-1a: a stable 32-bit hash, to derive one generator per series from the run's seed. */
export const hash32 = (text: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
};

interface SignalProfile {
  /** Typical level and how far sensors of this type spread around it. */
  base: number;
  spread: number;
  /** Amplitude of the slow drift, and of the noise of each sample. */
  drift: number;
  noise: number;
  min: number;
  max: number;
  decimals: number;
}

const PROFILES: Record<string, SignalProfile> = {
  temperature: { base: 21, spread: 3, drift: 1.5, noise: 0.08, min: -40, max: 85, decimals: 2 },
  humidity: { base: 45, spread: 10, drift: 5, noise: 0.3, min: 0, max: 100, decimals: 1 },
  pressure: { base: 1013, spread: 8, drift: 2, noise: 0.05, min: 870, max: 1085, decimals: 2 },
};
const FALLBACK_PROFILE: SignalProfile = {
  base: 50,
  spread: 20,
  drift: 5,
  noise: 0.5,
  min: 0,
  max: 1000,
  decimals: 2,
};

/** Chance that a sample is a spike (a glitch a real sensor shows now and then). */
const SPIKE_PROBABILITY = 0.002;

/** The values of one series: call it for each successive sample. */
export const signal = (seed: number, sensorId: string, type: string): (() => number) => {
  const random = seededRandom(hash32(`${seed}/${sensorId}/${type}`));
  const profile = PROFILES[type] ?? FALLBACK_PROFILE;
  const baseline = profile.base + (random() * 2 - 1) * profile.spread;
  // Drift: a slow sine (period 500–5,000 samples) plus a bounded random walk.
  const period = 500 + random() * 4500;
  const phase = random() * 2 * Math.PI;
  const scale = 10 ** profile.decimals;
  let walk = 0;
  let sample = 0;
  return () => {
    walk = Math.max(
      -profile.drift,
      Math.min(profile.drift, walk + (random() - 0.5) * profile.noise),
    );
    const drift = profile.drift * Math.sin(phase + (2 * Math.PI * sample++) / period) + walk;
    // Sum of two uniforms: a cheap bell-shaped noise.
    const noise = (random() + random() - 1) * profile.noise;
    const spike = random() < SPIKE_PROBABILITY ? (random() < 0.5 ? -1 : 1) * profile.spread * 3 : 0;
    const value = Math.max(profile.min, Math.min(profile.max, baseline + drift + noise + spike));
    return Math.round(value * scale) / scale;
  };
};

/** One reading as the front end sends it. `timestamp` is canonical ISO (what the server stores). */
export interface Reading {
  sensorId: string;
  type: string;
  reading: number;
  timestamp: string;
}

/**
 * One sensor and type of a run: its values, and timestamps that never repeat (at least 1 ms
 * apart), so every reading has its own identity (run, sensor, type, timestamp) on the server.
 */
export class Series {
  private readonly next: () => number;
  private lastMs = 0;

  constructor(
    readonly sensorId: string,
    readonly type: string,
    seed: number,
  ) {
    this.next = signal(seed, sensorId, type);
  }

  reading(nowMs: number): Reading {
    this.lastMs = Math.max(nowMs, this.lastMs + 1);
    return {
      sensorId: this.sensorId,
      type: this.type,
      reading: this.next(),
      timestamp: new Date(this.lastMs).toISOString(),
    };
  }
}

/** Sensor ids of a run: `sensor-1` … `sensor-<count>`. */
export const sensorIds = (count: number): string[] =>
  Array.from({ length: count }, (_, i) => `sensor-${i + 1}`);

/** Every series of one run, sensor by sensor. */
export const runSeries = (sensors: string[], types: readonly string[], seed: number): Series[] =>
  sensors.flatMap((sensorId) => types.map((type) => new Series(sensorId, type, seed)));

/** A reading as sent: the front end leaves the timestamp to the server. */
export type SentReading = Omit<Reading, 'timestamp'> & { timestamp?: string };

/**
 * The body of `POST /api/sensors/data`: one reading alone is the earlier front end's
 * single-reading shape; more go in `{measurements: [...]}`. The run travels in `X-Run-Id`.
 */
export const ingestBody = <R extends SentReading>(readings: R[]): R | { measurements: R[] } =>
  readings.length === 1 ? readings[0]! : { measurements: readings };

export const ingestHeaders = (
  runId: string,
  idempotencyKey: string | undefined,
  user: string,
): Record<string, string> => ({
  'Content-Type': 'application/json',
  'X-Run-Id': runId,
  'X-User': user,
  ...(idempotencyKey === undefined ? {} : { 'Idempotency-Key': idempotencyKey }),
});

/** Body of `POST /api/runs/start`; `duration` and `interval` in seconds. */
export const startRunBody = (durationSeconds: number, sensors: string[], intervalSeconds = 1) => ({
  duration: Math.max(1, Math.ceil(durationSeconds)),
  interval: Math.max(1, Math.ceil(intervalSeconds)),
  sensorIds: sensors,
});

/** The text of an error body: `message` (newer) or `error` (earlier shape), whichever is there. */
export const errorText = (body: unknown): string | undefined => {
  if (typeof body !== 'object' || body === null) return undefined;
  const { message, error } = body as { message?: unknown; error?: unknown };
  if (typeof message === 'string') return message;
  return typeof error === 'string' ? error : undefined;
};
