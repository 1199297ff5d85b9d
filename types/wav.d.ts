// wav-decoder and wav-encoder ship no type definitions; these cover the parts engram uses.
declare module 'wav-decoder' {
  export interface AudioData {
    sampleRate: number;
    numberOfChannels: number;
    length: number;
    channelData: Float32Array[];
  }
  export interface DecodeOptions {
    /** decode ints as x / 2^(bits-1) for both signs instead of the default asymmetric scale */
    symmetric?: boolean;
  }
  interface Decode {
    (src: ArrayBuffer | Buffer, opts?: DecodeOptions): Promise<AudioData>;
    sync(src: ArrayBuffer | Buffer, opts?: DecodeOptions): AudioData;
  }
  export const decode: Decode;
}

declare module 'wav-encoder' {
  export interface AudioData {
    sampleRate: number;
    channelData: Float32Array[];
  }
  export interface EncodeOptions {
    /** 8, 16, 24 or 32 (integer PCM); ignored when `float` is set */
    bitDepth?: number;
    /** 32-bit IEEE float */
    float?: boolean;
    symmetric?: boolean;
  }
  interface Encode {
    (audioData: AudioData, opts?: EncodeOptions): Promise<ArrayBuffer>;
    sync(audioData: AudioData, opts?: EncodeOptions): ArrayBuffer;
  }
  export const encode: Encode;
}
