/**
 * `npm run exercise -- <id>`: grade exercises/<id>.ts, the file you filled in, with the checks of
 * exercises/checks/<id>.ts, and print a plain verdict: each check passed, or the first that failed
 * with what went wrong and a hint. The exit code is 0 when every check passes.
 *
 *   npm run exercise -- --list                      the exercises, chapter by chapter
 *   npm run exercise -- 02-scalar-autodiff          grade exercises/02-scalar-autodiff.ts
 *   npm run exercise -- 02-scalar --file my.ts      grade another file (an id's unique prefix will do)
 *
 * The book's page grades with the same checks (book/worker.ts).
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { exercises, findExercise } from "./checks/catalog.ts";
import { formatVerdict, grade, type StudentModule } from "./checks/verdict.ts";

const here = dirname(fileURLToPath(import.meta.url));

function list(): string {
  return exercises
    .map((e) => `${e.id.padEnd(28)} chapter ${String(e.chapter).padStart(2)}  ${e.title}: ${e.teaches}`)
    .join("\n");
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { list: { type: "boolean" }, file: { type: "string" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
  if (values.list) {
    console.log(list());
    return 0;
  }
  if (values.help || positionals.length !== 1) {
    console.log("usage: npm run exercise -- <id> [--file path]   or   npm run exercise -- --list\n");
    console.log(list());
    return values.help ? 0 : 1;
  }
  const exercise = findExercise(positionals[0]);
  const file = resolve(values.file ?? join(here, `${exercise.id}.ts`));
  if (!existsSync(file)) throw new Error(`${file}: no such file to grade`);
  const student = (await import(pathToFileURL(file).href)) as StudentModule;
  const verdict = await grade(exercise, student);
  console.log(`grading ${values.file ?? `exercises/${exercise.id}.ts`}`);
  console.log(formatVerdict(verdict));
  return verdict.passed ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`exercise: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
