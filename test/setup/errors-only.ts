/**
 * `toThrow(/message/)` must see an Error. Chai, which vitest's toThrow delegates to for a string or
 * a pattern, compares the message only when the thrown value is truthy, so a function that throws
 * `undefined` or `null` passes `expect(f).toThrow(/^matmul: shapes/)` (and a promise rejected with
 * one passes `.rejects.toThrow`). A mutation run found error builders emptied to `{}` that the suite
 * let pass that way. Here toThrow and toThrowError first demand a real Error, then check as before.
 */
import { chai } from "vitest";

chai.use((api, utils) => {
  for (const name of ["toThrow", "toThrowError"]) {
    utils.overwriteMethod(
      api.Assertion.prototype,
      name,
      (original: (...args: unknown[]) => unknown) =>
        function (this: object, ...args: unknown[]) {
          if (!utils.flag(this, "negate")) {
            const subject: unknown = utils.flag(this, "object");
            const promise: unknown = utils.flag(this, "promise");
            if (promise === "rejects") requireError(api, subject, "the promise rejected with");
            else if (promise === undefined && typeof subject === "function") {
              let threw = false;
              let thrown: unknown;
              try {
                subject();
              } catch (e) {
                threw = true;
                thrown = e;
              }
              if (threw) requireError(api, thrown, "the function threw");
              // The original check sees the same outcome without running the function again.
              utils.flag(this, "object", () => {
                if (threw) throw thrown;
              });
            }
          }
          return original.apply(this, args);
        },
    );
  }
});

function requireError(api: Chai.ChaiStatic, value: unknown, what: string): void {
  if (!(value instanceof Error))
    throw new api.AssertionError(`expected an Error, but ${what} ${String(value)}`);
}
