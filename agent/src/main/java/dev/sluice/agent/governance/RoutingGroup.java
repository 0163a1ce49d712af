package dev.sluice.agent.governance;

import java.util.List;
import java.util.Objects;

/**
 * One routing group as the gate sees it at one moment: the address the application's URLs use, the
 * registry key its primary is read from, and the primary last applied with the registry revision it
 * was read at. Immutable; a change is a new instance.
 */
public final class RoutingGroup {

  /** The revision of a group whose key has not been read yet. */
  public static final long UNREAD = -1;

  private final String name;
  private final String address;
  private final String key;
  private final long failoverWaitMs;
  private final String readAddress;
  private final List<String> replicas;
  private final boolean refuseReadsWithoutReplica;
  private final String primary;
  private final String absence;
  private final long revision;

  /**
   * A group without replicas whose primary is not known yet.
   *
   * @param address normalised {@code host:port} (lower case, IPv6 in brackets)
   * @param key the registry key its primary is read from, as shown in messages
   */
  public RoutingGroup(String name, String address, String key, long failoverWaitMs) {
    this(name, address, key, failoverWaitMs, null, List.of(), false);
  }

  /**
   * A group whose primary is not known yet.
   *
   * @param address normalised {@code host:port} for the primary, or {@code null}
   * @param readAddress normalised {@code host:port} for the replicas, or {@code null}
   * @param replicas normalised {@code host:port} of each replica
   * @param refuseReadsWithoutReplica {@code read-fallback=refuse}
   */
  public RoutingGroup(
      String name,
      String address,
      String key,
      long failoverWaitMs,
      String readAddress,
      List<String> replicas,
      boolean refuseReadsWithoutReplica) {
    this(
        name,
        address,
        key,
        failoverWaitMs,
        readAddress,
        List.copyOf(replicas),
        refuseReadsWithoutReplica,
        null,
        null,
        UNREAD);
  }

  private RoutingGroup(
      String name,
      String address,
      String key,
      long failoverWaitMs,
      String readAddress,
      List<String> replicas,
      boolean refuseReadsWithoutReplica,
      String primary,
      String absence,
      long revision) {
    this.name = name;
    this.address = address;
    this.key = key;
    this.failoverWaitMs = failoverWaitMs;
    this.readAddress = readAddress;
    this.replicas = replicas;
    this.refuseReadsWithoutReplica = refuseReadsWithoutReplica;
    this.primary = primary;
    this.absence = absence;
    this.revision = revision;
  }

  /** The {@code host:port} the application's URLs use for the replicas, or {@code null}. */
  public String readAddress() {
    return readAddress;
  }

  /** The replicas, normalised {@code host:port} each, in configured order. */
  public List<String> replicas() {
    return replicas;
  }

  /** {@code read-fallback=refuse}: a read connect with every replica disabled is refused. */
  public boolean refusesReadsWithoutReplica() {
    return refuseReadsWithoutReplica;
  }

  public String name() {
    return name;
  }

  public String address() {
    return address;
  }

  public String key() {
    return key;
  }

  public long failoverWaitMs() {
    return failoverWaitMs;
  }

  /** The primary's normalised {@code host:port}, or {@code null} while none is known. */
  public String primary() {
    return primary;
  }

  /**
   * Why no primary is known, naming the key (e.g. {@code /mysql/master/c1 is missing or empty}), or
   * {@code null} while one is.
   */
  public String absence() {
    if (primary != null) {
      return null;
    }
    if (revision == UNREAD) {
      return key + " has not been read yet";
    }
    return absence != null ? absence : key + " is missing or empty";
  }

  /** The registry revision the primary (or its absence) was read at; {@link #UNREAD} before. */
  public long revision() {
    return revision;
  }

  /**
   * This group as {@code reading} says; {@code this} when the reading's revision is older than the
   * one applied, or when nothing changes.
   */
  RoutingGroup with(PrimaryReading reading) {
    long newRevision = reading.revision();
    List<String> newReplicas = reading.replicas() == null ? replicas : reading.replicas();
    if (newRevision < revision) {
      return this;
    }
    if (newRevision == revision
        && Objects.equals(reading.primary(), primary)
        && Objects.equals(reading.absence(), absence)
        && newReplicas.equals(replicas)) {
      return this;
    }
    return new RoutingGroup(
        name,
        address,
        key,
        failoverWaitMs,
        readAddress,
        newReplicas,
        refuseReadsWithoutReplica,
        reading.primary(),
        reading.primary() == null ? reading.absence() : null,
        newRevision);
  }
}
