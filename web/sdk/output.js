// Where the room's sound leaves the page, after the volume. Two paths:
//   'low-latency' (the default): straight into the AudioContext's destination.
//   'background': through a MediaStreamAudioDestinationNode into an <audio>
//   element, and not into the destination as well (the room would play
//   twice). Phones stop a page's AudioContext output when the screen locks
//   or the page goes to the background (iOS does), but keep a playing media
//   element going as media playback, with the Media Session's lock-screen
//   controls. The element adds a buffer of its own, which the latency
//   figures do not see: hence not the default.
// The decoder, the jitter buffer, the volume and the analyser are the same
// on both paths; only the last hop differs.
export const PLAYBACK = ['low-latency', 'background'];

// An unknown or missing choice plays the default path.
export function playbackPath(value) {
  return PLAYBACK.includes(value) ? value : PLAYBACK[0];
}

export class Output {
  // source: the volume's GainNode. element: an <audio> element of the page's
  // own to play through, else one is made when first needed. onStopped: the
  // element stopped without being asked (the system paused it, e.g. for a
  // call), so that listening can say so.
  constructor(source, { element = null, onStopped = () => {} } = {}) {
    this.source = source;
    this.ctx = source.context;
    this.given = element;
    this.element = null;
    this.dest = null;
    this.path = null;
    this.wantPlaying = false;
    this.onStopped = onStopped;
  }

  // Routes the sound to `path` ('low-latency' | 'background').
  use(path) {
    if (path === this.path) return;
    this.source.disconnect();
    if (path === 'background') {
      this.dest ??= this.ctx.createMediaStreamDestination();
      this.source.connect(this.dest);
      this.mediaElement();
    } else {
      this.source.connect(this.ctx.destination);
      this.stopElement();
    }
    this.path = path;
  }

  // Starts the element on the background path; call it inside the user's
  // gesture, as browsers let a media element play only then. Resolves once
  // it plays (at once on the other path).
  play() {
    if (this.path !== 'background') return Promise.resolve();
    this.wantPlaying = true;
    return this.element.play();
  }

  pause() {
    this.stopElement();
  }

  close() {
    this.stopElement();
    if (!this.element) return;
    this.element.srcObject = null;
    if (!this.given) this.element.remove();
  }

  stopElement() {
    this.wantPlaying = false;
    this.element?.pause();
  }

  mediaElement() {
    if (this.element) return this.element;
    const el = this.given ?? document.createElement('audio');
    el.srcObject = this.dest.stream;
    // In the document (hidden, it has no controls) so that the page and its
    // tests can find what plays; a page may pass its own element instead.
    if (!el.isConnected) {
      el.hidden = true;
      document.body.append(el);
    }
    el.addEventListener('pause', () => {
      // Paused by us, or playing again since: nothing to say.
      if (this.wantPlaying && el.paused) {
        this.wantPlaying = false;
        this.onStopped();
      }
    });
    this.element = el;
    return el;
  }
}
