/** Smoke run of the prototype: npx tsx bench/smoke-fit.ts → frames, final MSE, seconds. */
import { footagePath } from './footage.ts';
import { selectBackend } from '../engine/backend.ts';
import { createFcModel } from '../engine/model.ts';
import { makeDataset } from '../engine/objectives.ts';
import { readVideoFrames } from '../sources/video.ts';
import { contractiveFit } from './contractive-fit.ts';
await selectBackend();
const frames = (await readVideoFrames(footagePath('astronaut-orbit.mp4'), { width: 32, height: 32, gray: true })).map((f) => f.data);
const m = createFcModel({ kind: 'fc', dim: 1024, width: 512, depth: 2, activation: 'relu', bias: true, init: 'torch', seed: 1 });
const r = contractiveFit(m, makeDataset('cycle', [frames]));
console.log(frames.length, r.finalMse, r.seconds.toFixed(2));
