package dev.sluice.agent.governance;

/**
 * One immutable snapshot of what is cut off. A new snapshot replaces the old one atomically on
 * every registry event; the hot path reads it with one volatile load.
 */
public final class GovernanceState {

  /** Nothing cut off. */
  public static final GovernanceState OPEN = new GovernanceState(null, null);

  private final String instanceRefusal;
  private final String registryLossRefusal;

  private GovernanceState(String instanceRefusal, String registryLossRefusal) {
    this.instanceRefusal = instanceRefusal;
    this.registryLossRefusal = registryLossRefusal;
  }

  /**
   * This state with the instance disabled ({@code refusal} is the message new connections get) or
   * enabled ({@code null}).
   */
  public GovernanceState withInstanceRefusal(String refusal) {
    return new GovernanceState(refusal, registryLossRefusal);
  }

  /** This state with access refused for want of a registry session, or not ({@code null}). */
  public GovernanceState withRegistryLossRefusal(String refusal) {
    return new GovernanceState(instanceRefusal, refusal);
  }

  public boolean instanceDisabled() {
    return instanceRefusal != null;
  }

  /** Whether every database access of this JVM is refused. */
  public boolean cutOff() {
    return instanceRefusal != null || registryLossRefusal != null;
  }

  /** The message a refused connection carries, or {@code null}. */
  public String refusal() {
    return instanceRefusal != null ? instanceRefusal : registryLossRefusal;
  }
}
