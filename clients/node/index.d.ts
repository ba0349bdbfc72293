// TypeScript declarations of bond-client (index.js).
import { EventEmitter } from 'node:events';

export type Value = null | boolean | number | string | Buffer | Value[] | { [key: string]: Value } | RemoteObject;
export type OutputHandler = (bond: Bond | string, channel: 'stdout' | 'stderr', data: string | Buffer) => void;

export interface Limits { wall_ms?: number; cpu_ms?: number; memory_bytes?: number; output_bytes?: number; grace_ms?: number; }

export interface ConnectOptions {
  /** A Unix socket of a running bondd. */
  socket?: string;
  /** 'host:port' of a bondd listening on TCP; needs token or tokenFile. */
  address?: string;
  token?: string;
  tokenFile?: string;
  /** The bondd to start when neither socket nor address is given (default: $BONDD, the source tree's build, PATH). */
  bondd?: string;
  daemonArgs?: string[];
  onOutput?: OutputHandler;
}

export interface OpenOptions {
  command?: string;
  args?: string[];
  cwd?: string;
  env?: Record<string, string>;
  defArgs?: boolean;
  transExcept?: boolean;
  /** Seconds: the longest wait for any one reply of the interpreter; on expiry the bond is closed. */
  timeout?: number;
  /** Seconds: the longest wait for the interpreter to start. */
  startTimeout?: number;
  limits?: Limits;
  sandbox?: boolean | { read_only?: string[]; writable?: string[] };
  container?: string | Record<string, unknown>;
  /** Makes the bond shareable: other clients may attach to it by this name. */
  name?: string;
  onOutput?: OutputHandler;
}

export declare class Client extends EventEmitter {
  static connect(options?: ConnectOptions): Promise<Client>;
  open(lang: string, options?: OpenOptions): Promise<Bond>;
  attach(name: string, options?: { onOutput?: OutputHandler }): Promise<Bond>;
  drivers(): Promise<string[]>;
  list(): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
  on(event: 'output', listener: (bond: Bond | string, channel: 'stdout' | 'stderr', data: string | Buffer) => void): this;
}

export declare class Bond extends EventEmitter {
  readonly client: Client;
  readonly id: string;
  readonly lang: string;
  readonly name?: string;
  eval(code: string | Ref, options?: { limits?: Limits }): Promise<any>;
  evalBlock(code: string | Ref, options?: { limits?: Limits }): Promise<void>;
  call(name: string, ...args: unknown[]): Promise<any>;
  callWith(options: { limits?: Limits }, name: string, ...args: unknown[]): Promise<any>;
  callable(name: string): (...args: unknown[]) => Promise<any>;
  export<F extends (...args: any[]) => unknown>(name: string, fn: F): Promise<F>;
  export<F extends (...args: any[]) => unknown>(fn: F): Promise<F>;
  proxy(name: string, other: Bond, remote?: string): Promise<void>;
  ref(code: string): Ref;
  exports(): Promise<string[]>;
  interrupt(): Promise<void>;
  close(): Promise<void>;
  on(event: 'output', listener: (channel: 'stdout' | 'stderr', data: string | Buffer) => void): this;
}

/** Code of a bond's language, evaluated by the bond where it is passed as an argument of call(). */
export declare class Ref { constructor(code: string); readonly code: string; }

/** A member of a remote object: awaited, the attribute; called, the method's result. */
export interface RemoteMember extends PromiseLike<any> { (...args: unknown[]): Promise<any>; }

/** A value kept by its interpreter, as a Proxy. */
export type RemoteObject = {
  (...args: unknown[]): Promise<any>;
  $call(method: string, ...args: unknown[]): Promise<any>;
  $get(name: string): Promise<any>;
  $set(name: string, value: unknown): Promise<void>;
  $value(): Promise<any>;
  $release(): void;
  readonly $type: string;
} & { [member: string]: RemoteMember };

export declare class BondException extends Error { readonly lang: string; }
export declare class TerminatedException extends BondException { readonly exitStatus: number | null; }
export declare class TimeoutException extends BondException {}
export declare class ProtocolError extends BondException {}
export declare class SerializationException extends BondException { readonly side: 'local' | 'remote'; }
export declare class RemoteException extends BondException { readonly data: unknown; }
export declare class Interrupted extends RemoteException {}
export declare class LimitExceeded extends RemoteException { readonly limit: 'wall' | 'cpu' | 'memory' | 'output'; }

export declare function defaultSocketPath(): string;
export declare function findBondd(program?: string): string;
