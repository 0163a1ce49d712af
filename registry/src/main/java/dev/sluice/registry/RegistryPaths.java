package dev.sluice.registry;

/** The node paths of one namespace and application, under one {@link RegistryLayout}. */
public final class RegistryPaths {

  private final RegistryLayout layout;
  private final String instancesRoot;
  private final String datasourcesRoot;
  private final String groupsRoot;
  private final String controlRoot;
  private final String metaRoot;

  RegistryPaths(RegistryLayout layout, String namespace, String app) {
    this.layout = layout;
    String root = "/" + namespace;
    controlRoot = root + "/control";
    metaRoot = root + "/meta";
    if (layout == RegistryLayout.V5) {
      instancesRoot = root + "/states/proxynodes";
      datasourcesRoot = root + "/states/datanodes";
      groupsRoot = root + "/states/groups";
    } else {
      instancesRoot = root + "/" + app + "/state/instances";
      datasourcesRoot = root + "/" + app + "/state/datasources";
      groupsRoot = root + "/" + app + "/state/groups";
    }
  }

  /**
   * The node naming a routing group's primary ({@code primary=node}, SPEC section 7): {@code
   * .../states/groups/{group}/primary} (legacy: {@code .../state/groups/{group}/primary}).
   */
  public String groupPrimaryPath(String group) {
    return groupsRoot + "/" + group + "/primary";
  }

  /**
   * The parent of the groups' nodes: {@code .../states/groups} (legacy: {@code .../state/groups}).
   */
  public String groupsRoot() {
    return groupsRoot;
  }

  /**
   * {@code /{namespace}/meta/endpoints/{schema}/{name}}: where a datasource's endpoint is recorded
   * for the fleet leader's probes (SPEC section 8), in both layouts.
   */
  public String endpointPath(String schema, String name) {
    return metaRoot + "/endpoints/" + schema + "/" + name;
  }

  /** {@code /{namespace}/meta/endpoints}. */
  public String endpointsRoot() {
    return metaRoot + "/endpoints";
  }

  /**
   * {@code /{namespace}/meta/instances/{id}}: an instance's metadata (SPEC section 9), ephemeral,
   * with the same id as its instance node, in both layouts.
   */
  public String metaInstancePath(String id) {
    return metaInstancesRoot() + "/" + id;
  }

  /** {@code /{namespace}/meta/instances}. */
  public String metaInstancesRoot() {
    return metaRoot + "/instances";
  }

  /**
   * {@code /{namespace}/control/consoles/{id}}: the ephemeral node of a {@code console} process,
   * which watches the namespace for its page.
   */
  public String consolePath(String id) {
    return controlRoot + "/consoles/" + id;
  }

  /** {@code /{namespace}}: every node of the namespace lies below it, in both layouts. */
  public String namespaceRoot() {
    return controlRoot.substring(0, controlRoot.length() - "/control".length());
  }

  /** {@code /{namespace}/control/controllers}: the {@code controller} processes' nodes. */
  public String controllersRoot() {
    return controlRoot + "/controllers";
  }

  /** {@code /{namespace}/control/leader}: the fleet leader's election (SPEC section 8). */
  public String leaderPath() {
    return controlRoot + "/leader";
  }

  /** {@code /{namespace}/control/recovery}: the global recovery switch. */
  public String recoverySwitchPath() {
    return controlRoot + "/recovery";
  }

  /**
   * {@code /{namespace}/control/actions/{schema}/{name}}: the fleet leader's last automatic action
   * on a datasource, as JSON {@code {action, reason, at, leader}} (SPEC section 8).
   */
  public String actionPath(String schema, String name) {
    return actionsRoot() + "/" + schema + "/" + name;
  }

  /** {@code /{namespace}/control/actions}. */
  public String actionsRoot() {
    return controlRoot + "/actions";
  }

  /**
   * {@code /{namespace}/control/controllers/{id}}: the ephemeral node of a {@code controller}
   * process, which has no instance node (it runs no application).
   */
  public String controllerPath(String id) {
    return controllersRoot() + "/" + id;
  }

  public RegistryLayout layout() {
    return layout;
  }

  /** The parent of all instance nodes. */
  public String instancesRoot() {
    return instancesRoot;
  }

  /** The ephemeral node of one instance. */
  public String instancePath(InstanceId id) {
    return instancesRoot + "/" + id.format(layout);
  }

  /** The parent of all datasource nodes. */
  public String datasourcesRoot() {
    return datasourcesRoot;
  }

  /**
   * The node of one datasource: {@code .../datanodes/{schema}/{name}} under v5, {@code
   * .../datasources/{schema}.{name}} under legacy (its one level, as ShardingSphere 4 named them).
   */
  public String datasourcePath(String schema, String name) {
    return layout == RegistryLayout.V5
        ? datasourcesRoot + "/" + schema + "/" + name
        : datasourcesRoot + "/" + schema + "." + name;
  }

  /** How many levels below {@link #datasourcesRoot()} a datasource node lies: 2 (v5) or 1. */
  public int datasourceDepth() {
    return layout == RegistryLayout.V5 ? 2 : 1;
  }

  /**
   * Whether {@code path} is a datasource node (not the root, a schema level or anything deeper).
   */
  public boolean isDatasourcePath(String path) {
    if (!path.startsWith(datasourcesRoot + "/")) {
      return false;
    }
    String rest = path.substring(datasourcesRoot.length() + 1);
    int levels = rest.isEmpty() ? 0 : rest.split("/", -1).length;
    return levels == datasourceDepth();
  }
}
