import * as tf from '@tensorflow/tfjs-core';

/*
 * The recommender's maths on tensors, forward and backward, as `modelSpec` (core/model) describes it:
 *
 *   V = item_embedding + category_embedding[category]      item vectors      [items, dim]
 *   S = H · V                                               pooled histories  [batch, dim]
 *   U = S · user_projection                                 shopper vectors   [batch, dim]
 *   L = U · Vᵀ + item_bias                                  scores            [batch, items]
 *   loss = mean over the batch of logsumexp(L) − L[target]
 *
 * H holds each history's normalised weights in its row: the weighted mean is a product, not a
 * gather. The gradients are written out rather than taken from TF.js' autodiff because:
 * `@tensorflow/tfjs-core` alone registers no gradients (its registration file loads only under a
 * bundler); `tf.gather`'s gradient is missing on WASM and walks the whole table on CPU; and the
 * built-in `matMul` gradient multiplies transposed, 2–10× slower on WASM. Here every product is
 * plain, after explicit transposes, and every kernel exists on cpu, wasm, webgl and webgpu.
 * A float64 reference in the tests checks these gradients numerically.
 */

/** The model's tensors, named as in the maths above, plus the fixed item → category rows. */
export interface RecommenderParams {
  itemEmbedding: tf.Tensor2D;
  categoryEmbedding: tf.Tensor2D;
  itemBias: tf.Tensor1D;
  userProjection: tf.Tensor2D;
  /** Category row of each item, int32. */
  categories: tf.Tensor1D;
}

/** d loss / d tensor, for each trained tensor. */
export interface RecommenderGradients {
  itemEmbedding: tf.Tensor2D;
  categoryEmbedding: tf.Tensor2D;
  itemBias: tf.Tensor1D;
  userProjection: tf.Tensor2D;
}

/** Scores of every item for each history row: L. */
export function scores(params: RecommenderParams, histories: tf.Tensor2D): tf.Tensor2D {
  return forward(params, histories).logits;
}

/** The item side of scoring, V and Vᵀ: the same for every history until the weights change. */
export interface ItemSide {
  items: tf.Tensor2D;
  itemsTransposed: tf.Tensor2D;
}

export function itemSide(params: RecommenderParams): ItemSide {
  const items = itemVectors(params);
  return { items, itemsTransposed: tf.transpose(items) };
}

/** L from a prepared item side: what serving computes per request is two small products and one wide one. */
export function scoresWith(params: RecommenderParams, side: ItemSide, histories: tf.Tensor2D): tf.Tensor2D {
  const shoppers = tf.matMul(tf.matMul(histories, side.items), params.userProjection);
  return tf.add(tf.matMul(shoppers, side.itemsTransposed), params.itemBias) as tf.Tensor2D;
}

function itemVectors(params: RecommenderParams): tf.Tensor2D {
  return tf.add(params.itemEmbedding, tf.gather(params.categoryEmbedding, params.categories)) as tf.Tensor2D;
}

/** The mean cross-entropy of predicting `targets` (item rows, int32) and its gradients. */
export function lossAndGradients(
  params: RecommenderParams,
  histories: tf.Tensor2D,
  targets: tf.Tensor1D,
): { loss: tf.Scalar; gradients: RecommenderGradients } {
  const { items, pooled, shoppers, logits } = forward(params, histories);
  const batch = histories.shape[0];
  const oneHot = tf.cast(tf.oneHot(targets, params.itemBias.shape[0]), 'float32') as tf.Tensor2D;
  const probabilities = tf.softmax(logits);
  // logsumexp(L) = max(L) − log(max(softmax(L))): softmax is ~10× faster than exp on WASM.
  const logSumExp = tf.sub(tf.max(logits, 1), tf.log(tf.max(probabilities, 1)));
  const loss = tf.mean(tf.sub(logSumExp, tf.sum(tf.mul(logits, oneHot), 1))) as tf.Scalar;

  const dLogits = tf.div(tf.sub(probabilities, oneHot), batch) as tf.Tensor2D;
  const dShoppers = tf.matMul(dLogits, items);
  const dPooled = tf.matMul(dShoppers, tf.transpose(params.userProjection));
  const dItems = tf.add(
    tf.matMul(tf.transpose(dLogits), shoppers),
    tf.matMul(tf.transpose(histories), dPooled),
  ) as tf.Tensor2D;
  const gradients: RecommenderGradients = {
    itemEmbedding: dItems,
    // scatterND sums the rows of items that share a category.
    categoryEmbedding: tf.scatterND(
      tf.reshape(params.categories, [-1, 1]),
      dItems,
      params.categoryEmbedding.shape,
    ) as tf.Tensor2D,
    itemBias: tf.sum(dLogits, 0) as tf.Tensor1D,
    userProjection: tf.matMul(tf.transpose(pooled), dShoppers),
  };
  return { loss, gradients };
}

/** Every intermediate of the forward pass, for the backward one. */
function forward(params: RecommenderParams, histories: tf.Tensor2D) {
  const items = itemVectors(params);
  const pooled = tf.matMul(histories, items);
  const shoppers = tf.matMul(pooled, params.userProjection);
  const logits = tf.add(tf.matMul(shoppers, tf.transpose(items)), params.itemBias) as tf.Tensor2D;
  return { items, pooled, shoppers, logits };
}
