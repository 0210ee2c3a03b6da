import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Logger } from 'pino';
import { readTls, type Config } from '../config.js';
import { installRuntimeLogger } from '../worker.js';

export interface TemporalTarget {
  address: string;
  namespace: string;
}

function connectionOptions(config: Config, address: string) {
  const tls = readTls(config);
  const apiKey = config.temporal.apiKey;
  return {
    address,
    ...(tls ? { tls: { clientCertPair: tls } } : apiKey ? { tls: true } : {}),
    ...(apiKey ? { apiKey } : {}),
  };
}

/** A client for starting, signalling and querying workflows. */
export async function connectClient(config: Config, target: TemporalTarget): Promise<Client> {
  const connection = await Connection.connect({
    ...connectionOptions(config, target.address),
    connectTimeout: 5_000,
  });
  return new Client({ connection, namespace: target.namespace });
}

/** The native connection a Worker polls through. */
export async function connectWorker(
  config: Config,
  target: TemporalTarget,
  log: Logger,
): Promise<NativeConnection> {
  installRuntimeLogger(log); // must precede the first native connection
  return NativeConnection.connect(connectionOptions(config, target.address));
}
