package dev.sluice.jmx;

import java.util.List;

/** What a {@link Recovery} reads and does; implemented by the agent and by the controller. */
public interface RecoveryControl {

  boolean leader();

  /** {@code ""} when none or unknown. */
  String leaderId();

  /** {@code ""} when this JVM does not stand. */
  String participantId();

  boolean enabled();

  String autoDisable();

  /** Newest first. */
  List<String> recentDetections();

  /** Newest first. */
  List<String> recentActions();

  /**
   * Writes the global switch and returns once it has been read back.
   *
   * @throws IllegalStateException naming the registry problem
   */
  String setEnabled(boolean enabled);

  /**
   * Lifts the anti-flapping block of {@code schemaSlashName}.
   *
   * @throws IllegalArgumentException when it is not {@code schema/name}
   */
  String acknowledge(String schemaSlashName);
}
