package dev.sluice.jmx;

/** {@code sluice:type=Registry}: the registry this agent talks to. Point-in-time values. */
@Description("The registry center this agent takes its switches from. Read-only.")
public interface RegistryMXBean {

  @Description("ZOOKEEPER or ETCD.")
  String getBackend();

  @Description("The configured endpoints, e.g. h1:2181,h2:2181.")
  String getEndpoints();

  @Description("The namespace: the root node (ZooKeeper) or key prefix (etcd) of Sluice's nodes.")
  String getNamespace();

  @Description("The node layout: v5 (ShardingSphere 5) or legacy (orchestration).")
  String getLayout();

  @Description("Whether a registry session is usable now.")
  boolean isConnected();

  @Description(
      "The current ZooKeeper session id (hex) or etcd lease id (hex); empty when there is none.")
  String getSessionId();
}
