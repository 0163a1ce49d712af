package dev.sluice.agent.config;

import java.util.Locale;

/** The fixed configuration keys of SPEC section 2, with their defaults. */
public enum ConfigKey {
  REGISTRY("registry", null),
  NAMESPACE("namespace", "sluice"),
  LAYOUT("layout", "v5"),
  APP("app", null),
  INSTANCE_IP("instance.ip", null),
  REGISTRY_AUTH("registry.auth", null),
  REGISTRY_AUTH_FILE("registry.auth-file", null),
  REGISTRY_TLS_CA_FILE("registry.tls-ca-file", null),
  REGISTRY_CONNECT_TIMEOUT_MS("registry.connect-timeout-ms", "5000"),
  REGISTRY_SESSION_TIMEOUT_MS("registry.session-timeout-ms", "15000"),
  REGISTRY_INITIAL_SYNC_MS("registry.initial-sync-ms", "3000"),
  ON_REGISTRY_LOSS("on-registry-loss", "keep"),
  REGISTRY_LOSS_GRACE_MS("registry.loss-grace-ms", "30000"),
  CUTOFF_GRACE_MS("cutoff.grace-ms", "0"),
  JMX_DOMAIN("jmx.domain", "sluice"),
  LOG_LEVEL("log.level", "info"),
  ORCHESTRATOR_KV_PREFIX("orchestrator.kv-prefix", "mysql/master"),
  PATRONI_NAMESPACE("patroni.namespace", "/service"),
  RECOVERY_CANDIDATE("recovery.candidate", "true"),
  RECOVERY_AUTO_DISABLE("recovery.auto-disable", "off"),
  RECOVERY_PROBE_INTERVAL_MS("recovery.probe-interval-ms", "1000"),
  RECOVERY_PROBE_TIMEOUT_MS("recovery.probe-timeout-ms", "1000"),
  RECOVERY_FAILURES_TO_DISABLE("recovery.failures-to-disable", "3"),
  RECOVERY_SUCCESSES_TO_ENABLE("recovery.successes-to-enable", "5"),
  RECOVERY_BLOCK_MS("recovery.block-ms", "600000"),
  CONSOLE_BIND("console.bind", "127.0.0.1:8088"),
  CONSOLE_AUTH("console.auth", null);

  /** The prefix of {@code datasources.<schema>.<name>} keys. */
  public static final String DATASOURCES_PREFIX = "datasources.";

  /** The prefix of {@code groups.<group>.<setting>} keys (SPEC section 7). */
  public static final String GROUPS_PREFIX = "groups.";

  private final String key;
  private final String defaultValue;

  ConfigKey(String key, String defaultValue) {
    this.key = key;
    this.defaultValue = defaultValue;
  }

  /** The key as written in agent arguments and properties files. */
  public String key() {
    return key;
  }

  /** The default, or {@code null} when the key is unset by default. */
  public String defaultValue() {
    return defaultValue;
  }

  /** {@code sluice.<key>}. */
  public String systemProperty() {
    return "sluice." + key;
  }

  /** {@code SLUICE_<KEY>} with dots and dashes as underscores. */
  public String environmentVariable() {
    return "SLUICE_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  /** Whether this key holds a secret that must never be printed. */
  public boolean secret() {
    return this == REGISTRY_AUTH || this == CONSOLE_AUTH;
  }

  public static ConfigKey forKey(String key) {
    for (ConfigKey k : values()) {
      if (k.key.equals(key)) {
        return k;
      }
    }
    return null;
  }
}
