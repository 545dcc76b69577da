/** Activation layers as modules, so they can be listed in a model like PyTorch's nn.ReLU(). */
import type { Tensor } from "../autograd/tensor.ts";
import { Module } from "./module.ts";

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}
