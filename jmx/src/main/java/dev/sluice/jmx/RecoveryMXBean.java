package dev.sluice.jmx;

/**
 * {@code sluice:type=Recovery}: the fleet leader and the global recovery switch (SPEC section 8).
 * All attributes are point-in-time values; a change of {@code Leader} or {@code Enabled} is
 * announced with an {@code AttributeChangeNotification}.
 */
@Description(
    "The fleet leader and the global recovery switch: the leader probes every endpoint and, with"
        + " recovery.auto-disable, disables dead ones for the whole fleet unless the switch is off.")
public interface RecoveryMXBean {

  /** Whether this JVM leads the fleet now, by the registry's own account. */
  @Description("Whether this JVM leads the fleet now, by the registry's own account.")
  boolean isLeader();

  /**
   * The participant id of the fleet's leader as the registry shows it (this JVM's own when it
   * leads); empty when there is none, or this JVM does not stand in the election and cannot tell.
   */
  @Description(
      "The participant id of the fleet's leader as the registry shows it; empty when there is none, or this JVM does not stand and cannot tell.")
  String getLeaderId();

  /** This JVM's participant id in the election; empty when it does not stand. */
  @Description(
      "This JVM's participant id in the election (its instance id, or controller@{ip}@{pid}); empty when it does not stand (recovery.candidate=false).")
  String getParticipantId();

  /**
   * The global recovery switch: {@code false} while {@code /{namespace}/control/recovery} holds
   * {@code DISABLED}, when no automatic action is taken anywhere in the fleet.
   */
  @Description(
      "The global recovery switch: false while /{namespace}/control/recovery holds DISABLED, when no automatic action is taken anywhere in the fleet (detections go on).")
  boolean isEnabled();

  /** What the leader may disable on its own: {@code off}, {@code replicas} or {@code all}. */
  @Description(
      "What the leader may disable on its own: off (detect only), replicas (replicas and ungrouped endpoints) or all (primaries too).")
  String getAutoDisable();

  /** What this JVM detected as leader, newest first, at most 50. */
  @Description("What this JVM's probes detected while it led, newest first, at most 50.")
  String[] getRecentDetections();

  /** The automatic actions this JVM took as leader, newest first, at most 50. */
  @Description("The automatic actions this JVM took as leader, newest first, at most 50.")
  String[] getRecentActions();

  /**
   * Switches every automatic action in the fleet off: writes {@code DISABLED} into the switch's
   * node and returns once this JVM has read it back (at most 5 s), or fails naming the registry
   * problem.
   */
  @Description(
      "Switches every automatic action in the fleet off: writes DISABLED into the switch's node and returns once read back (at most 5 s).")
  String disable();

  /** Switches automatic actions on again: writes an empty value into the switch's node. */
  @Description(
      "Switches automatic actions on again: writes an empty value into the switch's node and returns once read back (at most 5 s).")
  String enable();

  /**
   * Lifts the anti-flapping block of the datasource {@code schemaSlashName} ({@code schema/name}):
   * the leader may act on it again before {@code recovery.block-ms} has passed.
   */
  @Description(
      "Lifts the anti-flapping block of the leader's last automatic action on a datasource: the leader may act on it again before recovery.block-ms has passed. Returns the record as marked.")
  String acknowledge(
      @Description(
              name = "schemaSlashName",
              value = "the datasource, schema/name, e.g. orders/db2_3306")
          String schemaSlashName);
}
