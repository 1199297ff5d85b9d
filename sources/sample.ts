/**
 * What every source emits: one vector per sample (a video frame, one second of audio, an image),
 * with its position in the stream.
 */
export interface Sample {
  /** 0-based position in the stream. */
  index: number;
  /** Seconds from the start of the input (frame time, chunk start, or image order for stills). */
  timestamp: number;
  /** The vector: HWC pixels in [0, 1], or audio samples in [−1, 1]. */
  data: Float32Array;
}
