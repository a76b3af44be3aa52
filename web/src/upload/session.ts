/**
 * One upload engine per signed-in user for the life of the page, so leaving
 * the upload page does not stop the transfers and coming back shows them.
 */
import { uploadApi } from '../api/uploads';
import { browserConnectivity, sha256Hex, xhrTransport } from './browser';
import { localResumeStore } from './resume-store';
import { UploadEngine } from './engine';

let current: { owner: string; engine: UploadEngine } | undefined;

export function uploadEngineFor(ownerSub: string): UploadEngine {
  if (current?.owner !== ownerSub) {
    current?.engine.cancel();
    current = {
      owner: ownerSub,
      engine: new UploadEngine({ api: uploadApi, transport: xhrTransport, store: localResumeStore(ownerSub), connectivity: browserConnectivity, hash: sha256Hex }),
    };
  }
  return current.engine;
}

/** A subscription that tells React at most every `intervalMs` (progress events come by the hundred). */
export function throttledSubscribe(engine: UploadEngine, intervalMs = 200): (listener: () => void) => () => void {
  return (listener) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const unsubscribe = engine.subscribe(() => {
      timer ??= setTimeout(() => {
        timer = undefined;
        listener();
      }, intervalMs);
    });
    return () => {
      if (timer) clearTimeout(timer);
      unsubscribe();
    };
  };
}
