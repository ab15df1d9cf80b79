// The test homeserver: an independent, Synapse-like implementation of the
// parts of the Matrix client-server API that Matrix DevTools uses. It must
// never import from src/, or tests of src/core against it prove nothing.
export { TestHomeserver, SYNAPSE_1_84_VERSIONS } from './server';
export type { Device } from './auth';
export type {
  NamespaceEntry,
  PingEndpointMode,
  RegistrationObject,
  RequestRecord,
  TestHomeserverOptions,
  TransactionRecord,
} from './types';
