// The page's end of the room worker (sdk/worker/room_worker.js): starts it
// and carries messages both ways; ask() pairs a request with its answer.
const WORKER_URL = new URL('./room_worker.js', import.meta.url);

export class RoomLink {
  // onMessage(message): everything the worker says that is not an answer.
  constructor(onMessage) {
    this.pending = new Map();
    this.nextId = 0;
    this.worker = startWorker(WORKER_URL);
    this.worker.onmessage = ({ data }) => {
      if (data.type !== 'answer') return onMessage(data);
      const waiting = this.pending.get(data.id);
      this.pending.delete(data.id);
      if (data.error !== undefined) waiting?.reject(new Error(data.error));
      else waiting?.resolve(data.value);
    };
    this.worker.onerror = (event) => {
      event.preventDefault?.();
      onMessage({ type: 'error', message: event.message || 'the room worker failed' });
    };
  }

  send(type, fields = {}, transfer = []) {
    this.worker.postMessage({ type, ...fields }, transfer);
  }

  // Resolves with the worker's answer, or rejects with its error.
  ask(type, fields = {}, transfer = []) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send(type, { ...fields, id }, transfer);
    });
  }

  close() {
    this.send('close');
    for (const { reject } of this.pending.values()) reject(new Error('closed'));
    this.pending.clear();
  }
}

// A worker must come from the page's origin. Where the SDK was loaded from
// another server, a same-origin stub loads the worker's script from there.
function startWorker(url) {
  if (url.origin === location.origin) return new Worker(url, { name: 'clubvoice' });
  const stub = new Blob([`importScripts(${JSON.stringify(url.href)});`], { type: 'text/javascript' });
  return new Worker(URL.createObjectURL(stub), { name: 'clubvoice' });
}
