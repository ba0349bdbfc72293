// The ES module face of index.js (one implementation, CommonJS).
import bond from './index.js';

export const {
  Client, Bond, Ref, BondException, TerminatedException, SerializationException, RemoteException,
  Interrupted, LimitExceeded, TimeoutException, ProtocolError, defaultSocketPath, findBondd,
} = bond;
export default bond;
