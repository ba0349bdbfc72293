// The two of Node's types that index.d.ts uses, for types.test.js alone: Debian 12 has no
// package of @types/node, which a TypeScript user of bond-client has installed anyway.
declare class Buffer extends Uint8Array {}
declare module 'node:events' {
  export class EventEmitter {
    on(event: string | symbol, listener: (...args: any[]) => void): this;
    emit(event: string | symbol, ...args: any[]): boolean;
  }
}
