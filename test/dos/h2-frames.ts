import { connect, type TLSSocket } from 'node:tls';

/**
 * A raw HTTP/2 client that writes frames itself, as an attacker would: nothing queues or
 * coalesces what it sends, and it ignores the server's stream limits.
 */
export interface RawH2 {
  readonly socket: TLSSocket;
  /** HEADERS (GET `path`, END_STREAM) immediately followed by RST_STREAM(CANCEL). */
  headersThenReset(streamId: number, path: string): boolean;
  /** Sends one raw frame; false once the socket is gone. */
  send(type: number, flags: number, streamId: number, payload: Buffer): boolean;
  /** Resolves with the GOAWAY error code when the server sends one, or undefined when it closes. */
  readonly ended: Promise<number | undefined>;
}

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** HPACK without Huffman: indexed :method GET (2), :scheme https (7), literal :path and :authority. */
export function headerBlock(path: string, authority: string): Buffer {
  const literal = (nameIndex: number, value: string): Buffer => {
    const bytes = Buffer.from(value, 'latin1');
    if (bytes.length > 126) throw new RangeError('value too long for this tiny encoder');
    return Buffer.concat([Buffer.from([nameIndex, bytes.length]), bytes]);
  };
  // 0x0N: literal without indexing, name from the static table entry N
  return Buffer.concat([Buffer.from([0x82, 0x87]), literal(0x04, path), literal(0x01, authority)]);
}

export function rawH2(url: string): Promise<RawH2> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: hostname,
      port: Number(port),
      ALPNProtocols: ['h2'],
      rejectUnauthorized: false,
    });
    let buffer = Buffer.alloc(0);
    let settle: (code: number | undefined) => void = () => undefined;
    const ended = new Promise<number | undefined>((r) => (settle = r));
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 9) {
        const length = buffer.readUIntBE(0, 3);
        if (buffer.length < 9 + length) break;
        const type = buffer[3];
        const flags = buffer[4] ?? 0;
        const payload = buffer.subarray(9, 9 + length);
        buffer = buffer.subarray(9 + length);
        if (type === 0x4 && (flags & 0x1) === 0 && !socket.destroyed)
          socket.write(frame(0x4, 0x1, 0, Buffer.alloc(0)));
        if (type === 0x7) settle(payload.readUInt32BE(4));
      }
    });
    socket.on('close', () => settle(undefined));
    socket.on('error', () => settle(undefined));
    socket.once('secureConnect', () => {
      if (socket.alpnProtocol !== 'h2') {
        reject(new Error(`ALPN chose ${String(socket.alpnProtocol)}`));
        return;
      }
      socket.write(
        Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(0x4, 0, 0, Buffer.alloc(0))]),
      );
      const rst = Buffer.alloc(4);
      rst.writeUInt32BE(0x8); // CANCEL
      resolve({
        socket,
        ended,
        send(type, flags, streamId, payload) {
          if (socket.destroyed) return false;
          socket.write(frame(type, flags, streamId, payload));
          return true;
        },
        headersThenReset(streamId, path) {
          if (socket.destroyed) return false;
          return socket.write(
            Buffer.concat([
              frame(0x1, 0x5, streamId, headerBlock(path, hostname)),
              frame(0x3, 0, streamId, rst),
            ]),
          );
        },
      });
    });
    socket.once('error', reject);
  });
}
