// The smallest page that uses elbo: a tensor, a matmul, on the cpu backend (for the bundle size).
import { tensor } from "elbojs";

const x = tensor([[1, 2]]);
console.log(x.matmul(x, { transB: true }).dataSync());
