import { connect } from 'node:net';

/**
 * Sends raw bytes to host:port and collects everything the server answers until it closes the
 * connection, or `idleMs` passes without data once something arrived (`firstByteMs` before the
 * first byte, generous for loaded machines). Returns the raw text.
 */
export function rawRequest(
  url: string,
  payload: string | Buffer,
  idleMs = 500,
  firstByteMs = 10_000,
): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let data = '';
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(data);
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(finish, data ? idleMs : firstByteMs);
    };
    socket.on('connect', () => {
      socket.write(payload);
      arm();
    });
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      arm();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (error) => (data ? finish() : reject(error)));
  });
}

/** Status codes of every response in a raw HTTP/1.1 answer, in order. */
export function statuses(raw: string): number[] {
  return [...raw.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
}
