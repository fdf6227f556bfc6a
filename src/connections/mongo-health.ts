// Reports the MongoClient's view of its server as a connection state: up while the topology has a writable
// server, down (with the monitor's last error) when it has none. The driver does the detection itself (its
// monitor fails a check on a dead link and clears the pool); this only makes it visible.
import type { MongoClient, ServerHeartbeatFailedEvent, TopologyDescriptionChangedEvent } from 'mongodb';
import type { ConnectionStates } from './connection-states.js';

const WRITABLE = new Set(['RSPrimary', 'Standalone', 'Mongos', 'LoadBalancer']);

export interface MongoHealthWatch {
  stop(): void;
}

/** Call before `client.connect()` so the first topology change is seen. */
export function watchMongoClient(client: MongoClient, states: ConnectionStates): MongoHealthWatch {
  const handle = states.register('mongodb', 'client');
  let lastFailure = 'no writable server';
  const onHeartbeatFailed = (event: ServerHeartbeatFailedEvent): void => {
    lastFailure = `${event.connectionId}: ${event.failure.message}`;
  };
  const onTopology = (event: TopologyDescriptionChangedEvent): void => {
    const writable = [...event.newDescription.servers.values()].some((server) => WRITABLE.has(server.type));
    if (writable) handle.up();
    else handle.down(lastFailure);
  };
  client.on('serverHeartbeatFailed', onHeartbeatFailed);
  client.on('topologyDescriptionChanged', onTopology);
  return {
    stop() {
      client.off('serverHeartbeatFailed', onHeartbeatFailed);
      client.off('topologyDescriptionChanged', onTopology);
      handle.close();
    },
  };
}
