/*
 * Cheap checks, before downloading a GPU backend, that the GPU is real hardware. Software GPUs
 * (SwiftShader, llvmpipe) run TF.js far slower than the WASM backend, so 'auto' skips them.
 * The few WebGPU/WebGL members used are typed here so the module needs no GPU type packages.
 */

interface AdapterLike {
  isFallbackAdapter?: boolean;
  info?: { isFallbackAdapter?: boolean };
}

interface WebGlLike {
  RENDERER: number;
  getExtension(name: string): unknown;
  getParameter(name: number): unknown;
}

interface CanvasLike {
  getContext(kind: string): unknown;
}

/** Undefined when a hardware WebGPU adapter exists; otherwise why not. */
export async function webGpuProblem(): Promise<string | undefined> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<AdapterLike | null> } } }).navigator
    ?.gpu;
  if (!gpu) return 'navigator.gpu is missing';
  const adapter = await gpu.requestAdapter();
  if (!adapter) return 'no WebGPU adapter';
  if (adapter.info?.isFallbackAdapter || adapter.isFallbackAdapter) return 'the WebGPU adapter is a software fallback';
  return undefined;
}

/** Undefined when WebGL runs on a hardware renderer; otherwise why not. */
export function webGlProblem(): string | undefined {
  const canvas = createCanvas();
  if (!canvas) return 'no canvas to draw WebGL on';
  const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGlLike | null;
  if (!gl) return 'WebGL is unavailable';
  try {
    const debug = gl.getExtension('WEBGL_debug_renderer_info') as { UNMASKED_RENDERER_WEBGL: number } | null;
    const renderer = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    return /swiftshader|llvmpipe|softpipe|software/iu.test(renderer)
      ? `the WebGL renderer is software (${renderer})`
      : undefined;
  } finally {
    (gl.getExtension('WEBGL_lose_context') as { loseContext(): void } | null)?.loseContext();
  }
}

function createCanvas(): CanvasLike | undefined {
  const scope = globalThis as {
    OffscreenCanvas?: new (width: number, height: number) => CanvasLike;
    document?: { createElement(tag: 'canvas'): CanvasLike };
  };
  if (scope.OffscreenCanvas) return new scope.OffscreenCanvas(1, 1);
  return scope.document?.createElement('canvas');
}
