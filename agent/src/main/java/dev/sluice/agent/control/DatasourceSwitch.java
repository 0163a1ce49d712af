package dev.sluice.agent.control;

import dev.sluice.agent.datasource.Endpoint;
import dev.sluice.agent.governance.Datasource;
import dev.sluice.agent.governance.GovernanceState;
import dev.sluice.agent.governance.Governor;
import dev.sluice.agent.governance.GroupRouting;
import dev.sluice.jmx.DataSource;
import dev.sluice.jmx.DatasourceControl;
import dev.sluice.registry.NodeValue;
import dev.sluice.registry.RegistryCenter;
import dev.sluice.registry.RegistryException;
import dev.sluice.registry.RegistryPaths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-datasource switches: turns datasource node values into the governed state, creates the
 * node and the {@code sluice:type=DataSource} MXBean of every datasource this JVM meets, and
 * carries the beans' {@code disable()}/{@code enable()} to the registry (or, in local mode,
 * straight into the state).
 */
final class DatasourceSwitch {

  private static final Logger log = LoggerFactory.getLogger(DatasourceSwitch.class);

  private final Governor governor;
  private final RegistryCenter registry;
  private final RegistryPaths paths;
  private final Beans jmx;
  private final String domain;
  private final Map<String, DataSource> beans = new ConcurrentHashMap<>();
  private final Set<String> met = ConcurrentHashMap.newKeySet();

  /**
   * @param registry {@code null} in local mode
   */
  DatasourceSwitch(
      Governor governor, RegistryCenter registry, RegistryPaths paths, Beans jmx, String domain) {
    this.governor = governor;
    this.registry = registry;
    this.paths = paths;
    this.jmx = jmx;
    this.domain = domain;
  }

  /** A datasource node changed ({@code value} {@code null}: the node is gone). */
  void datasourceValue(String path, String value) {
    boolean disabled = NodeValue.of(value).disables();
    governor.update(s -> s.withDatasource(path, disabled));
  }

  /**
   * The JVM met a datasource: its node and its bean. Idempotent. Runs on the control plane's
   * thread.
   */
  void met(Datasource d) {
    if (registry != null) {
      registry.ensureDatasourceNode(d.path());
      GroupRouting routing = governor.routing();
      if (d.endpoint().kind() == Endpoint.Kind.NETWORK
          && (routing == null || !routing.isAddress(d.endpoint().hostPort()))) {
        // for the fleet leader's probes (SPEC 8); a group's address is no server to probe
        registry.ensureNode(
            paths.endpointPath(d.name().schema(), d.name().name()), d.endpoint().toString());
      }
    }
    if (!met.add(d.path())) {
      return;
    }
    String name = DataSource.objectName(domain, d.name().schema(), d.name().name());
    // made when registered: a described MXBean costs start-up time
    jmx.register(
        () -> {
          DataSource bean = new DataSource(new Control(d));
          beans.put(d.path(), bean);
          return bean;
        },
        name);
  }

  /** Announces state changes of the datasources with beans. */
  void changed(GovernanceState before, GovernanceState after) {
    beans.forEach(
        (path, bean) -> {
          boolean was = before.datasourceDisabled(path);
          boolean now = after.datasourceDisabled(path);
          if (was != now) {
            bean.stateChanged(was, now);
          }
          boolean wasCutOff = before.cutOff(path);
          boolean nowCutOff = after.cutOff(path);
          if (wasCutOff != nowCutOff) {
            bean.effectiveStateChanged(wasCutOff, nowCutOff);
          }
        });
  }

  private final class Control implements DatasourceControl {
    private final Datasource d;

    Control(Datasource d) {
      this.d = d;
    }

    @Override
    public String schema() {
      return d.name().schema();
    }

    @Override
    public String name() {
      return d.name().name();
    }

    @Override
    public String endpoint() {
      return d.endpoint().toString();
    }

    @Override
    public boolean disabled() {
      return governor.state().datasourceDisabled(d.path());
    }

    @Override
    public int openConnections() {
      return d.openConnections();
    }

    @Override
    public long refusedConnections() {
      return d.refusedConnections();
    }

    @Override
    public long abortedConnections() {
      return d.abortedConnections();
    }

    @Override
    public String registryPath() {
      return d.path(); // in local mode, the path its node would have
    }

    @Override
    public String cutOffBy() {
      GovernanceState s = governor.state();
      List<String> why = new ArrayList<>();
      if (s.datasourceDisabled(d.path())) {
        why.add("datasource node");
      }
      if (s.instanceDisabled()) {
        why.add("instance switch");
      } else if (s.cutOff()) {
        why.add("registry loss");
      }
      return String.join(" and ", why);
    }

    @Override
    public String setDisabled(boolean disabled) {
      String what = disabled ? "DISABLED" : "ENABLED";
      boolean was = governor.inForce().datasourceDisabled(d.path());
      int open = d.openConnections();
      String where;
      if (registry == null) {
        log.info("{} {} by JMX (local mode)", d.name(), what);
        governor.update(s -> s.withDatasource(d.path(), disabled));
        where = " in this JVM (local mode)";
      } else {
        try {
          registry.writeDatasourceValue(
              d.path(),
              disabled ? NodeValue.DISABLED_TEXT : "",
              InstanceSwitch.WRITE_THROUGH_TIMEOUT_MS);
          log.info("{} {} by JMX through {}", d.name(), what, d.path());
        } catch (RegistryException e) {
          log.warn(
              "JMX {} of {} failed: {}",
              disabled ? "disable()" : "enable()",
              d.name(),
              e.getMessage());
          throw new IllegalStateException(e.getMessage());
        }
        where = " through " + d.path() + " (every instance)";
      }
      governor.awaitShown(); // State then says what this returns
      if (was == disabled) {
        return "already " + what + where;
      }
      String effect =
          disabled
              ? "; " + governor.aborting(open) + " in this JVM, new connections refused"
              : cutOffBy().isEmpty()
                  ? "; new connections allowed"
                  : "; still cut off by the " + cutOffBy();
      return what + where + effect;
    }
  }
}
