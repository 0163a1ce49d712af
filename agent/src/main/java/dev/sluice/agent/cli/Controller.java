package dev.sluice.agent.cli;

import dev.sluice.agent.Registries;
import dev.sluice.agent.config.AgentConfig;
import dev.sluice.agent.control.Beans;
import dev.sluice.agent.control.ControlPlane;
import dev.sluice.agent.control.FleetRecovery;
import dev.sluice.agent.log.AgentLog;
import dev.sluice.registry.OperatorAccess;
import dev.sluice.registry.RegistryCenter;
import dev.sluice.registry.RegistryListener;
import dev.sluice.registry.RegistryPaths;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code java -jar sluice-agent.jar controller}: a process without an application that stands in
 * the fleet leader's election (SPEC section 8) with the {@code sluice:type=Recovery} MXBean, and
 * serves the web console ({@code console.bind}, {@code off} for none). Its ephemeral node is {@code
 * /{namespace}/control/controllers/controller@{ip}@{pid}}, not an instance node: it governs no
 * database access of its own. Runs until it is stopped.
 */
final class Controller {

  private static final Logger log = LoggerFactory.getLogger(Controller.class);

  private Controller() {}

  /** A listener for a process that governs no database access: it only logs the connection. */
  private static RegistryListener quiet() {
    return new RegistryListener() {
      @Override
      public void instanceValue(String value) {
        // the process's own node: nothing to govern
      }

      @Override
      public void datasourceValue(String path, String value) {
        // read by the leader's probes and the console, not applied to this process
      }

      @Override
      public void connection(boolean connected) {
        log.info("registry {}", connected ? "connected" : "connection lost");
      }
    };
  }

  /** Runs the controller; returns only if it could not start (its exit code). */
  static int run(AgentConfig config, boolean json) throws Exception {
    AgentLog.configure(config.logLevel());
    String id = "controller@" + config.instanceIp() + "@" + ProcessHandle.current().pid();
    RegistryPaths paths = config.layout().paths(config.namespace(), config.app());
    RegistryCenter registry = Registries.create(config, paths, paths.controllerPath(id));
    FleetRecovery recovery =
        new FleetRecovery(
            config,
            paths,
            id,
            ControlPlane.followGroups(config, paths, registry),
            Executors.newSingleThreadScheduledExecutor(
                r -> {
                  Thread t = new Thread(r, "sluice-probe-timer");
                  t.setDaemon(true);
                  return t;
                }));
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  recovery.close();
                  registry.close();
                },
                "sluice-shutdown"));
    registry.start(quiet());
    Beans jmx = new Beans();
    jmx.open();
    recovery.start(registry, jmx, config.jmxDomain());
    log.info(
        "controller {} started in {} (namespace {})",
        id,
        config.registry().get(),
        config.namespace());
    if (config.consoleBind() != null) {
      Console console = serve(config, paths, registry, recovery::leader, id, json);
      Runtime.getRuntime().addShutdownHook(new Thread(console::close, "sluice-console-stop"));
    }
    new CountDownLatch(1).await(); // until the process is stopped
    return 0;
  }

  /**
   * {@code java -jar sluice-agent.jar console}: the web console alone, with its own ephemeral node
   * at {@code /{namespace}/control/consoles/console@{ip}@{pid}}. Runs until it is stopped.
   */
  static int console(AgentConfig config, boolean json) throws Exception {
    AgentLog.configure(config.logLevel());
    if (config.consoleBind() == null) {
      System.err.println("sluice: console.bind=off: the console has nowhere to serve");
      return 2;
    }
    String id = "console@" + config.instanceIp() + "@" + ProcessHandle.current().pid();
    RegistryPaths paths = config.layout().paths(config.namespace(), config.app());
    RegistryCenter registry = Registries.create(config, paths, paths.consolePath(id));
    Runtime.getRuntime().addShutdownHook(new Thread(registry::close, "sluice-shutdown"));
    registry.start(quiet());
    Console console = serve(config, paths, registry, () -> false, id, json);
    Runtime.getRuntime().addShutdownHook(new Thread(console::close, "sluice-console-stop"));
    new CountDownLatch(1).await(); // until the process is stopped
    return 0;
  }

  /**
   * Serves the console from a watch of the namespace in {@code registry}; exits the process with 2
   * when it cannot bind (the address is taken, or beyond loopback without {@code console.auth}).
   */
  private static Console serve(
      AgentConfig config,
      RegistryPaths paths,
      RegistryCenter registry,
      java.util.function.BooleanSupplier leads,
      String id,
      boolean json)
      throws Exception {
    OperatorAccess operator = Registries.operator(config);
    FleetSnapshot snapshot = new FleetSnapshot(registry, paths.namespaceRoot(), operator);
    try {
      Console console = Console.start(config, paths, operator, snapshot, leads);
      if (json) {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("id", id);
        m.put("console", console.url());
        System.out.println(dev.sluice.agent.control.Json.write(m));
      } else {
        System.out.println("sluice: " + id + ": console at " + console.url());
      }
      return console;
    } catch (IllegalArgumentException | java.io.IOException e) {
      String why =
          e instanceof java.net.BindException
              ? "console.bind=" + config.consoleBind() + " cannot be bound: " + e.getMessage()
              : e.getMessage();
      log.error("the console cannot start: {}", why);
      System.err.println("sluice: " + why);
      System.exit(2);
      throw e; // not reached
    }
  }
}
