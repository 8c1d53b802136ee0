import { describe, expect, it } from "vitest";
import { reconnectDelay } from "../../src/connection/reconnect";

const policy = { max_attempts: 4, base_delay_ms: 500, max_delay_ms: 3000 };

describe("reconnectDelay", () => {
  it("doubles the step per attempt, with at least half of it fixed", () => {
    expect(reconnectDelay(policy, 1, () => 0)).toBe(250);
    expect(reconnectDelay(policy, 1, () => 1)).toBe(500);
    expect(reconnectDelay(policy, 2, () => 0)).toBe(500);
    expect(reconnectDelay(policy, 3, () => 1)).toBe(2000);
  });

  it("caps the step at max_delay_ms", () => {
    expect(reconnectDelay(policy, 4, () => 1)).toBe(3000);
    expect(reconnectDelay({ ...policy, max_attempts: 20 }, 20, () => 1)).toBe(3000);
  });

  it("stays within [step/2, step] for any random value", () => {
    for (const r of [0, 0.1, 0.5, 0.99, 1, -3, 7]) {
      const d = reconnectDelay(policy, 2, () => r);
      expect(d).not.toBeNull();
      expect(d).toBeGreaterThanOrEqual(500);
      expect(d).toBeLessThanOrEqual(1000);
    }
  });

  it("gives up after max_attempts, and for nonsense attempt numbers", () => {
    expect(reconnectDelay(policy, 5)).toBeNull();
    expect(reconnectDelay(policy, 0)).toBeNull();
    expect(reconnectDelay(policy, 1.5)).toBeNull();
    expect(reconnectDelay({ ...policy, max_attempts: 0 }, 1)).toBeNull();
  });
});
