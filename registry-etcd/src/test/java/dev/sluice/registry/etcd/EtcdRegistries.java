package dev.sluice.registry.etcd;

import dev.sluice.registry.RegistryPaths;
import io.etcd.jetcd.Watch;
import java.util.function.UnaryOperator;

/** Registries for tests outside this package that need to see or change the watch client. */
public final class EtcdRegistries {

  private EtcdRegistries() {}

  /** An {@link EtcdRegistry} whose watch client is wrapped by {@code watchClient}. */
  public static EtcdRegistry withWatchClient(
      EtcdSettings settings,
      RegistryPaths paths,
      String instancePath,
      UnaryOperator<Watch> watchClient) {
    return new EtcdRegistry(settings, paths, instancePath, watchClient);
  }
}
