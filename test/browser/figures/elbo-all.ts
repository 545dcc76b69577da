// The same page choosing its backend at run time, so every backend is in the bundle.
import { tensor, useBackend } from "elbojs";

await useBackend(new URLSearchParams(location.search).get("backend") ?? "auto");
const x = tensor([[1, 2]]);
console.log(await x.matmul(x, { transB: true }).data());
