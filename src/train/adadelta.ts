/**
 * Adadelta as Zeiler (2012) and Keras define it. tfjs 4.22's AdadeltaOptimizer divides by the
 * *previous* squared-gradient accumulator instead of the updated one, so its first step is a plain
 * SGD step of size `learningRate` — with the learning rate of 4.0 that the original Whetstone
 * examples use, that step alone blows a network up. This one updates the accumulator first:
 *
 *   E[g²] ← ρ·E[g²] + (1 − ρ)·g²;  Δ = √(E[Δ²] + ε)/√(E[g²] + ε)·g;  E[Δ²] ← ρ·E[Δ²] + (1 − ρ)·Δ²;  w ← w − lr·Δ
 */
import { tf } from '../model/tf.js';

type Slot = { originalName: string; variable: tf.Variable };

export class KerasAdadelta extends tf.Optimizer {
  static get className(): string {
    return 'KerasAdadelta';
  }

  private grads: Slot[] = [];
  private updates: Slot[] = [];

  constructor(
    private learningRate: number,
    private readonly rho = 0.95,
    private readonly epsilon = 1e-7,
  ) {
    super();
  }

  /** Changes the rate from the next step on; the accumulators are kept. */
  setLearningRate(rate: number): void {
    this.learningRate = rate;
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    names.forEach((name, i) => {
      const value = tf.engine().registeredVariables[name]!;
      const gradient = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
      if (gradient === undefined || gradient === null) return;
      this.grads[i] ??= { originalName: `${name}/accum_grad`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
      this.updates[i] ??= { originalName: `${name}/accum_var`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
      const accGrad = this.grads[i]!.variable;
      const accUpdate = this.updates[i]!.variable;
      tf.tidy(() => {
        const newAccGrad = tf.add(tf.mul(accGrad, this.rho), tf.mul(tf.square(gradient), 1 - this.rho));
        const delta = tf.mul(tf.div(tf.sqrt(tf.add(accUpdate, this.epsilon)), tf.sqrt(tf.add(newAccGrad, this.epsilon))), gradient);
        accGrad.assign(newAccGrad);
        accUpdate.assign(tf.add(tf.mul(accUpdate, this.rho), tf.mul(tf.square(delta), 1 - this.rho)));
        value.assign(tf.sub(value, tf.mul(delta, this.learningRate)));
      });
    });
    this.incrementIterations();
  }

  override dispose(): void {
    [...this.grads, ...this.updates].forEach((s) => s.variable.dispose());
  }

  override async getWeights(): Promise<{ name: string; tensor: tf.Tensor }[]> {
    const slots = [...this.grads, ...this.updates];
    return [await this.saveIterations(), ...slots.map((s) => ({ name: s.originalName, tensor: s.variable }))];
  }

  override async setWeights(weights: { name: string; tensor: tf.Tensor }[]): Promise<void> {
    const rest = await this.extractIterations(weights);
    const n = rest.length / 2;
    const toSlot = (w: { name: string; tensor: tf.Tensor }): Slot => ({ originalName: w.name, variable: w.tensor.variable(false) });
    this.grads = rest.slice(0, n).map(toSlot);
    this.updates = rest.slice(n).map(toSlot);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, rho: this.rho, epsilon: this.epsilon };
  }
}
