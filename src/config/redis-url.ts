const CLUSTER_URL = /^redis-cluster:\/\/([^\s/]+)$/;

/** The seed nodes of a `redis-cluster://host:port,host:port,…` URL; undefined if it is not one. */
export function clusterNodes(url: string): { host: string; port: number }[] | undefined {
  const match = CLUSTER_URL.exec(url);
  if (!match) return undefined;
  const nodes = match[1].split(',').map((node) => /^([^:,]+):(\d{1,5})$/.exec(node));
  if (nodes.some((node) => !node || Number(node[2]) > 65535)) return undefined;
  return nodes.map((node) => ({ host: node![1], port: Number(node![2]) }));
}

/** Whether `url` is a Redis URL the bus takes: one node, or a cluster's nodes. */
export function isRedisUrl(url: string): boolean {
  return /^rediss?:\/\/[^\s]+$/.test(url) || clusterNodes(url) !== undefined;
}
