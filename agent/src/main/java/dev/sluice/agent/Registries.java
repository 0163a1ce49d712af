package dev.sluice.agent;

import dev.sluice.agent.config.AgentConfig;
import dev.sluice.agent.config.RegistryUri;
import dev.sluice.registry.RegistryCenter;
import dev.sluice.registry.RegistryPaths;
import dev.sluice.registry.ZooKeeperRegistry;
import dev.sluice.registry.ZooKeeperTransport;

/**
 * Makes the configured registry. Each backend sits in a class of its own, so the JVM loads only the
 * client that is used: a ZooKeeper user never loads jetcd, gRPC, Netty 4.2 or Vert.x, and an etcd
 * user never loads Curator.
 */
public final class Registries {

  private Registries() {}

  /**
   * @throws IllegalArgumentException when the settings cannot be used (say, a bad TLS CA file)
   */
  static RegistryCenter create(AgentConfig config, RegistryPaths paths, String instancePath) {
    RegistryUri uri = config.registry().orElseThrow();
    return uri.backend() == RegistryUri.Backend.ETCD
        ? Etcd.create(config, uri, paths, instancePath)
        : ZooKeeper.create(config, uri, paths, instancePath);
  }

  private static final class ZooKeeper {
    static RegistryCenter create(
        AgentConfig config, RegistryUri uri, RegistryPaths paths, String instancePath) {
      return new ZooKeeperRegistry(
          new ZooKeeperRegistry.Settings(
              uri.endpoints(),
              config.registryConnectTimeoutMs(),
              config.registrySessionTimeoutMs(),
              config.registryAuth(),
              transport(config, uri)),
          paths,
          instancePath);
    }
  }

  /**
   * @throws IllegalArgumentException when the TLS CA file holds no certificate
   */
  public static ZooKeeperTransport transport(AgentConfig config, RegistryUri uri) {
    return uri.tls()
        ? ZooKeeperTransport.tls(config.registryTlsCaFile())
        : ZooKeeperTransport.plain();
  }

  private static final class Etcd {
    static RegistryCenter create(
        AgentConfig config, RegistryUri uri, RegistryPaths paths, String instancePath) {
      try {
        return (RegistryCenter)
            EtcdClasses.call(
                "registry",
                new Class<?>[] {
                  String.class,
                  boolean.class,
                  String.class,
                  String.class,
                  int.class,
                  int.class,
                  RegistryPaths.class,
                  String.class
                },
                uri.endpoints(),
                uri.tls(),
                config.registryTlsCaFile(),
                config.registryAuth(),
                config.registryConnectTimeoutMs(),
                config.registrySessionTimeoutMs(),
                paths,
                instancePath);
      } catch (IllegalArgumentException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalArgumentException("the etcd client could not be loaded: " + e, e);
      }
    }
  }
}
