package dev.sluice.jmx;

/** {@code sluice:type=Registry}: the registry this agent talks to. Point-in-time values. */
public interface RegistryMXBean {

  /** {@code ZOOKEEPER} or {@code ETCD}. */
  String getBackend();

  /** The configured endpoints, e.g. {@code h1:2181,h2:2181}. */
  String getEndpoints();

  /** The root node or key prefix. */
  String getNamespace();

  /** {@code v5} or {@code legacy}. */
  String getLayout();

  /** Whether a registry session is usable right now. */
  boolean isConnected();

  /** The current ZooKeeper session id (hex) or etcd lease id; empty when there is none. */
  String getSessionId();
}
