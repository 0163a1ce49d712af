package dev.sluice.registry;

import java.util.Locale;

/**
 * Where the agent's nodes live. {@link #V5} is the ShardingSphere 5 registry-center layout, {@link
 * #LEGACY} the older orchestration layout that is keyed by application name.
 */
public enum RegistryLayout {
  /** {@code /{namespace}/states/proxynodes/{ip}@{pid}@{uuid}}. */
  V5,
  /** {@code /{namespace}/{app}/state/instances/{ip}@-@{pid}}. */
  LEGACY;

  /** Parses {@code v5} or {@code legacy} in any letter case. */
  public static RegistryLayout parse(String value) {
    switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "v5":
        return V5;
      case "legacy":
        return LEGACY;
      default:
        throw new IllegalArgumentException("expected v5 or legacy");
    }
  }

  /** The configuration value of this layout. */
  public String configValue() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The paths of one namespace and application under this layout. */
  public RegistryPaths paths(String namespace, String app) {
    return new RegistryPaths(this, namespace, app);
  }
}
