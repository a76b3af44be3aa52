/**
 * The JavaScript glue of the WebAssembly codecs (wasm-codecs.ts), which ship
 * no declarations: each entry exports an Emscripten module factory.
 */
declare module '@cornerstonejs/codec-charls/decodewasmjs' {
  const factory: (module: Record<string, unknown>) => Promise<Record<string, unknown>>;
  export default factory;
}
declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  const factory: (module: Record<string, unknown>) => Promise<Record<string, unknown>>;
  export default factory;
}
declare module '@cornerstonejs/codec-openjph/wasmjs' {
  const factory: (module: Record<string, unknown>) => Promise<Record<string, unknown>>;
  export default factory;
}
