/** Settings read from the environment that the topology (or the CDK stage) gives a function. */

export const requireEnv = (name: string, env: NodeJS.ProcessEnv = process.env): string => {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new Error(`Environment variable ${name} is not set`);
  }
  return value;
};

export const optionalEnv = (
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined => {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
};

/** An integer setting with a default; a present but malformed value fails loudly at cold start. */
export const intEnv = (
  name: string,
  fallback: number,
  bounds: { min: number; max: number },
  env: NodeJS.ProcessEnv = process.env,
): number => {
  const raw = optionalEnv(name, env);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < bounds.min || value > bounds.max) {
    throw new Error(
      `Environment variable ${name}=${raw} must be an integer from ${bounds.min} to ${bounds.max}`,
    );
  }
  return value;
};
