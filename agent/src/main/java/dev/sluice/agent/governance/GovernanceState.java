package dev.sluice.agent.governance;

import java.util.Collections;
import java.util.HashSet;
import java.util.Set;

/**
 * One immutable snapshot of what is cut off: the instance, and the datasource nodes that hold
 * {@code DISABLED}. A new snapshot replaces the old one atomically on every registry event; the hot
 * path reads it with one volatile load.
 */
public final class GovernanceState {

  /** Nothing cut off. */
  public static final GovernanceState OPEN =
      new GovernanceState(null, null, Collections.emptySet());

  private final String instanceRefusal;
  private final String registryLossRefusal;
  private final Set<String> disabledDatasources;
  // Precomputed for the hot path: plain field reads, no calls.
  private final boolean cutOff;
  private final boolean anyDatasourceDisabled;

  private GovernanceState(
      String instanceRefusal, String registryLossRefusal, Set<String> disabledDatasources) {
    this.instanceRefusal = instanceRefusal;
    this.registryLossRefusal = registryLossRefusal;
    this.disabledDatasources = disabledDatasources;
    this.cutOff = instanceRefusal != null || registryLossRefusal != null;
    this.anyDatasourceDisabled = !disabledDatasources.isEmpty();
  }

  /**
   * This state with the instance disabled ({@code refusal} is the message new connections get) or
   * enabled ({@code null}).
   */
  public GovernanceState withInstanceRefusal(String refusal) {
    return new GovernanceState(refusal, registryLossRefusal, disabledDatasources);
  }

  /** This state with access refused for want of a registry session, or not ({@code null}). */
  public GovernanceState withRegistryLossRefusal(String refusal) {
    return new GovernanceState(instanceRefusal, refusal, disabledDatasources);
  }

  /** This state with the datasource node at {@code path} disabled or not. */
  public GovernanceState withDatasource(String path, boolean disabled) {
    if (disabledDatasources.contains(path) == disabled) {
      return this;
    }
    Set<String> next = new HashSet<>(disabledDatasources);
    if (disabled) {
      next.add(path);
    } else {
      next.remove(path);
    }
    return new GovernanceState(
        instanceRefusal, registryLossRefusal, Collections.unmodifiableSet(next));
  }

  public boolean instanceDisabled() {
    return instanceRefusal != null;
  }

  /** Whether every database access of this JVM is refused. */
  public boolean cutOff() {
    return cutOff;
  }

  /** The message a connection refused for the whole JVM carries, or {@code null}. */
  public String refusal() {
    return instanceRefusal != null ? instanceRefusal : registryLossRefusal;
  }

  /** Whether any datasource node holds {@code DISABLED}; the hot path asks this first. */
  public boolean anyDatasourceDisabled() {
    return anyDatasourceDisabled;
  }

  /** Whether the datasource node at {@code path} holds {@code DISABLED}. */
  public boolean datasourceDisabled(String path) {
    return disabledDatasources.contains(path);
  }

  /** Whether connections of the datasource at {@code path} are cut off, for any reason. */
  public boolean cutOff(String path) {
    return cutOff || (anyDatasourceDisabled && disabledDatasources.contains(path));
  }

  Set<String> disabledDatasources() {
    return disabledDatasources;
  }
}
