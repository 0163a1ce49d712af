package dev.sluice.agent.control;

import dev.sluice.agent.Registries;
import dev.sluice.agent.config.AgentConfig;
import dev.sluice.agent.governance.Datasource;
import dev.sluice.agent.governance.DatasourceCatalog;
import dev.sluice.agent.governance.GovernanceState;
import dev.sluice.agent.governance.Governor;
import dev.sluice.agent.governance.GroupRouting;
import dev.sluice.jmx.DataSource;
import dev.sluice.jmx.Instance;
import dev.sluice.jmx.Registry;
import dev.sluice.registry.Faults;
import dev.sluice.registry.InstanceId;
import dev.sluice.registry.RegistryCenter;
import dev.sluice.registry.RegistryListener;
import dev.sluice.registry.RegistryPaths;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data path from the registry to the governor: registry events become governed state through
 * the {@link InstanceSwitch} and the {@link DatasourceSwitch}, and state changes become MXBean
 * notifications. Every event is handled under one fault guard ({@link Faults}): a fault is logged
 * and the last known state stays. Work for a datasource the JVM meets (its registry node, its
 * MXBean) runs on the agent's own {@code sluice-control} thread, never on the application's thread
 * that connected.
 */
public final class ControlPlane implements RegistryListener {

  private static final Logger log = LoggerFactory.getLogger(ControlPlane.class);

  private final Faults faults = new Faults(log);
  private final ScheduledExecutorService executor;
  private LongSupplier classesLoaded;

  // Filled in once the control plane has started; until then, state changes have nobody to tell.
  private volatile InstanceSwitch instance;
  private volatile Instance instanceBean;
  private volatile DatasourceSwitch datasources;

  /** A control plane with its own daemon thread, {@code sluice-control}. */
  public ControlPlane() {
    this(
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "sluice-control");
              t.setDaemon(true);
              return t;
            }));
  }

  ControlPlane(ScheduledExecutorService executor) {
    this.executor = executor;
  }

  /**
   * How many classes the JVM has loaded so far (any count that moves when one is loaded): the
   * MXBeans wait for it to stand still ({@link Beans}). The JVM's own count by default.
   */
  public void classesLoaded(LongSupplier count) {
    this.classesLoaded = count;
  }

  /** The datasource catalog of {@code config}, naming registry paths after {@code paths}. */
  public static DatasourceCatalog catalog(AgentConfig config, RegistryPaths paths) {
    boolean registryMode = config.registry().isPresent();
    String domain = config.jmxDomain();
    return new DatasourceCatalog(
        config.datasources().values(),
        n -> paths.datasourcePath(n.schema(), n.name()),
        n ->
            registryMode
                ? paths.datasourcePath(n.schema(), n.name())
                : "local mode; JMX " + DataSource.objectName(domain, n.schema(), n.name()));
  }

  /**
   * The groups of {@code config} with their primaries followed in {@code registry}, for a process
   * that routes no connection (the {@code controller}): the fleet leader's rules need to know each
   * group's members and primary. {@code null} when no group is configured.
   */
  public static GroupRouting followGroups(
      AgentConfig config, RegistryPaths paths, RegistryCenter registry) {
    GroupRouting routing = routing(config, paths);
    if (routing == null) {
      return null;
    }
    Governor governor = new Governor(0, 0, catalog(config, paths), (was, now) -> {});
    governor.routing(routing);
    GroupSwitch groups = new GroupSwitch(governor, new Faults(log), config);
    groups.start(registry, routing, config);
    return routing;
  }

  /**
   * The routing of {@code config}'s groups ({@link GroupSwitch}), or {@code null} when connects are
   * never routed. Give it to the governor before the governor is installed.
   */
  public static GroupRouting routing(AgentConfig config, RegistryPaths paths) {
    return GroupSwitch.routing(config, paths);
  }

  /**
   * Starts the switches, the MXBeans and, if one is configured, the registry; returns once the
   * registry's state has been read (or at once in local mode). Called on the agent's start thread.
   */
  public void start(
      AgentConfig config, RegistryPaths paths, Governor governor, DatasourceCatalog catalog)
      throws Exception {
    InstanceId id = InstanceId.forThisJvm(config.instanceIp());
    String idText = id.format(config.layout());
    Beans jmx = new Beans();
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
        log.error(
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
    instance =
        new InstanceSwitch(
            idText,
            paths.instancePath(id),
            refusalTarget,
            governor,
            registry,
            config.onRegistryLoss(),
            config.registryLossGraceMs(),
            executor);
    if (unusable != null) {
      instance.registryUnusable(config.registry().get().toString(), unusable);
    }
    DatasourceSwitch ds = new DatasourceSwitch(governor, registry, paths, jmx, domain);
    datasources = ds;
    InstanceSwitch switched = instance;
    jmx.register(
        () -> {
          Instance bean = new Instance(switched);
          instanceBean = bean;
          return bean;
        },
        domain + ":type=Instance");
    Quiet quiet = new Quiet(executor, classesLoaded);
    jmx.openWhenQuiet(quiet);
    executor.scheduleWithFixedDelay(
        governor::sweep, Governor.SWEEP_MS, Governor.SWEEP_MS, TimeUnit.MILLISECONDS);
    catalog.listen(this::met);
    GroupRouting routing = governor.routing();
    if (registry == null && routing != null) {
      governor.routing(null); // no primary will ever be read: connects are not routed
    } else if (routing != null) {
      GroupSwitch groups = new GroupSwitch(governor, faults, config);
      groups.registerBeans(jmx, domain, routing);
      groups.start(registry, routing, config);
    }
    if (registry == null) {
      if (unusable != null) {
        governor.initialSyncDone(); // no registry state will ever come
        return;
      }
      log.info("started in local mode (no registry configured); instance {}", idText);
      return;
    }

    RegistryCenter center = registry;
    jmx.register(
        () ->
            new Registry(
                center.backend(),
                center.endpoints(),
                config.namespace(),
                config.layout().configValue(),
                center::isConnected,
                center::sessionId),
        domain + ":type=Registry");
    Runtime.getRuntime().addShutdownHook(new Thread(registry::close, "sluice-shutdown"));
    instance.connection(false); // starts the registry-loss clock, if that policy is on
    registry.start(this);
    log.info(
        "started: instance {} at {} in {} ({} layout)",
        idText,
        registry.instancePath(),
        config.registry().get(),
        config.layout().configValue());
    RegistryCenter started = registry;
    faults.guard(
        "the instance metadata",
        () ->
            new InstanceMetadata(config, catalog, governor::routing)
                .start(started, paths.metaInstancePath(idText), executor, faults));
    faults.guard(
        "the fleet's recovery",
        () ->
            new FleetRecovery(
                    config,
                    paths,
                    config.recoveryCandidate() ? idText : null,
                    governor.routing(),
                    executor)
                .start(started, jmx, domain));
    if (registry.awaitInitialSync(Long.MAX_VALUE)) {
      governor.initialSyncDone();
      log.info(
          "registry state read: instance {}",
          governor.state().instanceDisabled() ? "DISABLED" : "ENABLED");
    }
  }

  /**
   * The JVM met a datasource, possibly on the application's thread that connected: its node and its
   * MXBean are made on {@code sluice-control}. Whether the connect is refused does not depend on
   * them: the datasource nodes already in the registry were read before the first connect was let
   * through ({@code registry.initial-sync-ms}).
   */
  void met(Datasource d) {
    DatasourceSwitch ds = datasources;
    faults.execute(executor, "meeting datasource " + d.path(), () -> ds.met(d));
  }

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

  /** The governed state changed: tells the MXBeans' listeners. */
  public void changed(GovernanceState before, GovernanceState after) {
    faults.guard(
        "a state change's notifications",
        () -> {
          Instance bean = instanceBean;
          if (bean != null && before.instanceDisabled() != after.instanceDisabled()) {
            bean.stateChanged(before.instanceDisabled(), after.instanceDisabled());
          }
          DatasourceSwitch ds = datasources;
          if (ds != null) {
            ds.changed(before, after);
          }
        });
  }
}
