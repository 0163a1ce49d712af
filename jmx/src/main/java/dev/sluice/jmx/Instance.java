package dev.sluice.jmx;

/**
 * The {@code sluice:type=Instance} MXBean. Emits an {@link AttributeChangeNotification} on {@code
 * State} whenever the enforced state changes, whoever changed it.
 */
public final class Instance extends SwitchBean implements InstanceMXBean {

  private final InstanceControl control;

  public Instance(InstanceControl control) {
    super(InstanceMXBean.class, "instance");
    this.control = control;
  }

  @Override
  public String getId() {
    return control.id();
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
  public String getMode() {
    return control.registryMode() ? "REGISTRY" : "LOCAL";
  }

  @Override
  public boolean isRegistryConnected() {
    return control.registryConnected();
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
