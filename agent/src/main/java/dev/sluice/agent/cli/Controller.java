package dev.sluice.agent.cli;

import dev.sluice.agent.Registries;
import dev.sluice.agent.config.AgentConfig;
import dev.sluice.agent.control.ControlPlane;
import dev.sluice.agent.control.FleetRecovery;
import dev.sluice.agent.log.AgentLog;
import dev.sluice.registry.RegistryCenter;
import dev.sluice.registry.RegistryListener;
import dev.sluice.registry.RegistryPaths;
import java.lang.management.ManagementFactory;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code java -jar sluice-agent.jar controller}: a process without an application that stands in
 * the fleet leader's election (SPEC section 8) with the {@code sluice:type=Recovery} MXBean. Its
 * ephemeral node is {@code /{namespace}/control/controllers/controller@{ip}@{pid}}, not an instance
 * node: it governs no database access of its own. Runs until it is stopped.
 */
final class Controller {

  private static final Logger log = LoggerFactory.getLogger(Controller.class);

  private Controller() {}

  /** Runs the controller; returns only if it could not start (its exit code). */
  static int run(AgentConfig config) throws Exception {
    AgentLog.configure(config.logLevel());
    String id = "controller@" + config.instanceIp() + "@" + ProcessHandle.current().pid();
    RegistryPaths paths = config.layout().paths(config.namespace(), config.app());
    RegistryCenter registry = Registries.create(config, paths, paths.controllerPath(id));
    FleetRecovery recovery =
        new FleetRecovery(config, paths, id, ControlPlane.followGroups(config, paths, registry));
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  recovery.close();
                  registry.close();
                },
                "sluice-shutdown"));
    registry.start(
        new RegistryListener() {
          @Override
          public void instanceValue(String value) {
            // the controller's own node: nothing to govern
          }

          @Override
          public void datasourceValue(String path, String value) {
            // read by the leader's probes, not applied to this process
          }

          @Override
          public void connection(boolean connected) {
            log.info("registry {}", connected ? "connected" : "connection lost");
          }
        });
    recovery.start(registry, ManagementFactory.getPlatformMBeanServer(), config.jmxDomain());
    log.info(
        "controller {} started in {} (namespace {})",
        id,
        config.registry().get(),
        config.namespace());
    new CountDownLatch(1).await(); // until the process is stopped
    return 0;
  }
}
