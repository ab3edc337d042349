/**
 * Every TF.js kernel the recommender runs: selecting a backend (its test product), loading weights,
 * training with either optimizer, dropout, the pull toward the start weights and the contrastive
 * term, scoring and reading the weights back. The browser bundles register only these on each backend (`vite.config.ts`), which
 * keeps the backends' kernels for everything else out of the download. `test/unit/ml/model-kernels.test.ts`
 * runs the model and fails when it uses a kernel this list lacks, or when the list names one it no longer uses.
 */
export const MODEL_KERNELS = [
  'Add',
  'AddN',
  'BatchMatMul',
  'Cast',
  'Concat',
  'Equal',
  'Exp',
  'ExpandDims',
  'GatherNd',
  'GatherV2',
  'Identity',
  'Log',
  'Max',
  'Mean',
  'Multiply',
  'OneHot',
  'PadV2',
  'RealDiv',
  'Relu',
  'Reshape',
  'ScatterNd',
  'Slice',
  'Softmax',
  'Sqrt',
  'Square',
  'Step',
  'Sub',
  'Sum',
  'Tile',
  'Transpose',
  'ZerosLike',
] as const;
