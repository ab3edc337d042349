/**
 * The few web-standard globals that every runtime OmniPersona supports has (browsers, workers,
 * Node 18+, Deno, Bun). The core may use these and nothing else beyond ECMAScript.
 */
declare global {
  interface TextEncoder {
    encode(input?: string): Uint8Array;
  }
  var TextEncoder: { new (): TextEncoder };
  interface TextDecoder {
    decode(input?: Uint8Array): string;
  }
  var TextDecoder: { new (label?: string): TextDecoder };
  function setTimeout(handler: () => void, timeout?: number): unknown;
  function clearTimeout(id: unknown): void;
}

export {};
