// Writing big chunks to stdout (or any stream) with backpressure, and a quiet stop when the reader goes away (| head).
import type { Writable } from 'node:stream';

export class ChunkWriter {
  /** Set when the reader closed the pipe (EPIPE): the producer should stop, and the exit is not an error. */
  closedByReader = false;
  private error: Error | undefined;

  constructor(private readonly out: Writable) {
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.closedByReader = true;
      else this.error = err;
    });
  }

  /** Resolves when the stream can take more; a write never waits for the data to reach the reader. */
  async write(chunk: string): Promise<void> {
    if (this.error) throw this.error;
    if (this.closedByReader || chunk.length === 0) return;
    if (!this.out.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.out.off('drain', done);
          this.out.off('error', done);
          this.out.off('close', done);
          resolve();
        };
        this.out.on('drain', done);
        this.out.on('error', done);
        this.out.on('close', done);
      });
    }
  }

  /** Waits until everything written so far has been handed to the OS. */
  async end(): Promise<void> {
    if (this.closedByReader) return;
    await new Promise<void>((resolve) => {
      if (this.out.writableLength === 0) return resolve();
      this.out.once('drain', () => resolve());
      this.out.once('error', () => resolve());
    });
    if (this.error) throw this.error;
  }
}
