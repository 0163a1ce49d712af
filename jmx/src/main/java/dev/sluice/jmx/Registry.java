package dev.sluice.jmx;

import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** The {@code sluice:type=Registry} MXBean. */
public final class Registry extends DescribedBean implements RegistryMXBean {

  private final String backend;
  private final String endpoints;
  private final String namespace;
  private final String layout;
  private final BooleanSupplier connected;
  private final Supplier<String> sessionId;

  public Registry(
      String backend,
      String endpoints,
      String namespace,
      String layout,
      BooleanSupplier connected,
      Supplier<String> sessionId) {
    super(RegistryMXBean.class);
    this.backend = backend;
    this.endpoints = endpoints;
    this.namespace = namespace;
    this.layout = layout;
    this.connected = connected;
    this.sessionId = sessionId;
  }

  @Override
  public String getBackend() {
    return backend;
  }

  @Override
  public String getEndpoints() {
    return endpoints;
  }

  @Override
  public String getNamespace() {
    return namespace;
  }

  @Override
  public String getLayout() {
    return layout;
  }

  @Override
  public boolean isConnected() {
    return connected.getAsBoolean();
  }

  @Override
  public String getSessionId() {
    return sessionId.get();
  }
}
