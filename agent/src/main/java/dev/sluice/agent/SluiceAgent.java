package dev.sluice.agent;

import dev.sluice.agent.config.AgentConfig;
import dev.sluice.agent.control.ControlPlane;
import dev.sluice.agent.governance.DatasourceCatalog;
import dev.sluice.agent.governance.Governor;
import dev.sluice.agent.log.AgentLog;
import dev.sluice.bootstrap.SluiceBridge;
import dev.sluice.instrumentation.JdbcInstrumentation;
import dev.sluice.registry.RegistryPaths;
import java.lang.instrument.Instrumentation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires the agent: configuration, the governor behind the bootstrap bridge, the JDBC advice, and
 * the control plane ({@link ControlPlane}: the registry and the MXBeans). Only the advice is
 * installed on the caller's thread (drivers may load right after {@code premain}); the rest starts
 * on a daemon thread so that the application's {@code main} never waits for the registry.
 */
public final class SluiceAgent {

  /** The logger, created on first use: not in {@code premain}, where it would cost start-up. */
  private static final class Lazy {
    static final Logger log = LoggerFactory.getLogger(SluiceAgent.class);
  }

  private SluiceAgent() {}

  /**
   * Called by the launcher from {@code premain} or {@code agentmain}. Only what must be in place
   * before the application's {@code main} runs happens here: connections are held until the
   * governor is installed, and the JDBC advice is installed. The configuration, logging and
   * everything else start on the {@code sluice-start} thread.
   */
  public static void start(String agentArgs, Instrumentation inst, boolean lateAttach) {
    SluiceBridge.hold();
    long installing = System.nanoTime();
    JdbcInstrumentation.Installed advice =
        JdbcInstrumentation.install(
            inst,
            SluiceAgent.class.getClassLoader(),
            (type, e) ->
                Lazy.log.warn(
                    "could not instrument {}; it is not governed: {}", type, e.toString()),
            (type, loader) -> Lazy.log.debug("governing {} (class loader {})", type, loader));
    Thread starter =
        new Thread(
            () -> {
              Governor governor = null;
              boolean cutOffOnLoss = false;
              try {
                AgentConfig config = AgentConfig.load(agentArgs);
                cutOffOnLoss = config.onRegistryLoss() == AgentConfig.RegistryLossPolicy.CUT_OFF;
                AgentLog.configure(config.logLevel());
                advice
                    .ready()
                    .thenRun(
                        () ->
                            Lazy.log.debug(
                                "JDBC advice ready {} ms after premain",
                                (System.nanoTime() - installing) / 1_000_000));
                for (String problem : config.problems()) {
                  Lazy.log.error("configuration: {}", problem);
                }
                ControlPlane plane = new ControlPlane();
                RegistryPaths paths = config.layout().paths(config.namespace(), config.app());
                DatasourceCatalog catalog = ControlPlane.catalog(config, paths);
                governor =
                    new Governor(
                        config.registry().isPresent() ? config.registryInitialSyncMs() : 0,
                        config.cutoffGraceMs(),
                        catalog,
                        plane::changed);
                governor.failClosed(
                    config.onRegistryLoss() == AgentConfig.RegistryLossPolicy.CUT_OFF);
                governor.routing(ControlPlane.routing(config, paths));
                SluiceBridge.install(governor);
                if (config.registry().isEmpty()) {
                  governor.initialSyncDone();
                }
                plane.start(config, paths, governor, catalog);
              } catch (Throwable t) {
                if (governor == null) {
                  SluiceBridge.install(null);
                } else {
                  governor.initialSyncDone();
                }
                if (governor != null && cutOffOnLoss) {
                  // no registry will ever be read: a registry lost for good
                  String refusal =
                      "Sluice: the agent's control plane failed to start ("
                          + t
                          + "); on-registry-loss=cut-off refuses database access";
                  governor.update(s -> s.withRegistryLossRefusal(refusal));
                  Lazy.log.error(
                      "the agent's control plane failed to start; connections are refused, as"
                          + " on-registry-loss=cut-off asks",
                      t);
                } else {
                  Lazy.log.error(
                      "the agent's control plane failed to start; connections are allowed", t);
                }
              }
            },
            "sluice-start");
    starter.setDaemon(true);
    if (starter.getContextClassLoader() == null) {
      // attached: the attach listener's thread has no context class loader, and libraries of the
      // registry clients (Vert.x's logging) look theirs up; the agent's threads inherit this one
      starter.setContextClassLoader(SluiceAgent.class.getClassLoader());
    }
    starter.start();
  }
}
