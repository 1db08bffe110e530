// A minimal event emitter for the SDK's public events (main thread).
export class Emitter {
  #handlers = new Map();

  on(event, handler) {
    if (!this.#handlers.has(event)) this.#handlers.set(event, new Set());
    this.#handlers.get(event).add(handler);
    return this;
  }

  off(event, handler) {
    this.#handlers.get(event)?.delete(handler);
    return this;
  }

  emit(event, ...args) {
    for (const handler of this.#handlers.get(event) ?? []) {
      try {
        handler(...args);
      } catch (err) {
        // One broken handler must not stop the others or the stream.
        setTimeout(() => {
          throw err;
        });
      }
    }
  }
}
