import { CLUSTER_NODES_ENV, LocalCluster } from './cluster.js';

/**
 * Vitest globalSetup: with FLUME_TEST_CLUSTER=1, starts a local 3-master Redis Cluster
 * for the whole run and names its nodes in FLUME_TEST_CLUSTER_NODES, which the test
 * workers (started after this) inherit; see `clusterConnectionFromEnv`. Does nothing
 * otherwise, or when FLUME_TEST_CLUSTER_NODES already names a cluster.
 */
export default async function setup(): Promise<(() => Promise<void>) | void> {
  if (process.env.FLUME_TEST_CLUSTER !== '1' || process.env[CLUSTER_NODES_ENV]) return;
  const cluster = await LocalCluster.start(3);
  process.env[CLUSTER_NODES_ENV] = cluster.nodes
    .map(({ host, port }) => `${host}:${port}`)
    .join(',');
  return () => cluster.stop();
}
