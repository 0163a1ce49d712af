package dev.sluice.agent.config;

import java.util.List;

/**
 * One routing group as configured by {@code groups.<group>.*} (SPEC section 7): the addresses the
 * application's URLs use, where its primary comes from, its replicas and how long a connect waits
 * for a primary. Addresses are normalised {@code host:port}: host in lower case, an IPv6 host in
 * brackets.
 */
public final class GroupConfig {

  /** Where the primary comes from ({@code groups.<group>.primary}). */
  public enum PrimarySource {
    /** Sluice's own node {@code .../states/groups/<group>/primary}. */
    NODE,
    /** orchestrator's {@code <kv-prefix>/<alias>}. */
    ORCHESTRATOR,
    /** Patroni's {@code <namespace>/<scope>/leader}. */
    PATRONI
  }

  /** {@code groups.<group>.read-fallback}: what a read connect does with no replica enabled. */
  public enum ReadFallback {
    PRIMARY,
    REFUSE
  }

  private final String name;
  private final String address;
  private final String readAddress;
  private final PrimarySource source;
  private final String sourceName;
  private final List<String> replicas;
  private final ReadFallback readFallback;
  private final long failoverWaitMs;

  GroupConfig(
      String name,
      String address,
      String readAddress,
      PrimarySource source,
      String sourceName,
      List<String> replicas,
      ReadFallback readFallback,
      long failoverWaitMs) {
    this.name = name;
    this.address = address;
    this.readAddress = readAddress;
    this.source = source;
    this.sourceName = sourceName;
    this.replicas = List.copyOf(replicas);
    this.readFallback = readFallback;
    this.failoverWaitMs = failoverWaitMs;
  }

  /** The group's name, {@code <group>} in its keys. */
  public String name() {
    return name;
  }

  /** The {@code host:port} the application's URLs use for the primary, or {@code null}. */
  public String address() {
    return address;
  }

  /** The {@code host:port} the application's URLs use for the replicas, or {@code null}. */
  public String readAddress() {
    return readAddress;
  }

  public PrimarySource source() {
    return source;
  }

  /** The orchestrator alias or Patroni scope; {@code null} for {@link PrimarySource#NODE}. */
  public String sourceName() {
    return sourceName;
  }

  /** The configured replicas, {@code host:port} each, in the order given. */
  public List<String> replicas() {
    return replicas;
  }

  public ReadFallback readFallback() {
    return readFallback;
  }

  public long failoverWaitMs() {
    return failoverWaitMs;
  }

  /** The {@code groups.<group>.primary} setting: {@code node}, {@code orchestrator:<alias>}... */
  public String primarySetting() {
    return source.name().toLowerCase(java.util.Locale.ROOT)
        + (sourceName == null ? "" : ":" + sourceName);
  }

  @Override
  public String toString() {
    return name + " (address " + address + ", primary from " + primarySetting() + ")";
  }
}
