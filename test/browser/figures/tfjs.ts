// TensorFlow.js doing the same, for the bundle size.
import * as tf from "@tensorflow/tfjs";

const x = tf.tensor2d([[1, 2]]);
console.log(tf.matMul(x, x, false, true).dataSync());
