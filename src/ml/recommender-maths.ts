import * as tf from '@tensorflow/tfjs-core';
import { infoNce } from './contrastive-loss.js';
import { seenItems, targetDistribution } from './target-distribution.js';

/*
 * The recommender's maths on tensors, forward and backward, as `modelSpec` (core/model) describes it.
 * For a batch of b histories of L steps (right-aligned, padding masked out; L is at most the rows of
 * position_embedding, whose last L rows it reads) and width D:
 *
 *   V  = item_embedding + category_embedding[category] + brand_embedding[brand] + price_embedding[band]
 *   H  = (V[item] + signal_embedding[signal] + position_embedding) ⊙ mask        steps    [b, L, D]
 *   h  = H[:, L−1]                                                              last step [b, D]
 *   a  = softmax over steps of (H · key_weights) · (h · query_weights) / √D     attention [b, L]
 *   s  = Σ a · H                                                                 summary  [b, D]
 *   u₀ = [s, h] · output_weights + profile · profile_weights + personal_vector           [b, D]
 *   u  = u₀ + relu(u₀ · hidden_weights) · hidden_output_weights                  shopper  [b, D]
 *   L  = u · Vᵀ + item_bias                                                      scores   [b, items]
 *   loss = mean over the batch of logsumexp(L) − L[target]
 *
 * Optionally (`seen`), L is taken over the items each history has not seen (its own items,
 * bar the target, are pushed to MASKED), as a ranking that leaves out seen items reads it.
 * Optionally, the target is smoothed (`labelSmoothing`) or mixed with a teacher model's predictions
 * (`teacher`): loss = mean of logsumexp(L) − Σ q · L, for the target distribution q.
 *
 * Optionally (CL4SRec / DuoRec), a contrastive term: u′, the shopper vectors of a second view of the
 * same histories (other steps left out, other dropout masks), and
 *   loss += λ · InfoNCE(u, u′)                                                   see infoNce
 * so that two views of one shopper land nearer each other than other shoppers' do.
 *
 * The most recent step asks which earlier steps matter for what comes next; the summary and the step
 * itself make the shopper's vector, scored against every item with the same item vectors the history
 * is read with. Dropout (training only) masks H and the hidden layer.
 *
 * The gradients are written out rather than taken from TF.js' autodiff because:
 * `@tensorflow/tfjs-core` alone registers no gradients (its registration file loads only under a
 * bundler); `tf.gather`'s gradient is missing on WASM and walks the whole table on CPU (here every
 * table gradient is one `scatterND` of the rows a batch touched); and the built-in `matMul` gradient
 * multiplies transposed, 2–10× slower on WASM. Here every product is plain, after explicit
 * transposes, and every kernel exists on cpu, wasm, webgl and webgpu. A float64 reference in the
 * tests checks these gradients numerically.
 */

/** The trained tensors, named as in the maths above. */
export interface RecommenderWeights {
  itemEmbedding: tf.Tensor2D;
  categoryEmbedding: tf.Tensor2D;
  brandEmbedding: tf.Tensor2D;
  priceEmbedding: tf.Tensor2D;
  itemBias: tf.Tensor1D;
  positionEmbedding: tf.Tensor2D;
  signalEmbedding: tf.Tensor2D;
  queryWeights: tf.Tensor2D;
  keyWeights: tf.Tensor2D;
  outputWeights: tf.Tensor2D;
  hiddenWeights: tf.Tensor2D;
  hiddenOutputWeights: tf.Tensor2D;
  profileWeights: tf.Tensor2D;
  personalVector: tf.Tensor1D;
}

/** The trained tensors plus each item's fixed side-feature rows (int32). */
export interface RecommenderParams extends RecommenderWeights {
  categories: tf.Tensor1D;
  brands: tf.Tensor1D;
  priceBands: tf.Tensor1D;
}

/** d loss / d tensor, for each trained tensor. */
export type RecommenderGradients = { [K in keyof RecommenderWeights]: RecommenderWeights[K] };

/** A batch of histories as tensors. */
export interface SequenceBatch {
  /** Item row of each step, `[b · L]`, right-aligned; padding steps hold row 0 and mask 0. */
  items: tf.Tensor1D;
  /** Signal row (event kind and recency) of each step, `[b · L]`. */
  signals: tf.Tensor1D;
  /** 1 for a real step, 0 for padding: `[b, L]`. */
  mask: tf.Tensor2D;
  /** Profile features: `[b, F]`. */
  profiles: tf.Tensor2D;
}

/** The item side of scoring, V and Vᵀ: the same for every history until the weights change. */
export interface ItemSide {
  items: tf.Tensor2D;
  itemsTransposed: tf.Tensor2D;
}

/** Dropout masks for one training step: kept units hold 1 / (1 − rate), dropped ones 0. */
export interface DropoutMasks {
  steps: tf.Tensor3D;
  hidden: tf.Tensor2D;
}

/** Padding logits are pushed this far below the real ones; finite, so that half-precision GPUs do not overflow. */
const MASKED = -1e4;

export function itemSide(params: RecommenderParams): ItemSide {
  const items = itemVectors(params);
  return { items, itemsTransposed: tf.transpose(items) };
}

/** Scores of every item for each history: L. */
export function scores(params: RecommenderParams, batch: SequenceBatch, side = itemSide(params)): tf.Tensor2D {
  const { shopper } = encode(params, batch, side.items);
  return tf.add(tf.matMul(shopper, side.itemsTransposed), params.itemBias) as tf.Tensor2D;
}

/** Dropout masks of `rate` for a batch of `size` histories of `length` steps, from `seed`. */
export function dropoutMasks(size: number, length: number, dim: number, rate: number, seed: number): DropoutMasks {
  const mask = <R extends tf.Rank>(shape: number[], offset: number) =>
    tf.div(tf.step(tf.sub(tf.randomUniform(shape, 0, 1, 'float32', seed + offset), rate)), 1 - rate) as tf.Tensor<R>;
  return { steps: mask<tf.Rank.R3>([size, length, dim], 0), hidden: mask<tf.Rank.R2>([size, dim], 1) };
}

/**
 * A second view of a batch's histories (the same shoppers with other steps left out, or under other
 * dropout masks) for the contrastive term of {@link lossAndGradients}.
 */
export interface ContrastiveView {
  /** The same histories, in the same order, as the main batch. */
  batch: SequenceBatch;
  dropout?: DropoutMasks;
  /** λ, the term's weight against the cross-entropy. */
  weight: number;
  /** τ, dividing the similarities. */
  temperature: number;
}

/** What {@link lossAndGradients} is told besides the weights, the batch and its targets. */
export interface LossOptions {
  /** Dropout masks, applied when given. */
  dropout?: DropoutMasks;
  /** The item side, built from the weights unless it is passed already built. */
  side?: ItemSide;
  /**
   * A second view of each history: the loss adds λ times the InfoNCE of each history's shopper vector
   * against its second view's (`infoNce`).
   */
  contrast?: ContrastiveView;
  /**
   * ε of label smoothing: the cross-entropy is against `(1 − ε)` on the target plus `ε` spread evenly
   * over every item, which keeps the model from pushing one item's score ever further above the
   * others'. 0 (the default) for the plain target.
   */
  labelSmoothing?: number;
  /**
   * Histories (in the batch's order) whose items, other than each target, are left out of that
   * example's softmax: a shopper's ranking leaves out what they have seen (`for-you` and the
   * evaluation do), so the model need not push those items, the nearest to what comes next, below
   * the rest. Usually the batch itself, or its histories before steps were left out of them; none
   * when omitted.
   */
  seen?: SequenceBatch;
  /**
   * Another model's predicted distribution over the items for each history (`[b, items]`, rows
   * summing to 1) and its weight α: the cross-entropy is against `(1 − α)` of the target (smoothed
   * or not) plus `α` of these predictions, so that the model also learns which other items were
   * likely next (knowledge distillation). None when omitted.
   */
  teacher?: { probabilities: tf.Tensor2D; weight: number };
}

/**
 * The mean cross-entropy of predicting `targets` (item rows, int32), and its gradients, under
 * `options` (dropout, a prebuilt item side, a contrastive view, label smoothing): the gradients are
 * of the whole loss.
 */
export function lossAndGradients(
  params: RecommenderParams,
  batch: SequenceBatch,
  targets: tf.Tensor1D,
  options: LossOptions = {},
): { loss: tf.Scalar; gradients: RecommenderGradients } {
  const { dropout, contrast, labelSmoothing = 0, teacher } = options;
  const side = options.side ?? itemSide(params);
  const forward = encode(params, batch, side.items, dropout);
  const { shopper } = forward;
  const size = shopper.shape[0];
  const items = params.itemBias.shape[0];
  const oneHot = tf.cast(tf.oneHot(targets, items), 'float32') as tf.Tensor2D;
  const seen = options.seen && seenItems(options.seen, oneHot);
  let logits = tf.add(tf.matMul(shopper, side.itemsTransposed), params.itemBias) as tf.Tensor2D;
  if (seen) logits = tf.add(logits, tf.mul(seen, MASKED));

  const wanted = targetDistribution(oneHot, { seen, labelSmoothing, teacher });
  const probabilities = tf.softmax(logits);
  // logsumexp(L) = max(L) − log(max(softmax(L))): softmax is ~10× faster than exp on WASM. Σ q = 1,
  // so the cross-entropy against q is logsumexp(L) − Σ q · L.
  const logSumExp = tf.sub(tf.max(logits, 1), tf.log(tf.max(probabilities, 1)));
  let loss = tf.mean(tf.sub(logSumExp, tf.sum(tf.mul(logits, wanted), 1))) as tf.Scalar;

  // Scores: L = u · Vᵀ + b.
  const dLogits = tf.div(tf.sub(probabilities, wanted), size) as tf.Tensor2D;
  let dShopper = tf.matMul(dLogits, side.items) as tf.Tensor2D;
  const dItemsFromScores = tf.matMul(tf.transpose(dLogits), shopper);

  const views = [{ batch, forward, dropout }];
  const dShoppers = [dShopper];
  if (contrast) {
    const other = encode(params, contrast.batch, side.items, contrast.dropout);
    const term = infoNce(shopper, other.shopper, targets, contrast.temperature);
    loss = tf.add(loss, tf.mul(term.loss, contrast.weight));
    dShopper = tf.add(dShopper, tf.mul(term.dFirst, contrast.weight));
    dShoppers[0] = dShopper;
    views.push({ batch: contrast.batch, forward: other, dropout: contrast.dropout });
    dShoppers.push(tf.mul(term.dSecond, contrast.weight));
  }
  const parts = views.map((view, i) =>
    encoderGradients(params, view.batch, view.forward, dShoppers[i] as tf.Tensor2D, view.dropout),
  );
  // Every view's steps read item rows of V: their gradients land there together with the scores'.
  const dItems = tf.add(
    dItemsFromScores,
    rowSums(
      tf.concat(views.map((view) => view.batch.items)) as tf.Tensor1D,
      tf.concat(parts.map((part) => part.dSteps)) as tf.Tensor2D,
      items,
    ),
  ) as tf.Tensor2D;
  const [own, ...others] = parts as [EncoderGradients, ...EncoderGradients[]];
  const encoder = Object.fromEntries(
    (Object.keys(own.weights) as EncoderKey[]).map((key) => [
      key,
      others.reduce((total: tf.Tensor, part) => tf.add(total, part.weights[key]), own.weights[key]),
    ]),
  ) as EncoderGradients['weights'];
  const gradients: RecommenderGradients = {
    itemEmbedding: dItems,
    categoryEmbedding: rowSums(params.categories, dItems, params.categoryEmbedding.shape[0]),
    brandEmbedding: rowSums(params.brands, dItems, params.brandEmbedding.shape[0]),
    priceEmbedding: rowSums(params.priceBands, dItems, params.priceEmbedding.shape[0]),
    itemBias: tf.sum(dLogits, 0) as tf.Tensor1D,
    ...encoder,
  };
  return { loss, gradients };
}

/** The tensors the encoder alone reads: all but the item side's. */
type EncoderKey = Exclude<
  keyof RecommenderGradients,
  'itemEmbedding' | 'categoryEmbedding' | 'brandEmbedding' | 'priceEmbedding' | 'itemBias'
>;

/** What {@link encoderGradients} returns. */
interface EncoderGradients {
  weights: Pick<RecommenderGradients, EncoderKey>;
  /** d loss / d V[item] of each step, `[b · L, D]`, in `batch.items`' order. */
  dSteps: tf.Tensor2D;
}

/**
 * Back through {@link encode} from d loss / d shopper: the encoder's weight gradients and those of
 * the item vectors its steps read.
 */
function encoderGradients(
  params: RecommenderParams,
  batch: SequenceBatch,
  forward: ReturnType<typeof encode>,
  dShopper: tf.Tensor2D,
  dropout?: DropoutMasks,
): EncoderGradients {
  const { steps, last, query, keys, attention, joined, base, hidden, activated } = forward;
  const [size, length, dim] = steps.shape;

  // Shopper: u = u₀ + relu(u₀ · W₁) · W₂, with the hidden layer's dropout.
  const dActivated = tf.matMul(dShopper, tf.transpose(params.hiddenOutputWeights));
  const dHidden = tf.mul(tf.mul(dActivated, tf.step(hidden)), dropout?.hidden ?? 1) as tf.Tensor2D;
  const dBase = tf.add(dShopper, tf.matMul(dHidden, tf.transpose(params.hiddenWeights))) as tf.Tensor2D;

  // u₀ = [s, h] · W_o + profile · W_p + personal.
  const dJoined = tf.matMul(dBase, tf.transpose(params.outputWeights));
  const dSummary = tf.slice(dJoined, [0, 0], [size, dim]) as tf.Tensor2D;
  let dLast = tf.slice(dJoined, [0, dim], [size, dim]) as tf.Tensor2D;

  // s = Σ a · H, a = softmax(scores of keys against the query).
  const dAttention = tf.sum(tf.mul(steps, tf.expandDims(dSummary, 1)), 2) as tf.Tensor2D;
  const dLogitsOfAttention = tf.mul(
    attention,
    tf.sub(dAttention, tf.sum(tf.mul(attention, dAttention), 1, true)),
  ) as tf.Tensor2D;
  const scaled = tf.div(dLogitsOfAttention, Math.sqrt(dim));
  const dKeys = tf.mul(tf.expandDims(scaled, 2), tf.expandDims(query, 1)) as tf.Tensor3D;
  const dQuery = tf.sum(tf.mul(tf.expandDims(scaled, 2), keys), 1) as tf.Tensor2D;
  dLast = tf.add(dLast, tf.matMul(dQuery, tf.transpose(params.queryWeights))) as tf.Tensor2D;

  const flatSteps = tf.reshape(steps, [size * length, dim]) as tf.Tensor2D;
  const flatDKeys = tf.reshape(dKeys, [size * length, dim]) as tf.Tensor2D;
  const dStepOutputs = tf.add(
    tf.add(
      tf.mul(tf.expandDims(attention, 2), tf.expandDims(dSummary, 1)),
      tf.reshape(tf.matMul(flatDKeys, tf.transpose(params.keyWeights)), [size, length, dim]),
    ),
    // h = H[:, L−1]: its gradient lands on the last step only.
    tf.pad(tf.expandDims(dLast, 1), [
      [0, 0],
      [length - 1, 0],
      [0, 0],
    ]),
  );
  // H = (V[item] + signal + position) ⊙ mask ⊙ dropout.
  const dInput = tf.mul(tf.mul(dStepOutputs, tf.expandDims(batch.mask, 2)), dropout?.steps ?? 1) as tf.Tensor3D;
  const flatDInput = tf.reshape(dInput, [size * length, dim]) as tf.Tensor2D;
  return {
    dSteps: flatDInput,
    weights: {
      positionEmbedding: tf.pad(tf.sum(dInput, 0), [
        [params.positionEmbedding.shape[0] - length, 0],
        [0, 0],
      ]) as tf.Tensor2D,
      signalEmbedding: rowSums(batch.signals, flatDInput, params.signalEmbedding.shape[0]),
      queryWeights: tf.matMul(tf.transpose(last), dQuery),
      keyWeights: tf.matMul(tf.transpose(flatSteps), flatDKeys),
      outputWeights: tf.matMul(tf.transpose(joined), dBase),
      hiddenWeights: tf.matMul(tf.transpose(base), dHidden),
      hiddenOutputWeights: tf.matMul(tf.transpose(activated), dShopper),
      profileWeights: tf.matMul(tf.transpose(batch.profiles), dBase),
      personalVector: tf.sum(dBase, 0) as tf.Tensor1D,
    },
  };
}

/** V: each item's own vector plus its side features'. */
function itemVectors(params: RecommenderParams): tf.Tensor2D {
  return tf.addN([
    params.itemEmbedding,
    tableRows(params.categoryEmbedding, params.categories),
    tableRows(params.brandEmbedding, params.brands),
    tableRows(params.priceEmbedding, params.priceBands),
  ]) as tf.Tensor2D;
}

/**
 * The rows of `table` at `indices` (int32). The same result from the kernel that is fast on the active
 * backend: WASM's GatherV2 works out each element's coordinates one at a time (about 45 ms for 12,101
 * rows of 64 on the development machine) where its GatherNd copies whole rows (about 3 ms); on the
 * CPU backend it is the other way round (about 45 ms against 130 ms). The GPU backends run either as
 * one shader.
 */
function tableRows(table: tf.Tensor2D, indices: tf.Tensor1D): tf.Tensor2D {
  if (tf.getBackend() === 'cpu') return tf.gather(table, indices);
  return tf.gatherND(table, tf.reshape(indices, [-1, 1])) as tf.Tensor2D;
}

/** The gradient of a gather: the rows of `values` summed into a `[rows, D]` table at `indices` (scatterND adds duplicates). */
function rowSums(indices: tf.Tensor1D, values: tf.Tensor2D, rows: number): tf.Tensor2D {
  return tf.scatterND(tf.reshape(indices, [-1, 1]), values, [rows, values.shape[1]]) as tf.Tensor2D;
}

/** Every intermediate of the forward pass up to the shopper vector, for the backward one. */
function encode(params: RecommenderParams, batch: SequenceBatch, items: tf.Tensor2D, dropout?: DropoutMasks) {
  const [size, length] = batch.mask.shape;
  const dim = items.shape[1];
  const inputs = tf.add(tableRows(items, batch.items), tableRows(params.signalEmbedding, batch.signals));
  // Right-aligned: a batch of `length` steps reads the last `length` position rows.
  const positions = params.positionEmbedding.shape[0];
  const position = tf.slice(params.positionEmbedding, [positions - length, 0], [length, dim]);
  let steps = tf.mul(
    tf.add(tf.reshape(inputs, [size, length, dim]), position),
    tf.expandDims(batch.mask, 2),
  ) as tf.Tensor3D;
  if (dropout) steps = tf.mul(steps, dropout.steps);
  const last = tf.reshape(tf.slice(steps, [0, length - 1, 0], [size, 1, dim]), [size, dim]) as tf.Tensor2D;
  const query = tf.matMul(last, params.queryWeights);
  const keys = tf.reshape(tf.matMul(tf.reshape(steps, [size * length, dim]), params.keyWeights), [
    size,
    length,
    dim,
  ]) as tf.Tensor3D;
  const affinities = tf.add(
    tf.div(tf.sum(tf.mul(keys, tf.expandDims(query, 1)), 2), Math.sqrt(dim)),
    tf.mul(tf.sub(1, batch.mask), MASKED),
  );
  const attention = tf.softmax(affinities) as tf.Tensor2D;
  const summary = tf.sum(tf.mul(tf.expandDims(attention, 2), steps), 1) as tf.Tensor2D;
  const joined = tf.concat([summary, last], 1);
  const base = tf.addN([
    tf.matMul(joined, params.outputWeights),
    tf.matMul(batch.profiles, params.profileWeights),
    tf.broadcastTo(params.personalVector, [size, dim]),
  ]) as tf.Tensor2D;
  const hidden = tf.matMul(base, params.hiddenWeights);
  let activated = tf.relu(hidden);
  if (dropout) activated = tf.mul(activated, dropout.hidden);
  const shopper = tf.add(base, tf.matMul(activated, params.hiddenOutputWeights)) as tf.Tensor2D;
  return { steps, last, query, keys, attention, summary, joined, base, hidden, activated, shopper };
}
