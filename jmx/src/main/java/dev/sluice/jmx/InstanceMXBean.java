package dev.sluice.jmx;

/**
 * {@code sluice:type=Instance}: this JVM's kill switch. All attributes are point-in-time values.
 */
@Description(
    "This JVM's kill switch. Disabling it writes DISABLED into its instance node: the JVM refuses"
        + " every new database connection (SQLState 08004) and aborts the open ones.")
public interface InstanceMXBean {

  @Description("The instance id, {ip}@{pid}@{uuid} (v5 layout) or {ip}@-@{pid} (legacy layout).")
  String getId();

  @Description("ENABLED or DISABLED: the instance switch as enforced now.")
  String getState();

  @Description("Whether this JVM's database access is cut off by its instance switch now.")
  boolean isDisabled();

  @Description(
      "REGISTRY when a registry is configured, LOCAL otherwise (the switches live in this JVM only).")
  String getMode();

  @Description("Whether a registry session is usable now; always false in local mode.")
  boolean isRegistryConnected();

  @Description(
      "Connections refused because this instance was cut off (its node held DISABLED, or"
          + " on-registry-loss=cut-off was in force), since the JVM started: one per attempt.")
  long getRefusedConnections();

  @Description("Open connections aborted because this instance was cut off, since the JVM started.")
  long getAbortedConnections();

  @Description(
      "The registry path (ZooKeeper) or key (etcd) of this instance's node. In local mode, the"
          + " local switch, named as such.")
  String getRegistryPath();

  @Description(
      "Cuts this JVM off from every database: writes DISABLED into the instance node and returns"
          + " once applied (at most 5 s), saying how many open connections it aborted; in local"
          + " mode changes this JVM only.")
  String disable();

  @Description(
      "Restores database access: writes an empty value into the instance node and returns once"
          + " applied (at most 5 s).")
  String enable();
}
