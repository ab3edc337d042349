import { OmniPersonaError } from '../core/errors.js';
import type { WeightSet } from '../core/model/weights.js';

/** The server's Adam over rounds. */
export interface ServerAdamSettings {
  /** Step size of a round. */
  learningRate: number;
  /** Decay of the running mean of round updates. */
  beta1: number;
  /** Decay of the running mean of their squares. */
  beta2: number;
  /** Floor of each weight's step denominator. */
  epsilon: number;
}

/** What {@link ServerAdam} carries from round to round: kept by the store with the model it made. */
export interface ServerAdamState {
  steps: number;
  /** The running means of the rounds' gradients and of their squares, per tensor. */
  first: WeightSet;
  second: WeightSet;
}

/** Adam's usual constants, at the rate the centralized training starts from. */
export const SERVER_ADAM_DEFAULTS: ServerAdamSettings = {
  learningRate: 0.004,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-7,
};

/**
 * The server's optimizer over federated rounds (FedAdam: Reddi et al., "Adaptive Federated
 * Optimization", ICLR 2021). Each round's weighted mean update Δ is the negative of a gradient
 * (devices take plain gradient steps from the global weights); the server feeds −Δ to Adam, with
 * bias correction, so that a round of many devices is one step of a large mini-batch, as the
 * centralized training takes them.
 *
 * Devices take plain steps and the server adapts: the other way round (Adam on every device, a plain
 * average on the server), each device's fresh Adam moves every weight with any gradient by about its
 * rate, whatever the gradient's size, and the average of those sign-like steps is mostly noise.
 *
 * The moments live in the optimizer, one pair per weight; {@link step} updates them in place.
 */
export class ServerAdam {
  readonly settings: ServerAdamSettings;
  readonly #first = new Map<string, Float32Array>();
  readonly #second = new Map<string, Float32Array>();
  #steps = 0;

  constructor(settings: Partial<ServerAdamSettings> = {}, state?: ServerAdamState) {
    this.settings = { ...SERVER_ADAM_DEFAULTS, ...settings };
    if (!state) return;
    this.#steps = state.steps;
    for (const [name, tensor] of Object.entries(state.first)) this.#first.set(name, tensor.data.slice());
    for (const [name, tensor] of Object.entries(state.second)) this.#second.set(name, tensor.data.slice());
  }

  /** The moments and step count, to carry on from in another process (see the constructor). */
  state(): ServerAdamState {
    const tensors = (moments: Map<string, Float32Array>) =>
      Object.fromEntries([...moments].map(([name, data]) => [name, { shape: [data.length], data: data.slice() }]));
    return { steps: this.#steps, first: tensors(this.#first), second: tensors(this.#second) };
  }

  /** Rounds applied so far. */
  get steps(): number {
    return this.#steps;
  }

  /**
   * The global weights after a round whose weighted mean update is `meanUpdate`, at `learningRate`
   * (the settings' rate when omitted: a caller may decay it over rounds).
   * @throws OmniPersonaError `INVALID_PAYLOAD` when `meanUpdate` lacks a tensor of `global` or has another size.
   */
  step(global: WeightSet, meanUpdate: WeightSet, learningRate = this.settings.learningRate): WeightSet {
    for (const [name, tensor] of Object.entries(global)) {
      if (meanUpdate[name]?.data.length !== tensor.data.length) {
        throw new OmniPersonaError('INVALID_PAYLOAD', `Update lacks tensor "${name}" of ${tensor.data.length} values`);
      }
    }
    const { beta1, beta2, epsilon } = this.settings;
    this.#steps++;
    const firstCorrection = 1 - beta1 ** this.#steps;
    const secondCorrection = 1 - beta2 ** this.#steps;
    const next: WeightSet = {};
    for (const [name, tensor] of Object.entries(global)) {
      const update = (meanUpdate[name] as WeightSet[string]).data;
      const first = this.#moment(this.#first, name, update.length);
      const second = this.#moment(this.#second, name, update.length);
      const data = tensor.data.slice();
      for (let i = 0; i < data.length; i++) {
        const gradient = -(update[i] as number);
        const m = beta1 * (first[i] as number) + (1 - beta1) * gradient;
        const v = beta2 * (second[i] as number) + (1 - beta2) * gradient * gradient;
        first[i] = m;
        second[i] = v;
        data[i] =
          (data[i] as number) - (learningRate * (m / firstCorrection)) / (Math.sqrt(v / secondCorrection) + epsilon);
      }
      next[name] = { shape: [...tensor.shape], data };
    }
    return next;
  }

  #moment(moments: Map<string, Float32Array>, name: string, size: number): Float32Array {
    let moment = moments.get(name);
    if (moment?.length !== size) {
      moment = new Float32Array(size);
      moments.set(name, moment);
    }
    return moment;
  }
}
