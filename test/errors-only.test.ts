/**
 * The suite's toThrow (test/setup/errors-only.ts) demands a real Error: without it, a function that
 * throws undefined passes toThrow(/any message/), and so would an error builder emptied to `{}`.
 */
import { describe, expect, it } from "vitest";

const throwing = (value: unknown) => () => {
  throw value;
};

describe("toThrow with a message pattern", () => {
  it("fails on a thrown undefined, null or string, naming what was thrown", () => {
    for (const value of [undefined, null, "matmul: shapes"]) {
      expect(() => expect(throwing(value)).toThrow(/^matmul: shapes/)).toThrow(
        `expected an Error, but the function threw ${String(value)}`,
      );
      expect(() => expect(throwing(value)).toThrowError("matmul")).toThrow(/^expected an Error/);
    }
  });

  it("fails on a promise rejected with a value that is not an Error", async () => {
    await expect(expect(Promise.reject(undefined)).rejects.toThrow(/^x/)).rejects.toThrow(
      "expected an Error, but the promise rejected with undefined",
    );
  });

  it("still checks a real Error's message, running the function once", () => {
    let calls = 0;
    const f = () => {
      calls++;
      throw new Error("matmul: shapes [2, 3] and [4, 5]");
    };
    expect(f).toThrow(/^matmul: shapes \[2, 3\]/);
    expect(calls).toBe(1);
    expect(() => expect(f).toThrow(/^reshape/)).toThrow();
    expect(() => 1).not.toThrow();
    expect(() => expect(() => 1).toThrow(/x/)).toThrow(/to throw an error/);
  });
});
