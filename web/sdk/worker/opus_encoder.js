// The microphone's PCM frames to Opus packets with WebCodecs' AudioEncoder
// (the room worker): 48 kHz mono, 20 ms per packet, tuned for speech.
const RATE = 48000;

export function opusEncoderAvailable() {
  return typeof AudioEncoder === 'function' && typeof AudioData === 'function';
}

export async function createEncoder({ onPacket, onError }) {
  const base = { codec: 'opus', sampleRate: RATE, numberOfChannels: 1, bitrate: 32000 };
  const candidates = [
    { ...base, opus: { frameDuration: 20000, application: 'voip', useinbandfec: true, packetlossperc: 5 } },
    { ...base, opus: { frameDuration: 20000 } },
    base,
  ];
  for (const config of candidates) {
    const support = await AudioEncoder.isConfigSupported(config).catch(() => ({ supported: false }));
    if (support.supported) return new OpusEncoder(config, onPacket, onError);
  }
  throw new Error('this browser cannot encode Opus');
}

class OpusEncoder {
  constructor(config, onPacket, onError) {
    this.config = config;
    this.onPacket = onPacket;
    this.onError = onError;
    this.timestamp = 0; // µs
    this.open();
  }

  open() {
    this.encoder = new AudioEncoder({
      output: (chunk) => {
        const packet = new Uint8Array(chunk.byteLength);
        chunk.copyTo(packet);
        this.onPacket(packet);
      },
      error: (err) => this.onError(err),
    });
    this.encoder.configure(this.config);
  }

  encode(pcm) {
    if (this.encoder.state === 'closed') this.open();
    const data = new AudioData({
      format: 'f32-planar',
      sampleRate: RATE,
      numberOfFrames: pcm.length,
      numberOfChannels: 1,
      timestamp: this.timestamp,
      data: pcm,
    });
    this.timestamp += (pcm.length * 1e6) / RATE;
    this.encoder.encode(data);
    data.close();
  }

  close() {
    if (this.encoder.state !== 'closed') this.encoder.close();
  }
}
