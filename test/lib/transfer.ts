// Exact-size TCP transfers for tests: the receiver reads to EOF and reports what arrived, so "bytes sent" is known on the wire.
// Run as a script inside a namespace: `node transfer.js serve HOST PORT` or `node transfer.js send HOST PORT BYTES`.
import { createConnection, createServer } from 'node:net';

/**
 * iperf3's byte counts are what its client wrote; when the server closes first, data still in the send buffer is
 * discarded by a RST, so the wire can carry less than iperf3 reports. Here the server waits for the client's FIN.
 */
function serve(host: string, port: number): void {
  const server = createServer((socket) => {
    let received = 0;
    socket.on('data', (chunk) => (received += chunk.length));
    socket.on('end', () => {
      process.stdout.write(`${received}\n`);
      socket.end();
      server.close();
    });
  });
  server.listen(port, host, () => process.stdout.write('listening\n'));
}

function send(host: string, port: number, bytes: number): void {
  const socket = createConnection({ host, port }, () => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let left = bytes;
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void socket.once('drain', pump);
      }
      socket.end();
    };
    pump();
  });
  socket.on('data', () => {});
  socket.on('close', (hadError) => process.exit(hadError ? 1 : 0));
}

if (require.main === module) {
  const [mode, host, port, bytes] = process.argv.slice(2);
  if (mode === 'serve') serve(host, Number(port));
  else if (mode === 'send') send(host, Number(port), Number(bytes));
  else {
    process.stderr.write('usage: transfer.js serve HOST PORT | send HOST PORT BYTES\n');
    process.exit(2);
  }
}
