/**
 * What `engram memorize` reads: the source for a kind of media, the vectors it yields and the shape
 * to turn vectors back into media. The kind comes from the file type unless `--kind` says.
 */
import { existsSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { Observable, map, toArray } from 'rxjs';
import { EngramError } from '../errors.ts';
import { videoFrames$, type Frame } from '../sources/video.ts';

export type MediaKind = 'video' | 'audio' | 'images';

export type InputSpec =
  | { kind: 'video'; path: string; width: number; height: number; gray: boolean; frames?: number; fps?: number; start?: number; duration?: number }
  | { kind: 'audio'; path: string; rate: number; chunkSeconds: number; partial: 'drop' | 'pad'; maxChunks?: number }
  | { kind: 'images'; path: string; width: number; height: number; gray: boolean };

/** How to turn a vector back into media. */
export type MediaShape =
  | { kind: 'video' | 'images'; width: number; height: number; channels: 1 | 3; fps: number }
  | { kind: 'audio'; rate: number; samples: number };

export interface LoadedInput {
  vectors: Float32Array[];
  shape: MediaShape;
  /** Things the user should know about how the input was read (resizing, dropped samples…). */
  notes: string[];
}

const AUDIO = new Set(['.wav', '.wave', '.mp3', '.ogg', '.oga', '.opus', '.flac', '.m4a', '.aac', '.aif', '.aiff', '.wma']);
const IMAGES = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.gif', '.webp', '.tif', '.tiff']);

/** video unless the path is a directory or glob (images) or has an audio extension. */
export function detectKind(path: string): MediaKind {
  if (path.includes('*') || path.includes('?') || (existsSync(path) && statSync(path).isDirectory())) return 'images';
  const ext = extname(path).toLowerCase();
  if (AUDIO.has(ext)) return 'audio';
  if (IMAGES.has(ext)) return 'images';
  return 'video';
}

export function loadInput(spec: InputSpec): Observable<LoadedInput> {
  switch (spec.kind) {
    case 'video':
      return videoFrames$(spec.path, spec).pipe(
        toArray(),
        map((frames: Frame[]) => ({
          vectors: frames.map((f) => f.data),
          shape: { kind: 'video', width: frames[0].width, height: frames[0].height, channels: frames[0].channels, fps: spec.fps ?? 12 },
          notes: [],
        })),
      );
    default:
      throw new EngramError('E_BAD_ARGUMENT', `reading ${spec.kind} is not available in this build`);
  }
}
