package dev.sluice.jmx;

/**
 * {@code sluice:type=DataSource,schema=<schema>,name=<name>}: one database endpoint this JVM
 * connects to. All attributes are point-in-time values; counters count since the JVM started.
 */
@Description(
    "One database endpoint this JVM connects to, and its switch. Disabling it writes DISABLED into"
        + " its registry node: every instance in the fleet refuses new connections to it (SQLState"
        + " 08004) and aborts the open ones.")
public interface DataSourceMXBean {

  @Description("The schema part of the datasource's name: the database, or 'default'.")
  String getSchema();

  @Description(
      "The name part of the datasource's name, e.g. db2_3306 ({host}_{port} when discovered).")
  String getName();

  @Description("Where its connections go: host:port[/database], or the in-process database.")
  String getEndpoint();

  @Description(
      "ENABLED or DISABLED, by this datasource's own registry node only. EffectiveState also"
          + " counts the instance switch.")
  String getState();

  @Description("Whether this datasource's own node disables it (State is DISABLED).")
  boolean isDisabled();

  @Description(
      "ENABLED or DISABLED: whether a connection to this endpoint is refused now, for any reason"
          + " (its node, the instance switch, or a lost registry under on-registry-loss=cut-off)."
          + " CutOffBy says why.")
  String getEffectiveState();

  @Description(
      "Why connections to this endpoint are refused now: 'datasource node', 'instance switch',"
          + " 'registry loss', or several of them; empty while EffectiveState is ENABLED.")
  String getCutOffBy();

  @Description("Physical connections to this endpoint open in this JVM now.")
  int getOpenConnections();

  @Description(
      "Connects and borrows to this endpoint refused because it or the instance was cut off, since"
          + " the JVM started.")
  long getRefusedConnections();

  @Description("Open connections to this endpoint aborted by a cut-off, since the JVM started.")
  long getAbortedConnections();

  @Description(
      "The registry path (ZooKeeper) or key (etcd) of this datasource's node. In local mode (no"
          + " registry), the path it would have; the operations then change this JVM only.")
  String getRegistryPath();

  @Description(
      "Cuts every instance off this endpoint: writes DISABLED into its node and returns once this"
          + " JVM applied it (at most 5 s); says how many open connections it aborted here.")
  String disable();

  @Description(
      "Restores the endpoint: writes an empty value into its node and returns once this JVM"
          + " applied it (at most 5 s).")
  String enable();
}
