package dev.sluice.agent.control;

import dev.sluice.agent.config.AgentConfig.RegistryLossPolicy;
import dev.sluice.agent.governance.Governor;
import dev.sluice.jmx.InstanceControl;
import dev.sluice.registry.NodeValue;
import dev.sluice.registry.RegistryCenter;
import dev.sluice.registry.RegistryException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This JVM's kill switch: turns what the registry says about the instance node into the governed
 * state, and carries the JMX {@code disable()}/{@code enable()} operations to the registry (or, in
 * local mode, straight into the state).
 */
final class InstanceSwitch implements InstanceControl {

  private static final Logger log = LoggerFactory.getLogger(InstanceSwitch.class);

  /** How long a JMX operation waits for its write to come back through the watch. */
  static final long WRITE_THROUGH_TIMEOUT_MS = 5000;

  private final String id;
  private final String path;
  private final String refusal;
  private final Governor governor;
  private final RegistryCenter registry;
  private final RegistryLossPolicy lossPolicy;
  private final long lossGraceMs;
  private final ScheduledExecutorService timer;
  private ScheduledFuture<?> lossTimer;

  /**
   * @param path the instance node's path (in local mode: the one it would have)
   * @param registry {@code null} in local mode
   */
  InstanceSwitch(
      String id,
      String path,
      String refusalTarget,
      Governor governor,
      RegistryCenter registry,
      RegistryLossPolicy lossPolicy,
      long lossGraceMs,
      ScheduledExecutorService timer) {
    this.id = id;
    this.path = path;
    this.refusal = "Sluice: instance " + id + " is DISABLED (" + refusalTarget + ")";
    this.governor = governor;
    this.registry = registry;
    this.lossPolicy = lossPolicy;
    this.lossGraceMs = lossGraceMs;
    this.timer = timer;
  }

  /** The instance node's value changed ({@code null}: an operator deleted it). */
  void instanceValue(String value) {
    boolean disabled = NodeValue.of(value).disables();
    if (disabled != governor.inForce().instanceDisabled()) {
      log.info(
          "instance node {} now holds {}: instance {}",
          registry.instancePath(),
          NodeValue.printable(value),
          disabled ? "DISABLED" : "ENABLED");
    }
    applyInstance(disabled);
  }

  /** The registry session became usable, or was lost. */
  synchronized void connection(boolean connected) {
    if (lossPolicy != RegistryLossPolicy.CUT_OFF) {
      return;
    }
    if (connected) {
      if (lossTimer != null) {
        lossTimer.cancel(false);
        lossTimer = null;
      }
      governor.update(s -> s.withRegistryLossRefusal(null));
    } else if (lossTimer == null) {
      String message =
          "Sluice: no session with the registry "
              + registry.endpoints()
              + " for "
              + lossGraceMs
              + " ms; on-registry-loss=cut-off refuses database access";
      lossTimer =
          timer.schedule(
              () -> governor.update(s -> s.withRegistryLossRefusal(message)),
              lossGraceMs,
              TimeUnit.MILLISECONDS);
    }
  }

  /**
   * The configured registry cannot be used at all (its client could not be made, say for want of a
   * writable temporary directory): a registry lost from the start, which never comes back. Under
   * {@code on-registry-loss=cut-off} database access is refused after {@code
   * registry.loss-grace-ms}, until the agent starts with a usable registry.
   */
  synchronized void registryUnusable(String registryUri, String why) {
    if (lossPolicy != RegistryLossPolicy.CUT_OFF || lossTimer != null) {
      return;
    }
    String message =
        "Sluice: the registry "
            + registryUri
            + " cannot be used ("
            + why
            + "); on-registry-loss=cut-off refuses database access";
    if (lossGraceMs == 0) {
      governor.update(s -> s.withRegistryLossRefusal(message));
      return;
    }
    lossTimer =
        timer.schedule(
            () -> governor.update(s -> s.withRegistryLossRefusal(message)),
            lossGraceMs,
            TimeUnit.MILLISECONDS);
  }

  private void applyInstance(boolean disabled) {
    governor.update(s -> s.withInstanceRefusal(disabled ? refusal : null));
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public boolean disabled() {
    return governor.state().instanceDisabled();
  }

  @Override
  public boolean registryMode() {
    return registry != null;
  }

  @Override
  public boolean registryConnected() {
    return registry != null && registry.isConnected();
  }

  @Override
  public String registryPath() {
    return registry == null ? path : registry.instancePath();
  }

  @Override
  public long refusedConnections() {
    return governor.instanceRefusedConnections();
  }

  @Override
  public long abortedConnections() {
    return governor.instanceAbortedConnections();
  }

  @Override
  public String setDisabled(boolean disabled) {
    String what = disabled ? "DISABLED" : "ENABLED";
    boolean was = governor.inForce().instanceDisabled();
    int open = governor.openConnections();
    String where;
    if (registry == null) {
      log.info("instance {} by JMX (local mode)", what);
      applyInstance(disabled);
      where = " in this JVM (local mode)";
    } else {
      try {
        registry.writeInstanceValue(
            disabled ? NodeValue.DISABLED_TEXT : "", WRITE_THROUGH_TIMEOUT_MS);
        log.info("instance {} by JMX through {}", what, registryPath());
      } catch (RegistryException e) {
        log.warn("JMX {} failed: {}", disabled ? "disable()" : "enable()", e.getMessage());
        throw new IllegalStateException(e.getMessage());
      }
      where = " through " + registryPath();
    }
    governor.awaitShown(); // State then says what this returns
    if (was == disabled) {
      return "already " + what + where;
    }
    return what
        + where
        + (disabled
            ? "; " + governor.aborting(open) + ", new connections refused"
            : "; new connections allowed");
  }
}
