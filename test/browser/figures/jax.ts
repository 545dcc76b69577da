// jax-js doing the same, for the bundle size.
import { numpy as np } from "@jax-js/jax";

const x = np.array([[1, 2]]);
console.log(await np.matmul(x, x.T).data());
