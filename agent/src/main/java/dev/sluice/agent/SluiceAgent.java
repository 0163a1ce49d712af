package dev.sluice.agent;

import dev.sluice.agent.config.AgentConfig;
import dev.sluice.agent.governance.DatasourceCatalog;
import dev.sluice.agent.governance.GovernanceState;
import dev.sluice.agent.governance.Governor;
import dev.sluice.agent.log.AgentLog;
import dev.sluice.bootstrap.SluiceBridge;
import dev.sluice.instrumentation.JdbcInstrumentation;
import dev.sluice.jmx.DatasourceBean;
import dev.sluice.jmx.Instance;
import dev.sluice.jmx.Registry;
import dev.sluice.registry.Faults;
import dev.sluice.registry.InstanceId;
import dev.sluice.registry.RegistryCenter;
import dev.sluice.registry.RegistryListener;
import dev.sluice.registry.RegistryPaths;
import java.lang.instrument.Instrumentation;
import java.lang.management.ManagementFactory;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires the agent: configuration, the governor behind the bootstrap bridge, the JDBC advice, the
 * registry and the MXBeans. Only the advice is installed on the caller's thread (drivers may load
 * right after {@code premain}); the rest starts on a daemon thread so that the application's {@code
 * main} never waits for the registry.
 */
public final class SluiceAgent {

  /** The logger, created on first use: not in {@code premain}, where it would cost start-up. */
  private static final class Lazy {
    static final Logger log = LoggerFactory.getLogger(SluiceAgent.class);
  }

  private static final String BYTE_BUDDY_SAFE = "net.bytebuddy.safe";

  private SluiceAgent() {}

  /**
   * Called by the launcher from {@code premain} or {@code agentmain}. Only what must be in place
   * before the application's {@code main} runs happens here: connections are held until the
   * governor is installed, and the JDBC advice is installed. The configuration, logging and
   * everything else start on the {@code sluice-start} thread.
   */
  public static void start(String agentArgs, Instrumentation inst, boolean lateAttach) {
    SluiceBridge.hold();
    // Byte Buddy needs no sun.misc.Unsafe here; keeping it off spares the application the JDK's
    // deprecation warnings. The property name is relocated with Byte Buddy, so it concerns the
    // agent's copy only, never the application's own Byte Buddy.
    if (System.getProperty(BYTE_BUDDY_SAFE) == null) {
      System.setProperty(BYTE_BUDDY_SAFE, "true");
    }
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
                DatasourceCatalog catalog = catalog(config, paths);
                governor =
                    new Governor(
                        config.registry().isPresent() ? config.registryInitialSyncMs() : 0,
                        config.cutoffGraceMs(),
                        catalog,
                        plane::changed);
                governor.failClosed(
                    config.onRegistryLoss() == AgentConfig.RegistryLossPolicy.CUT_OFF);
                SluiceBridge.install(governor);
                if (config.registry().isEmpty()) {
                  governor.initialSyncDone();
                }
                startControl(config, paths, governor, catalog, plane);
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
    starter.start();
  }

  private static DatasourceCatalog catalog(AgentConfig config, RegistryPaths paths) {
    boolean registryMode = config.registry().isPresent();
    String domain = config.jmxDomain();
    return new DatasourceCatalog(
        config.datasources().values(),
        n -> paths.datasourcePath(n.schema(), n.name()),
        n ->
            registryMode
                ? paths.datasourcePath(n.schema(), n.name())
                : "local mode; JMX " + DatasourceBean.objectName(domain, n.schema(), n.name()));
  }

  private static void startControl(
      AgentConfig config,
      RegistryPaths paths,
      Governor governor,
      DatasourceCatalog catalog,
      ControlPlane plane)
      throws Exception {
    InstanceId id = InstanceId.forThisJvm(config.instanceIp());
    String idText = id.format(config.layout());
    ScheduledExecutorService timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "sluice-timer");
              t.setDaemon(true);
              return t;
            });
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    String domain = config.jmxDomain();

    RegistryCenter registry = null;
    String refusalTarget = "local mode; JMX " + domain + ":type=Instance";
    String unusable = null;
    if (config.registry().isPresent()) {
      try {
        registry = Registries.create(config, paths, paths.instancePath(id));
        refusalTarget = registry.instancePath();
      } catch (IllegalArgumentException e) {
        unusable = e.getMessage();
        Lazy.log.error(
            "cannot use registry {}: {}; {}",
            config.registry().get(),
            unusable,
            config.onRegistryLoss() == AgentConfig.RegistryLossPolicy.CUT_OFF
                ? "database access is refused after registry.loss-grace-ms="
                    + config.registryLossGraceMs()
                    + " ms, as on-registry-loss=cut-off asks, until the agent starts with a"
                    + " usable registry"
                : "running in local mode, as on-registry-loss=keep allows");
      }
    }
    plane.instance =
        new InstanceSwitch(
            idText,
            refusalTarget,
            governor,
            registry,
            config.onRegistryLoss(),
            config.registryLossGraceMs(),
            timer);
    if (unusable != null) {
      plane.instance.registryUnusable(config.registry().get().toString(), unusable);
    }
    plane.instanceBean = new Instance(plane.instance);
    plane.datasources = new DatasourceSwitch(governor, registry, server, domain);
    register(server, plane.instanceBean, domain + ":type=Instance");
    catalog.listen(plane.datasources::met);
    if (registry == null) {
      if (unusable != null) {
        governor.initialSyncDone(); // no registry state will ever come
        return;
      }
      Lazy.log.info("started in local mode (no registry configured); instance {}", idText);
      return;
    }

    register(
        server,
        new Registry(
            registry.backend(),
            registry.endpoints(),
            config.namespace(),
            config.layout().configValue(),
            registry::isConnected,
            registry::sessionId),
        domain + ":type=Registry");
    Runtime.getRuntime().addShutdownHook(new Thread(registry::close, "sluice-shutdown"));
    plane.instance.connection(false); // starts the registry-loss clock, if that policy is on
    registry.start(plane);
    Lazy.log.info(
        "started: instance {} at {} in {} ({} layout)",
        idText,
        registry.instancePath(),
        config.registry().get(),
        config.layout().configValue());
    if (registry.awaitInitialSync(Long.MAX_VALUE)) {
      governor.initialSyncDone();
      Lazy.log.info(
          "registry state read: instance {}",
          governor.state().instanceDisabled() ? "DISABLED" : "ENABLED");
    }
  }

  /**
   * The switches, reachable from the registry and the governor; filled in once the control plane
   * has started (until then, state changes have nobody to tell).
   */
  private static final class ControlPlane implements RegistryListener {
    volatile InstanceSwitch instance;
    volatile Instance instanceBean;
    volatile DatasourceSwitch datasources;

    private final Faults faults = new Faults(Lazy.log);

    @Override
    public void instanceValue(String value) {
      faults.guard("the instance node's value", () -> instance.instanceValue(value));
    }

    @Override
    public void datasourceValue(String path, String value) {
      faults.guard("the value of " + path, () -> datasources.datasourceValue(path, value));
    }

    @Override
    public void connection(boolean connected) {
      faults.guard("a registry connection change", () -> instance.connection(connected));
    }

    void changed(GovernanceState before, GovernanceState after) {
      Instance bean = instanceBean;
      if (bean != null && before.instanceDisabled() != after.instanceDisabled()) {
        bean.stateChanged(before.instanceDisabled(), after.instanceDisabled());
      }
      DatasourceSwitch ds = datasources;
      if (ds != null) {
        ds.changed(before, after);
      }
    }
  }

  private static void register(MBeanServer server, Object bean, String name) {
    try {
      server.registerMBean(bean, new ObjectName(name));
    } catch (Exception e) {
      Lazy.log.warn("could not register MBean {}: {}", name, e.toString());
    }
  }
}
