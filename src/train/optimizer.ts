import type { OptimizerConfig } from '../config/schema.js';
import { tf } from '../model/tf.js';
import { KerasAdadelta } from './adadelta.js';

/**
 * Default learning rates: Keras's, except adadelta's 4.0, the rate of the original Whetstone examples
 * (Severa et al., github.com/SNL-NERL/Whetstone, examples/*.py). Adadelta at that rate sharpens with
 * almost no accuracy loss, where Adam loses several points as each layer becomes a step (docs/results.md).
 */
export const DEFAULT_LEARNING_RATE: Record<OptimizerConfig['name'], number> = {
  adam: 0.001,
  adadelta: 4.0,
  sgd: 0.01,
  rmsprop: 0.001,
};

/** The rate `config` asks for, or the optimizer's default. */
export function baseLearningRate(config: OptimizerConfig): number {
  return config.learning_rate ?? DEFAULT_LEARNING_RATE[config.name];
}

/**
 * Changes the learning rate of an optimizer made by {@link createOptimizer}, keeping its state
 * (moments, accumulators). tfjs's SGD and momentum optimizers cache the rate in a scalar and have
 * `setLearningRate`; Adam and RMSProp read their `learningRate` field at every step.
 */
export function setLearningRate(optimizer: tf.Optimizer, rate: number): void {
  // By class name: tfjs's Optimizer overrides `instanceof` to match any optimizer.
  const target = optimizer as unknown as { setLearningRate?: (r: number) => void; learningRate: number };
  switch (optimizer.getClassName()) {
    case KerasAdadelta.className:
    case 'SGD':
    case 'Momentum':
      target.setLearningRate!(rate);
      return;
    case 'Adam':
    case 'RMSProp':
      target.learningRate = rate;
      return;
    default:
      throw new Error(`setLearningRate: unsupported optimizer ${optimizer.getClassName()}`);
  }
}

export function createOptimizer(config: OptimizerConfig): tf.Optimizer {
  const lr = baseLearningRate(config);
  const momentum = config.momentum ?? 0;
  switch (config.name) {
    case 'adam':
      return tf.train.adam(lr);
    case 'adadelta':
      return new KerasAdadelta(lr);
    case 'sgd':
      return momentum > 0 ? tf.train.momentum(lr, momentum) : tf.train.sgd(lr);
    case 'rmsprop':
      return tf.train.rmsprop(lr, 0.9, momentum);
  }
}
