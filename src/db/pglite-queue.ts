import type { PGlite } from '@electric-sql/pglite';

// pglite-socket's own queue runs one protocol *message* at a time and keeps a connection's turn
// only inside a transaction. In the extended protocol a query is several messages (Parse, Bind,
// Describe, Execute, Sync) sharing the unnamed statement and portal, so two pooled connections
// interleaved mid-query and read each other's portals: "portal does not exist" errors and, worse,
// one connection's rows answering another's query. This queue keeps a connection's turn until its
// query cycle ends (Sync, or a simple Query) and, as before, for as long as a transaction is open.

const SYNC = 0x53; // 'S'
const QUERY = 0x51; // 'Q'
const TERMINATE = 0x58; // 'X'
const PROTOCOL_3 = 196608;

interface Item {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: unknown) => void;
}

function endsCycle(message: Uint8Array): boolean {
  const type = message[0];
  if (type === SYNC || type === QUERY || type === TERMINATE) return true;
  // The startup message has no type byte: length, then the protocol version.
  return message.length >= 8 && new DataView(message.buffer, message.byteOffset, message.byteLength).getInt32(4) === PROTOCOL_3;
}

export class CycleAwareQueryQueue {
  private readonly queue: Item[] = [];
  private processing = false;
  /** The connection whose query cycle or transaction is in progress. */
  private owner: number | null = null;

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      void this.process();
    });
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  clearQueueForHandler(handlerId: number): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const item = this.queue[i] as Item;
      if (item.handlerId !== handlerId) continue;
      this.queue.splice(i, 1);
      item.reject(new Error('Handler disconnected'));
    }
  }

  /** A connection went away: end what it left open so the others can go on. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    this.owner = null;
    void this.process();
  }

  private async process(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        const index = this.owner === null ? 0 : this.queue.findIndex((item) => item.handlerId === this.owner);
        if (index === -1) return; // the owner's next message will restart processing
        const [item] = this.queue.splice(index, 1) as [Item];
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(item.message, {
              onRawData: (data) => {
                bytes += data.length;
                item.onData(data);
              },
            }),
          );
          this.owner = endsCycle(item.message) && !this.db.isInTransaction() ? null : item.handlerId;
          item.resolve(bytes);
        } catch (error) {
          this.owner = this.db.isInTransaction() ? item.handlerId : null;
          item.reject(error);
        }
      }
    } finally {
      this.processing = false;
    }
  }
}
