package dev.sluice.registry.etcd;

import dev.sluice.registry.OperatorAccess;
import dev.sluice.registry.RegistryCenter;
import dev.sluice.registry.RegistryPaths;
import dev.sluice.registry.RegistrySettings;

/**
 * The entry points of the etcd backend, for callers that load this module through a class loader of
 * their own and reach it by reflection: they take only types of the parent loader ({@link
 * RegistrySettings}, {@link RegistryPaths}) and return its interfaces.
 */
public final class EtcdBackend {

  private EtcdBackend() {}

  /** An {@link EtcdRegistry}. */
  public static RegistryCenter registry(
      RegistrySettings settings, RegistryPaths paths, String instancePath) {
    return new EtcdRegistry(new EtcdSettings(settings), paths, instancePath);
  }

  /** Operator access to etcd, for the CLI. */
  public static OperatorAccess operator(RegistrySettings settings) {
    // an operator's tool has no session to keep: every call is bounded by the connect timeout
    EtcdSettings etcd =
        new EtcdSettings(
            settings.endpoints,
            settings.tls,
            settings.caFile,
            settings.auth,
            settings.connectTimeoutMs,
            settings.connectTimeoutMs);
    return new EtcdOperator(etcd.newClient(), settings.connectTimeoutMs);
  }
}
