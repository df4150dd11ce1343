import type { OptimizerConfig } from '../config/schema.js';
import { tf } from '../model/tf.js';
import { KerasAdadelta } from './adadelta.js';

/** The usual learning rates: Keras's, except adadelta's 1.0 (Zeiler's; Keras ≥ 2.3 uses 0.001, which barely moves). */
export const DEFAULT_LEARNING_RATE: Record<OptimizerConfig['name'], number> = {
  adam: 0.001,
  adadelta: 1.0,
  sgd: 0.01,
  rmsprop: 0.001,
};

export function createOptimizer(config: OptimizerConfig): tf.Optimizer {
  const lr = config.learning_rate ?? DEFAULT_LEARNING_RATE[config.name];
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
