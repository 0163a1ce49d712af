package dev.sluice.agent;

import dev.sluice.agent.config.AgentConfig;
import dev.sluice.agent.config.RegistryUri;
import dev.sluice.registry.OperatorAccess;
import dev.sluice.registry.RegistryCenter;
import dev.sluice.registry.RegistryPaths;
import dev.sluice.registry.RegistrySettings;
import dev.sluice.registry.ZooKeeperOperator;
import dev.sluice.registry.ZooKeeperRegistry;
import dev.sluice.registry.ZooKeeperTransport;

/**
 * Makes the configured registry, or operator access to it for the CLI, from one {@link
 * RegistrySettings}. Each backend sits in a class of its own, so the JVM loads only the client that
 * is used: a ZooKeeper user never loads jetcd, gRPC, Netty 4.2 or Vert.x, and an etcd user never
 * loads Curator.
 */
public final class Registries {

  private Registries() {}

  /**
   * @throws IllegalArgumentException when the settings cannot be used (say, a bad TLS CA file)
   */
  public static RegistryCenter create(
      AgentConfig config, RegistryPaths paths, String instancePath) {
    RegistryUri uri = config.registry().orElseThrow();
    return uri.backend() == RegistryUri.Backend.ETCD
        ? Etcd.create(config, uri, paths, instancePath)
        : ZooKeeper.create(config, uri, paths, instancePath);
  }

  /**
   * Operator access to the configured registry, for the CLI.
   *
   * @throws IllegalArgumentException when the TLS CA file holds no certificate
   */
  public static OperatorAccess operator(AgentConfig config) throws Exception {
    RegistryUri uri = config.registry().orElseThrow();
    RegistrySettings settings = settings(config, uri);
    if (uri.backend() == RegistryUri.Backend.ETCD) {
      return (OperatorAccess)
          EtcdClasses.call("operator", new Class<?>[] {RegistrySettings.class}, settings);
    }
    return ZooKeeper.operator(settings);
  }

  private static RegistrySettings settings(AgentConfig config, RegistryUri uri) {
    return new RegistrySettings(
        uri.endpoints(),
        uri.tls(),
        config.registryTlsCaFile(),
        config.registryAuth(),
        config.registryConnectTimeoutMs(),
        config.registrySessionTimeoutMs());
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

    static OperatorAccess operator(RegistrySettings settings) {
      return new ZooKeeperOperator(settings);
    }
  }

  /**
   * @throws IllegalArgumentException when the TLS CA file holds no certificate
   */
  private static ZooKeeperTransport transport(AgentConfig config, RegistryUri uri) {
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
                new Class<?>[] {RegistrySettings.class, RegistryPaths.class, String.class},
                settings(config, uri),
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
