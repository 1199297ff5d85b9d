/**
 * What a media file holds, in words, from ffmpeg's listing of its streams (`probeContainer`): so a
 * file read as the wrong kind (a WAV as video, a video as audio) is refused by what it is, not by
 * ffmpeg's "Output file #0 does not contain any stream".
 */
import type { ContainerInfo, ContainerStream } from '../media/ffmpeg.ts';

/** The kind of input a file is, as engram reads it: moving pictures, sound, or one still image. */
export type FileKind = 'video' | 'audio' | 'image';

/** A still image: ffmpeg reads it with an image demuxer (png_pipe, jpeg_pipe, image2, …). */
export function isStillImage(info: ContainerInfo): boolean {
  return /(^|,)image2$|_pipe$/.test(info.format ?? '');
}

/** What the file is, or undefined when ffmpeg listed no stream of video or audio (it could not read it, or it holds only subtitles/data). */
export function fileKindOf(info: ContainerInfo): FileKind | undefined {
  const s = info.streams ?? [];
  if (s.some((x) => x.type === 'video')) return isStillImage(info) ? 'image' : 'video';
  if (s.some((x) => x.type === 'audio')) return 'audio';
  return undefined;
}

const TYPE_WORD: Record<ContainerStream['type'], string> = { video: 'video', audio: 'audio', subtitle: 'subtitle', data: 'data', attachment: 'attachment' };

/** "an audio stream (pcm_s16le)", "a video stream (h264) and an audio stream (aac)", "an image (png)", "2 audio streams (aac, mp3)". */
export function describeStreams(info: ContainerInfo): string {
  const s = info.streams ?? [];
  if (!s.length) return 'no stream ffmpeg can read';
  if (isStillImage(info)) return `an image (${s[0].codec})`;
  const types = [...new Set(s.map((x) => x.type))];
  const parts = types.map((t) => {
    const of = s.filter((x) => x.type === t);
    const codecs = [...new Set(of.map((x) => x.codec))].join(', ');
    const word = TYPE_WORD[t];
    return of.length === 1 ? `${word === 'audio' || word === 'attachment' ? 'an' : 'a'} ${word} stream (${codecs})` : `${of.length} ${word} streams (${codecs})`;
  });
  return parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

/**
 * The sentence that says `label` lacks the stream a `wanted` input needs, e.g. "six.wav has an audio
 * stream (pcm_s16le) but no video stream"; undefined when it has one (a cover picture counts as
 * video) or when ffmpeg listed no streams at all (then nothing is known about it).
 */
export function missingStream(label: string, info: ContainerInfo, wanted: 'video' | 'audio'): string | undefined {
  const s = info.streams ?? [];
  if (!s.length || s.some((x) => x.type === wanted)) return undefined;
  return isStillImage(info) ? `${label} is ${describeStreams(info)}, with no ${wanted} stream` : `${label} has ${describeStreams(info)} but no ${wanted} stream`;
}

/** How to memorize a file of this kind: "memorize it as audio with --kind audio". */
export function memorizeAs(kind: FileKind | undefined): string {
  switch (kind) {
    case 'audio':
      return 'memorize it as audio with --kind audio';
    case 'video':
      return 'memorize it as video with --kind video';
    case 'image':
      return 'memorize images with --kind images (a directory or glob of them, e.g. dir/*.png)';
    default:
      return 'pass a file that holds video or audio';
  }
}
