package dev.sluice.jmx;

/**
 * {@code sluice:type=Recovery}: the fleet leader and the global recovery switch (SPEC section 8).
 * All attributes are point-in-time values; a change of {@code Leader} or {@code Enabled} is
 * announced with an {@code AttributeChangeNotification}.
 */
public interface RecoveryMXBean {

  /** Whether this JVM leads the fleet now, by the registry's own account. */
  boolean isLeader();

  /**
   * The participant id of the fleet's leader as the registry shows it (this JVM's own when it
   * leads); empty when there is none, or this JVM does not stand in the election and cannot tell.
   */
  String getLeaderId();

  /** This JVM's participant id in the election; empty when it does not stand. */
  String getParticipantId();

  /**
   * The global recovery switch: {@code false} while {@code /{namespace}/control/recovery} holds
   * {@code DISABLED}, when no automatic action is taken anywhere in the fleet.
   */
  boolean isEnabled();

  /** What the leader may disable on its own: {@code off}, {@code replicas} or {@code all}. */
  String getAutoDisable();

  /** What this JVM detected as leader, newest first, at most 50. */
  String[] getRecentDetections();

  /** The automatic actions this JVM took as leader, newest first, at most 50. */
  String[] getRecentActions();

  /**
   * Switches every automatic action in the fleet off: writes {@code DISABLED} into the switch's
   * node and returns once this JVM has read it back (at most 5 s), or fails naming the registry
   * problem.
   */
  void disable();

  /** Switches automatic actions on again: writes an empty value into the switch's node. */
  void enable();

  /**
   * Lifts the anti-flapping block of the datasource {@code schemaSlashName} ({@code schema/name}):
   * the leader may act on it again before {@code recovery.block-ms} has passed.
   */
  void acknowledge(String schemaSlashName);
}
