/**
 * Module: a piece of a model that owns named parameters and sub-modules, like torch.nn.Module.
 * Names are dotted paths ("encoder.weight"), which is what stateDict() and checkpoints use.
 */
import { noGrad } from "../autograd/grad-mode.ts";
import type { Tensor } from "../autograd/tensor.ts";
import { checkLoadable } from "./state.ts";

export abstract class Module {
  /** Train mode (the default) or eval mode; layers that behave differently read it. */
  training = true;
  private readonly ownParameters = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  /** Register `tensor` as a parameter called `name`: it will require grad and be trained. */
  protected registerParameter(name: string, tensor: Tensor): Tensor {
    tensor.requiresGrad = true;
    tensor.name ??= name;
    this.ownParameters.set(name, tensor);
    return tensor;
  }

  protected registerModule<M extends Module>(name: string, module: M): M {
    this.children.set(name, module);
    return module;
  }

  /** Every parameter with its dotted name, this module's first, then each child's in order. */
  namedParameters(prefix = ""): [string, Tensor][] {
    const out: [string, Tensor][] = [...this.ownParameters].map(([n, t]) => [prefix + n, t]);
    for (const [name, child] of this.children) {
      for (const entry of child.namedParameters(`${prefix}${name}.`)) out.push(entry);
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Set train mode (or eval mode with false) here and in every sub-module. */
  train(mode = true): this {
    this.training = mode;
    for (const child of this.children.values()) child.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Clear every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /** Copies of all parameters by name: a snapshot that later training does not change. */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries(this.namedParameters().map(([n, t]) => [n, t.detach()]));
  }

  /**
   * Copy values into the parameters. Names and shapes must match exactly, and a float64 value is
   * not narrowed into a float32 parameter (see state.ts), else nothing is changed.
   */
  loadStateDict(state: Readonly<Record<string, Tensor>>): void {
    const params = new Map(this.namedParameters());
    const missing = [...params.keys()].filter((n) => !(n in state));
    const unexpected = Object.keys(state).filter((n) => !params.has(n));
    if (missing.length > 0 || unexpected.length > 0) {
      throw new Error(
        `loadStateDict: ${missing.length > 0 ? `missing ${missing.join(", ")}` : ""}${missing.length > 0 && unexpected.length > 0 ? "; " : ""}${unexpected.length > 0 ? `unexpected ${unexpected.join(", ")}` : ""}`,
      );
    }
    for (const [name, p] of params) checkLoadable("loadStateDict", name, state[name], p);
    noGrad(() => {
      for (const [name, p] of params) p.assign(state[name].to(p.dtype));
    });
  }
}
