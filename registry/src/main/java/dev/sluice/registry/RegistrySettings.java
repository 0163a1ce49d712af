package dev.sluice.registry;

/**
 * How to reach a registry, whatever its backend: the one settings type the agent hands to a
 * backend, also across the class loader boundary of the etcd module (this type is on the parent
 * loader, so both sides know it).
 */
public final class RegistrySettings {
  /** The endpoints as the registry URI gives them, comma-separated {@code host:port}. */
  public final String endpoints;

  public final boolean tls;

  /** The PEM file of the CAs to trust with TLS; {@code null}: the JVM's default trust store. */
  public final String caFile;

  /** {@code user:password}, or {@code null}. */
  public final String auth;

  public final int connectTimeoutMs;
  public final int sessionTimeoutMs;

  public RegistrySettings(
      String endpoints,
      boolean tls,
      String caFile,
      String auth,
      int connectTimeoutMs,
      int sessionTimeoutMs) {
    this.endpoints = endpoints;
    this.tls = tls;
    this.caFile = caFile;
    this.auth = auth;
    this.connectTimeoutMs = connectTimeoutMs;
    this.sessionTimeoutMs = sessionTimeoutMs;
  }

  @Override
  public String toString() {
    // never the credentials
    return endpoints + (tls ? " (TLS)" : "");
  }
}
