/**
 * Loopback ports for local stream servers: an ffmpeg serving a live stream over HTTP or TCP on
 * 127.0.0.1 (`-listen 1`) for engram to read, as the live sources' tests and `npm run bench:live` do.
 */
import { createServer } from 'node:net';

/** A port nobody listens on right now (on 127.0.0.1; the system picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
