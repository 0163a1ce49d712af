package dev.sluice.agent;

import dev.sluice.agent.config.AgentConfig;
import dev.sluice.agent.governance.Governor;
import dev.sluice.agent.log.AgentLog;
import dev.sluice.bootstrap.SluiceBridge;
import dev.sluice.instrumentation.JdbcInstrumentation;
import dev.sluice.jmx.Instance;
import dev.sluice.jmx.Registry;
import dev.sluice.registry.InstanceId;
import dev.sluice.registry.RegistryCenter;
import dev.sluice.registry.RegistryPaths;
import dev.sluice.registry.ZooKeeperRegistry;
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

  private static final Logger log = LoggerFactory.getLogger(SluiceAgent.class);

  private static final String BYTE_BUDDY_SAFE = "net.bytebuddy.safe";

  private SluiceAgent() {}

  /** Called by the launcher from {@code premain} or {@code agentmain}. */
  public static void start(String agentArgs, Instrumentation inst, boolean lateAttach) {
    AgentConfig config = AgentConfig.load(agentArgs);
    AgentLog.configure(config.logLevel());
    for (String problem : config.problems()) {
      log.error("configuration: {}", problem);
    }
    Instance[] bean = new Instance[1];
    Governor governor =
        new Governor(
            config.registry().isPresent() ? config.registryInitialSyncMs() : 0,
            config.cutoffGraceMs(),
            (before, after) -> {
              if (bean[0] != null && before.instanceDisabled() != after.instanceDisabled()) {
                bean[0].stateChanged(before.instanceDisabled(), after.instanceDisabled());
              }
            });
    SluiceBridge.install(governor);
    // Byte Buddy needs no sun.misc.Unsafe here; keeping it off spares the application the JDK's
    // deprecation warnings. The property name is relocated with Byte Buddy, so it concerns the
    // agent's copy only, never the application's own Byte Buddy.
    if (System.getProperty(BYTE_BUDDY_SAFE) == null) {
      System.setProperty(BYTE_BUDDY_SAFE, "true");
    }
    JdbcInstrumentation.install(
        inst,
        (type, e) -> log.warn("could not instrument {}; it is not governed: {}", type, e),
        (type, loader) -> log.debug("governing {} (class loader {})", type, loader));
    if (!config.registry().isPresent()) {
      governor.initialSyncDone();
    }
    Thread starter =
        new Thread(
            () -> {
              try {
                startControl(config, governor, bean);
              } catch (Throwable t) {
                governor.initialSyncDone();
                log.error("the agent's control plane failed to start; connections are allowed", t);
              }
            },
            "sluice-start");
    starter.setDaemon(true);
    starter.start();
  }

  private static void startControl(AgentConfig config, Governor governor, Instance[] bean)
      throws Exception {
    InstanceId id = InstanceId.forThisJvm(config.instanceIp());
    RegistryPaths paths = config.layout().paths(config.namespace(), config.app());
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
    if (config.registry().isPresent()) {
      refusalTarget = paths.instancePath(id);
      registry =
          new ZooKeeperRegistry(
              new ZooKeeperRegistry.Settings(
                  config.registry().get().endpoints(),
                  config.registryConnectTimeoutMs(),
                  config.registrySessionTimeoutMs(),
                  config.registryAuth()),
              refusalTarget);
    }
    InstanceSwitch instance =
        new InstanceSwitch(
            idText,
            refusalTarget,
            governor,
            registry,
            config.onRegistryLoss(),
            config.registryLossGraceMs(),
            timer);
    bean[0] = new Instance(instance);
    register(server, bean[0], domain + ":type=Instance");
    if (registry == null) {
      log.info("started in local mode (no registry configured); instance {}", idText);
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
    instance.connection(false); // starts the registry-loss clock, if that policy is on
    registry.start(instance);
    log.info(
        "started: instance {} at {} in {} ({} layout)",
        idText,
        registry.instancePath(),
        config.registry().get(),
        config.layout().configValue());
    if (registry.awaitInitialSync(Long.MAX_VALUE)) {
      governor.initialSyncDone();
      log.info(
          "registry state read: instance {}",
          governor.state().instanceDisabled() ? "DISABLED" : "ENABLED");
    }
  }

  private static void register(MBeanServer server, Object bean, String name) {
    try {
      server.registerMBean(bean, new ObjectName(name));
    } catch (Exception e) {
      log.warn("could not register MBean {}: {}", name, e.toString());
    }
  }
}
