import { describe, expect, it } from 'vitest';
import type { ContainerInfo } from '../../media/ffmpeg.ts';
import { describeStreams, fileKindOf, memorizeAs, missingStream } from '../../sources/streams.ts';

const wav: ContainerInfo = { format: 'wav', duration: 1.91, streams: [{ type: 'audio', codec: 'pcm_s16le' }] };
const mp4: ContainerInfo = { format: 'mov,mp4,m4a,3gp,3g2,mj2', streams: [{ type: 'video', codec: 'h264' }] };
const both: ContainerInfo = { format: 'mov,mp4,m4a,3gp,3g2,mj2', streams: [{ type: 'audio', codec: 'aac' }, { type: 'video', codec: 'h264' }] };
const png: ContainerInfo = { format: 'png_pipe', streams: [{ type: 'video', codec: 'png' }] };
const mp3Cover: ContainerInfo = { format: 'mp3', streams: [{ type: 'audio', codec: 'mp3' }, { type: 'video', codec: 'mjpeg', picture: true }] };
const subs: ContainerInfo = { format: 'srt', streams: [{ type: 'subtitle', codec: 'subrip' }, { type: 'subtitle', codec: 'subrip' }] };

describe('what a media file holds, from ffmpeg\'s stream listing', () => {
  it('says the streams in words', () => {
    expect(describeStreams(wav)).toBe('an audio stream (pcm_s16le)');
    expect(describeStreams(both)).toBe('an audio stream (aac) and a video stream (h264)');
    expect(describeStreams(png)).toBe('an image (png)');
    expect(describeStreams(subs)).toBe('2 subtitle streams (subrip)');
    expect(describeStreams({})).toBe('no stream ffmpeg can read');
  });

  it('names the stream a kind needs when the file lacks it, and nothing when it has it or nothing is known', () => {
    expect(missingStream('six.wav', wav, 'video')).toBe('six.wav has an audio stream (pcm_s16le) but no video stream');
    expect(missingStream('n.mp4', mp4, 'audio')).toBe('n.mp4 has a video stream (h264) but no audio stream');
    expect(missingStream('a.png', png, 'audio')).toBe('a.png is an image (png), with no audio stream');
    expect(missingStream('av.mp4', both, 'audio')).toBeUndefined();
    expect(missingStream('av.mp4', both, 'video')).toBeUndefined();
    expect(missingStream('song.mp3', mp3Cover, 'video')).toBeUndefined(); // a cover picture decodes as a frame
    expect(missingStream('junk.bin', {}, 'video')).toBeUndefined();
  });

  it('says what the file is and how to memorize it', () => {
    expect(fileKindOf(wav)).toBe('audio');
    expect(fileKindOf(mp4)).toBe('video');
    expect(fileKindOf(png)).toBe('image');
    expect(fileKindOf(subs)).toBeUndefined();
    expect(memorizeAs('audio')).toBe('memorize it as audio with --kind audio');
    expect(memorizeAs('video')).toBe('memorize it as video with --kind video');
    expect(memorizeAs('image')).toMatch(/--kind images/);
  });
});
