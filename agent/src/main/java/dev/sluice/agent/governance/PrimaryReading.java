package dev.sluice.agent.governance;

import java.util.List;

/**
 * What a group's primary source said at one registry revision: the primary's {@code host:port}, or
 * why none is known, and (Patroni) the replicas its member records name.
 */
public final class PrimaryReading {

  private final String primary;
  private final String absence;
  private final List<String> replicas;
  private final long revision;

  private PrimaryReading(String primary, String absence, List<String> replicas, long revision) {
    this.primary = primary;
    this.absence = absence;
    this.replicas = replicas == null ? null : List.copyOf(replicas);
    this.revision = revision;
  }

  /** The primary is {@code hostPort} (normalised) since {@code revision}. */
  public static PrimaryReading primary(String hostPort, long revision) {
    if (hostPort == null) {
      throw new IllegalArgumentException("no primary: use none(...)");
    }
    return new PrimaryReading(hostPort, null, null, revision);
  }

  /**
   * No primary is known since {@code revision}; {@code why} completes "no primary known for group g
   * (...)", naming the key, or {@code null}: the key is missing or empty.
   */
  public static PrimaryReading none(String why, long revision) {
    return new PrimaryReading(null, why, null, revision);
  }

  /** This reading, which also names the group's replicas, {@code host:port} each. */
  public PrimaryReading withReplicas(List<String> members) {
    return new PrimaryReading(primary, absence, members, revision);
  }

  /** This reading, since {@code later} (ordered after a reading of an earlier key). */
  public PrimaryReading withRevision(long later) {
    return new PrimaryReading(primary, absence, replicas, later);
  }

  /** The normalised {@code host:port}, or {@code null} while none is known. */
  public String primary() {
    return primary;
  }

  /** Why no primary is known, or {@code null}: the key is missing or empty (or one is known). */
  public String absence() {
    return absence;
  }

  /** The replicas this reading names, or {@code null}: the configured ones stand. */
  public List<String> replicas() {
    return replicas;
  }

  public long revision() {
    return revision;
  }

  @Override
  public String toString() {
    return (primary == null ? "(none)" : primary)
        + (replicas == null ? "" : " replicas " + replicas)
        + " at revision "
        + revision;
  }
}
