/**
 * The command lines of the bench scripts: node:util's parseArgs, strict, so that a misspelt or
 * unknown flag stops the script with its name and the usage line instead of being ignored (an
 * anchor run takes ten minutes to notice), and numbers checked where they are read.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** The flags of this process's command line, or exit 2 naming what is wrong and the usage. */
export function benchFlags<O extends Options>(script: string, usage: string, options: O) {
  try {
    return parseArgs({ args: process.argv.slice(2), options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    console.error(`${script}: ${(e as Error).message}\nusage: ${usage}`);
    process.exit(2);
  }
}

/** `value` of flag `name` as a number of at least `min` (an integer unless `fractional`), or exit 2 naming it. */
export function numberFlag(
  script: string,
  name: string,
  value: string | undefined,
  { min = 1, fractional = false } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < min || (!fractional && !Number.isInteger(n))) {
    console.error(
      `${script}: --${name} must be ${fractional ? "a number" : "an integer"} of at least ${min}, got ${JSON.stringify(value)}`,
    );
    process.exit(2);
  }
  return n;
}
