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
import java.util.ArrayList;
import java.util.List;
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

  /**
   * Lines the advice's callbacks log, on the application's threads, before the agent's logging is
   * set up on the start thread: held and written in order once it is. Logging from two threads
   * while SLF4J initialises would make it print its warning about substitute loggers and drop the
   * lines.
   */
  private static final class EarlyLines {
    private static final int KEPT = 1_000;
    private static final List<Runnable> held = new ArrayList<>();
    private static boolean ready;

    static void log(Runnable line) {
      synchronized (held) {
        if (!ready) {
          if (held.size() < KEPT) {
            held.add(line);
          }
          return;
        }
      }
      line.run();
    }

    static void ready() {
      List<Runnable> lines;
      synchronized (held) {
        if (ready) {
          return;
        }
        ready = true;
        lines = new ArrayList<>(held);
        held.clear();
      }
      for (Runnable line : lines) {
        line.run();
      }
    }
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
                EarlyLines.log(
                    () ->
                        Lazy.log.warn(
                            "could not instrument {}; it is not governed: {}", type, e.toString())),
            (type, loader) ->
                EarlyLines.log(
                    () -> Lazy.log.debug("governing {} (class loader {})", type, loader)));
    Thread starter =
        new Thread(
            () -> {
              Governor governor = null;
              boolean cutOffOnLoss = false;
              try {
                AgentConfig config = AgentConfig.load(agentArgs);
                cutOffOnLoss = config.onRegistryLoss() == AgentConfig.RegistryLossPolicy.CUT_OFF;
                AgentLog.configure(config.logLevel());
                // SLF4J is initialised here, on this thread, before any other thread logs
                Lazy.log.isDebugEnabled();
                EarlyLines.ready();
                advice
                    .ready()
                    .thenRun(
                        () ->
                            EarlyLines.log(
                                () ->
                                    Lazy.log.debug(
                                        "JDBC advice ready {} ms after premain",
                                        (System.nanoTime() - installing) / 1_000_000)));
                for (String problem : config.problems()) {
                  Lazy.log.error("configuration: {}", problem);
                }
                ControlPlane plane = new ControlPlane();
                plane.classesLoaded(advice::classesSeen);
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
                EarlyLines.ready();
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
