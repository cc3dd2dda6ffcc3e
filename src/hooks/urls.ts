/** Absolute URLs the worker needs: the app's base (models/ lives there) and ONNX Runtime's files. */
declare const __ORT_ASSETS_DIR__: string;

export function appBase(): string {
  return new URL(import.meta.env.BASE_URL, document.baseURI).href;
}

export function ortBase(): string {
  return new URL(__ORT_ASSETS_DIR__, appBase()).href;
}
