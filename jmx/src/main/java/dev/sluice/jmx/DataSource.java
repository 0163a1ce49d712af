package dev.sluice.jmx;

/** The {@code sluice:type=DataSource} MXBean of one datasource. */
public final class DataSource extends SwitchBean implements DataSourceMXBean {

  private final DatasourceControl control;

  public DataSource(DatasourceControl control) {
    super(DataSourceMXBean.class, "datasource");
    this.control = control;
  }

  /**
   * Announces a change of {@code EffectiveState} (whether connections to it are refused, for any
   * reason) with an attribute-change notification.
   */
  public void effectiveStateChanged(boolean wasCutOff, boolean nowCutOff) {
    announce("EffectiveState", stateName(wasCutOff), stateName(nowCutOff));
  }

  /** {@code <domain>:type=DataSource,schema=<schema>,name=<name>}. */
  public static String objectName(String domain, String schema, String name) {
    return domain + ":type=DataSource,schema=" + schema + ",name=" + name;
  }

  @Override
  public String getSchema() {
    return control.schema();
  }

  @Override
  public String getName() {
    return control.name();
  }

  @Override
  public String getEndpoint() {
    return control.endpoint();
  }

  @Override
  public String getState() {
    return stateName(control.disabled());
  }

  @Override
  public boolean isDisabled() {
    return control.disabled();
  }

  @Override
  public String getEffectiveState() {
    return stateName(!control.cutOffBy().isEmpty());
  }

  @Override
  public String getCutOffBy() {
    return control.cutOffBy();
  }

  @Override
  public int getOpenConnections() {
    return control.openConnections();
  }

  @Override
  public long getRefusedConnections() {
    return control.refusedConnections();
  }

  @Override
  public long getAbortedConnections() {
    return control.abortedConnections();
  }

  @Override
  public String getRegistryPath() {
    return control.registryPath();
  }

  @Override
  public String disable() {
    return control.setDisabled(true);
  }

  @Override
  public String enable() {
    return control.setDisabled(false);
  }
}
