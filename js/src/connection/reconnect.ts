// When to try again after a lost connection: exponential backoff with jitter, up to a number of attempts.

export interface ReconnectPolicy {
  max_attempts: number;
  base_delay_ms: number;
  max_delay_ms: number;
}

/**
 * Delay before reconnect attempt `n` (1-based), or null once `max_attempts` are used up.
 * "Equal jitter": half the exponential step is fixed, half random, so clients spread out but never retry at once.
 */
export function reconnectDelay(
  policy: ReconnectPolicy,
  n: number,
  random: () => number = Math.random,
): number | null {
  if (!Number.isInteger(n) || n < 1 || n > policy.max_attempts) return null;
  const step = Math.min(policy.max_delay_ms, policy.base_delay_ms * 2 ** (n - 1));
  const half = step / 2;
  return Math.round(half + half * Math.min(1, Math.max(0, random())));
}
