package dev.sluice.agent.config;

import dev.sluice.agent.datasource.DatasourceMapping;
import dev.sluice.agent.datasource.Endpoint;
import dev.sluice.registry.RegistryLayout;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The agent's configuration, read from (highest first) agent arguments, system properties ({@code
 * sluice.<key>}), environment ({@code SLUICE_<KEY>}), the properties file named by {@code
 * sluice.config} / {@code SLUICE_CONFIG}, and defaults.
 *
 * <p>Every value is validated here, once. A bad value becomes one problem line naming the key, the
 * value, where it came from and what is accepted, and the default is used in its place: a typo
 * never stops the application.
 */
public final class AgentConfig {

  /** {@code on-registry-loss}. */
  public enum RegistryLossPolicy {
    KEEP,
    CUT_OFF
  }

  static final String CONFIG_FILE_KEY = "config";
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]+");
  private static final String AUTH_ACCEPTED = "user:password with a non-empty user";
  private static final int MAX_AUTH_FILE_BYTES = 64 * 1024;
  private static final Pattern GROUP_NAME = Pattern.compile("[A-Za-z0-9_-]+");
  private static final List<String> GROUP_SETTINGS =
      List.of(
          "address", "read-address", "primary", "replicas", "read-fallback", "failover-wait-ms");
  private static final String DEFAULT_FAILOVER_WAIT_MS = "10000";
  private static final long MAX_FAILOVER_WAIT_MS = 600_000;
  private static final Pattern LOG_LEVELS = Pattern.compile("trace|debug|info|warn|error|off");
  private static final java.util.Set<String> AUTO_DISABLE =
      java.util.Set.of("off", "replicas", "all");

  private final Map<ConfigKey, String> values = new EnumMap<>(ConfigKey.class);
  private final Map<ConfigKey, String> origins = new EnumMap<>(ConfigKey.class);
  private final Map<String, DatasourceMapping> datasources = new LinkedHashMap<>();
  private final Map<String, GroupConfig> groups = new LinkedHashMap<>();
  // In reading order; the same bad setting given twice is one line.
  private final Set<String> problems = new LinkedHashSet<>();
  private final Map<String, String> environment;
  private final Map<String, String> systemProperties;

  private RegistryUri registry;
  private RegistryLayout layout;
  private RegistryLossPolicy onRegistryLoss;
  private String authFromFile;

  private AgentConfig(Map<String, String> systemProperties, Map<String, String> environment) {
    this.systemProperties = systemProperties;
    this.environment = environment;
  }

  /** Reads the configuration of this JVM. */
  public static AgentConfig load(String agentArgs) {
    Map<String, String> props = new LinkedHashMap<>();
    for (String name : System.getProperties().stringPropertyNames()) {
      props.put(name, System.getProperty(name));
    }
    return load(agentArgs, props, System.getenv());
  }

  /** Reads a configuration from the given sources; for tests and the CLI. */
  public static AgentConfig load(
      String agentArgs, Map<String, String> systemProperties, Map<String, String> environment) {
    AgentConfig config = new AgentConfig(systemProperties, environment);
    config.read(agentArgs == null ? "" : agentArgs);
    return config;
  }

  private void read(String agentArgs) {
    Map<String, String> args = parseAgentArgs(agentArgs);
    Map<String, String> file = readConfigFile(args);
    for (String key : args.keySet()) {
      checkKnown(key, "agent argument");
    }
    for (String key : file.keySet()) {
      checkKnown(key, "config file");
    }
    for (String name : systemProperties.keySet()) {
      if (name.startsWith("sluice.") && !name.equals("sluice." + CONFIG_FILE_KEY)) {
        checkKnown(name.substring("sluice.".length()), "system property");
      }
    }
    for (ConfigKey key : ConfigKey.values()) {
      String value;
      String origin;
      if (args.containsKey(key.key())) {
        value = args.get(key.key());
        origin = "agent argument " + key.key();
      } else if (systemProperties.containsKey(key.systemProperty())) {
        value = systemProperties.get(key.systemProperty());
        origin = "system property " + key.systemProperty();
      } else if (environment.containsKey(key.environmentVariable())) {
        value = environment.get(key.environmentVariable());
        origin = "environment " + key.environmentVariable();
      } else if (file.containsKey(key.key())) {
        value = file.get(key.key());
        origin = "config file";
      } else {
        value = key.defaultValue();
        origin = "default";
      }
      if (value != null) {
        // A secret is taken verbatim: a password may begin or end with white space.
        values.put(key, key.secret() ? value : value.trim());
        origins.put(key, origin);
      }
    }
    readDatasources(args, file);
    validate();
    readGroups(args, file);
  }

  private void checkKnown(String key, String where) {
    if (!isKnownKey(key)) {
      problem("unknown key '" + key + "' (" + where + ") is ignored");
    }
  }

  private static boolean isKnownKey(String key) {
    return ConfigKey.forKey(key) != null
        || key.startsWith(ConfigKey.DATASOURCES_PREFIX)
        || key.startsWith(ConfigKey.GROUPS_PREFIX)
        || key.equals(CONFIG_FILE_KEY);
  }

  /**
   * {@code k=v,k=v}; a segment without {@code =} continues the previous value. The value of a
   * secret key ({@code registry.auth}) runs on over commas and {@code =} up to the next segment
   * that starts with a key Sluice knows, so a password may hold both: {@code
   * registry.auth=u:ab,cd=ef} is the password {@code ab,cd=ef}.
   */
  private Map<String, String> parseAgentArgs(String agentArgs) {
    Map<String, String> out = new LinkedHashMap<>();
    String lastKey = null;
    for (String segment : agentArgs.split(",", -1)) {
      int eq = segment.indexOf('=');
      ConfigKey last = lastKey == null ? null : ConfigKey.forKey(lastKey);
      boolean inSecret = last != null && last.secret();
      if (eq > 0 && (!inSecret || isKnownKey(segment.substring(0, eq).trim()))) {
        lastKey = segment.substring(0, eq).trim();
        out.put(lastKey, segment.substring(eq + 1));
      } else if (lastKey != null) {
        out.put(lastKey, out.get(lastKey) + "," + segment);
      } else if (!segment.trim().isEmpty()) {
        problem("agent argument '" + segment.trim() + "' is ignored: expected key=value pairs");
      }
    }
    return out;
  }

  private Map<String, String> readConfigFile(Map<String, String> args) {
    String path = args.get(CONFIG_FILE_KEY);
    String origin = "agent argument " + CONFIG_FILE_KEY;
    if (path == null) {
      path = systemProperties.get("sluice." + CONFIG_FILE_KEY);
      origin = "system property sluice." + CONFIG_FILE_KEY;
    }
    if (path == null) {
      path = environment.get("SLUICE_CONFIG");
      origin = "environment SLUICE_CONFIG";
    }
    if (path == null || path.trim().isEmpty()) {
      return Collections.emptyMap();
    }
    Properties properties = new Properties();
    Path file = Paths.get(path.trim());
    try (InputStream in = Files.newInputStream(file)) {
      properties.load(new InputStreamReader(in, StandardCharsets.UTF_8));
    } catch (IOException | IllegalArgumentException e) {
      problem(
          "config file '"
              + path.trim()
              + "' ("
              + origin
              + ") cannot be read and is ignored: "
              + e.getClass().getSimpleName()
              + (e.getMessage() == null ? "" : " " + e.getMessage()));
      return Collections.emptyMap();
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (String name : properties.stringPropertyNames()) {
      out.put(name, properties.getProperty(name));
    }
    return out;
  }

  private void readDatasources(Map<String, String> args, Map<String, String> file) {
    Map<String, String> raw = new LinkedHashMap<>();
    Map<String, String> rawOrigin = new LinkedHashMap<>();
    // lowest precedence first, so higher sources overwrite
    collectPrefixed(ConfigKey.DATASOURCES_PREFIX, file, "", "config file", raw, rawOrigin);
    collectPrefixed(
        ConfigKey.DATASOURCES_PREFIX,
        systemProperties,
        "sluice.",
        "system property",
        raw,
        rawOrigin);
    collectPrefixed(ConfigKey.DATASOURCES_PREFIX, args, "", "agent argument", raw, rawOrigin);
    for (Map.Entry<String, String> e : raw.entrySet()) {
      String rest = e.getKey().substring(ConfigKey.DATASOURCES_PREFIX.length());
      int dot = rest.indexOf('.');
      String value = e.getValue().trim();
      String origin = rawOrigin.get(e.getKey());
      String expected = "expected datasources.<schema>.<name>=host:port[/database]";
      if (dot <= 0
          || dot == rest.length() - 1
          || !NAME.matcher(rest.substring(0, dot)).matches()
          || !NAME.matcher(rest.substring(dot + 1)).matches()) {
        problem(
            "invalid key '"
                + e.getKey()
                + "' ("
                + origin
                + "): "
                + expected
                + " with schema and name of [A-Za-z0-9._-]; ignored");
        continue;
      }
      int slash = value.indexOf('/');
      String hostPort = slash < 0 ? value : value.substring(0, slash);
      String database = slash < 0 ? null : value.substring(slash + 1);
      try {
        hostPort = HostPort.parse(hostPort, expected);
        if (database != null && database.isEmpty()) {
          throw new IllegalArgumentException(expected);
        }
      } catch (IllegalArgumentException bad) {
        problem(
            "invalid "
                + e.getKey()
                + "='"
                + value
                + "' ("
                + origin
                + "): "
                + bad.getMessage()
                + "; ignored");
        continue;
      }
      datasources.put(
          rest,
          new DatasourceMapping(
              rest.substring(0, dot), rest.substring(dot + 1), hostPort, database));
    }
  }

  /**
   * {@code groups.<group>.<setting>}, from the same sources as datasources. A bad setting is one
   * problem line and its default (or, for an address, no routing for it); a group with neither
   * address is ignored as a whole.
   */
  private void readGroups(Map<String, String> args, Map<String, String> file) {
    Map<String, String> raw = new LinkedHashMap<>();
    Map<String, String> rawOrigin = new LinkedHashMap<>();
    collectPrefixed(ConfigKey.GROUPS_PREFIX, file, "", "config file", raw, rawOrigin);
    collectPrefixed(
        ConfigKey.GROUPS_PREFIX, systemProperties, "sluice.", "system property", raw, rawOrigin);
    collectPrefixed(ConfigKey.GROUPS_PREFIX, args, "", "agent argument", raw, rawOrigin);
    Map<String, Map<String, String>> byGroup = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : raw.entrySet()) {
      String rest = e.getKey().substring(ConfigKey.GROUPS_PREFIX.length());
      int dot = rest.lastIndexOf('.');
      String group = dot < 0 ? "" : rest.substring(0, dot);
      String setting = dot < 0 ? rest : rest.substring(dot + 1);
      if (!GROUP_NAME.matcher(group).matches() || !GROUP_SETTINGS.contains(setting)) {
        problem(
            "invalid key '"
                + e.getKey()
                + "' ("
                + rawOrigin.get(e.getKey())
                + "): expected groups.<group>.<setting> with a group of [A-Za-z0-9_-] and a"
                + " setting of "
                + String.join(", ", GROUP_SETTINGS)
                + "; ignored");
        continue;
      }
      byGroup.computeIfAbsent(group, g -> new LinkedHashMap<>()).put(setting, e.getKey());
    }
    Map<String, String> usedAddresses = new LinkedHashMap<>();
    for (Map.Entry<String, Map<String, String>> g : byGroup.entrySet()) {
      GroupConfig parsed = group(g.getKey(), g.getValue(), raw, rawOrigin, usedAddresses);
      if (parsed != null) {
        groups.put(g.getKey(), parsed);
      }
    }
  }

  private GroupConfig group(
      String name,
      Map<String, String> keys,
      Map<String, String> raw,
      Map<String, String> rawOrigin,
      Map<String, String> usedAddresses) {
    String address = groupAddress(keys.get("address"), raw, rawOrigin, usedAddresses, name);
    String readAddress =
        groupAddress(keys.get("read-address"), raw, rawOrigin, usedAddresses, name);
    if (address == null && readAddress == null) {
      problem(
          "group '"
              + name
              + "' has no usable groups."
              + name
              + ".address or groups."
              + name
              + ".read-address; the group is ignored");
      return null;
    }
    GroupConfig.PrimarySource source = GroupConfig.PrimarySource.NODE;
    String sourceName = null;
    String primaryKey = keys.get("primary");
    if (primaryKey != null) {
      String v = raw.get(primaryKey).trim();
      int colon = v.indexOf(':');
      String kind = (colon < 0 ? v : v.substring(0, colon)).toLowerCase(Locale.ROOT);
      String arg = colon < 0 ? null : v.substring(colon + 1).trim();
      if (kind.equals("node") && arg == null) {
        source = GroupConfig.PrimarySource.NODE;
      } else if ((kind.equals("orchestrator") || kind.equals("patroni"))
          && arg != null
          && NAME.matcher(arg).matches()) {
        source =
            kind.equals("orchestrator")
                ? GroupConfig.PrimarySource.ORCHESTRATOR
                : GroupConfig.PrimarySource.PATRONI;
        sourceName = arg;
      } else {
        groupProblem(
            primaryKey,
            v,
            rawOrigin,
            "node, orchestrator:<alias> or patroni:<scope> with a name of [A-Za-z0-9._-]",
            "using the default node");
      }
    }
    List<String> replicas = new ArrayList<>();
    String replicasKey = keys.get("replicas");
    if (replicasKey != null) {
      String v = raw.get(replicasKey).trim();
      for (String one : v.split(",", -1)) {
        try {
          replicas.add(normalisedHostPort(one.trim()));
        } catch (IllegalArgumentException bad) {
          groupProblem(
              replicasKey, v, rawOrigin, "host:port,host:port,...", "leaving out '" + one + "'");
        }
      }
    }
    GroupConfig.ReadFallback fallback = GroupConfig.ReadFallback.PRIMARY;
    String fallbackKey = keys.get("read-fallback");
    if (fallbackKey != null) {
      String v = raw.get(fallbackKey).trim();
      if (v.equalsIgnoreCase("refuse")) {
        fallback = GroupConfig.ReadFallback.REFUSE;
      } else if (!v.equalsIgnoreCase("primary")) {
        groupProblem(fallbackKey, v, rawOrigin, "primary or refuse", "using the default primary");
      }
    }
    long waitMs = Long.parseLong(DEFAULT_FAILOVER_WAIT_MS);
    String waitKey = keys.get("failover-wait-ms");
    if (waitKey != null) {
      String v = raw.get(waitKey).trim();
      try {
        long n = Long.parseLong(v);
        if (n < 0 || n > MAX_FAILOVER_WAIT_MS) {
          throw new NumberFormatException();
        }
        waitMs = n;
      } catch (NumberFormatException bad) {
        groupProblem(
            waitKey,
            v,
            rawOrigin,
            "a whole number of milliseconds from 0 to " + MAX_FAILOVER_WAIT_MS,
            "using the default " + DEFAULT_FAILOVER_WAIT_MS);
      }
    }
    return new GroupConfig(
        name, address, readAddress, source, sourceName, replicas, fallback, waitMs);
  }

  /** A group's address, normalised; {@code null} (with a problem line) when bad or taken. */
  private String groupAddress(
      String key,
      Map<String, String> raw,
      Map<String, String> rawOrigin,
      Map<String, String> usedAddresses,
      String group) {
    if (key == null) {
      return null;
    }
    String v = raw.get(key).trim();
    String address;
    try {
      address = normalisedHostPort(v);
    } catch (IllegalArgumentException bad) {
      groupProblem(key, v, rawOrigin, "host:port or [v6]:port", "leaving it unset");
      return null;
    }
    String taken = usedAddresses.putIfAbsent(address, key);
    if (taken != null) {
      groupProblem(
          key,
          v,
          rawOrigin,
          "an address no other group setting uses (" + taken + " does)",
          "leaving it unset");
      return null;
    }
    return address;
  }

  private void groupProblem(
      String key, String value, Map<String, String> rawOrigin, String accepted, String fallback) {
    problem(
        "invalid "
            + key
            + "='"
            + value
            + "' ("
            + rawOrigin.get(key)
            + "): expected "
            + accepted
            + "; "
            + fallback);
  }

  /** {@code host:port} as the agent compares it with URLs: host in lower case, IPv6 bracketed. */
  public static String normalisedHostPort(String hostPort) {
    String expected = "expected host:port";
    String checked = HostPort.parse(hostPort, expected);
    int colon = checked.lastIndexOf(':');
    String host = checked.substring(0, colon);
    if (host.indexOf(':') >= 0 && !host.startsWith("[")) {
      throw new IllegalArgumentException(expected);
    }
    return Endpoint.network(host, Integer.parseInt(checked.substring(colon + 1)), null).hostPort();
  }

  private static void collectPrefixed(
      String keyPrefix,
      Map<String, String> source,
      String prefix,
      String origin,
      Map<String, String> raw,
      Map<String, String> rawOrigin) {
    for (Map.Entry<String, String> e : source.entrySet()) {
      String name = e.getKey();
      if (name.startsWith(prefix + keyPrefix)) {
        String key = name.substring(prefix.length());
        raw.put(key, e.getValue());
        rawOrigin.put(key, origin + " " + name);
      }
    }
  }

  private void validate() {
    registry = check(ConfigKey.REGISTRY, v -> v.isEmpty() ? null : RegistryUri.parse(v), null);
    check(ConfigKey.NAMESPACE, AgentConfig::name, "a name of [A-Za-z0-9._-]");
    layout = check(ConfigKey.LAYOUT, RegistryLayout::parse, null);
    if (values.containsKey(ConfigKey.APP)) {
      check(ConfigKey.APP, AgentConfig::name, "a name of [A-Za-z0-9._-]");
    }
    if (values.containsKey(ConfigKey.INSTANCE_IP)) {
      check(ConfigKey.INSTANCE_IP, AgentConfig::name, "an IP address or host name");
    }
    if (values.containsKey(ConfigKey.REGISTRY_AUTH)) {
      check(ConfigKey.REGISTRY_AUTH, AgentConfig::userPassword, AUTH_ACCEPTED);
      if (values.containsKey(ConfigKey.REGISTRY_AUTH_FILE)) {
        problem(
            "registry.auth-file ("
                + origins.get(ConfigKey.REGISTRY_AUTH_FILE)
                + ") is ignored: registry.auth is set too ("
                + origins.get(ConfigKey.REGISTRY_AUTH)
                + ")");
      }
    } else if (values.containsKey(ConfigKey.REGISTRY_AUTH_FILE)) {
      authFromFile = readAuthFile();
    }
    if (values.containsKey(ConfigKey.REGISTRY_TLS_CA_FILE)) {
      check(
          ConfigKey.REGISTRY_TLS_CA_FILE,
          v -> java.nio.file.Files.isReadable(java.nio.file.Path.of(v)) ? v : null,
          "a readable PEM file of the certificate authorities to trust");
    }
    checkMillis(ConfigKey.REGISTRY_CONNECT_TIMEOUT_MS, 100, 600_000);
    checkMillis(ConfigKey.REGISTRY_SESSION_TIMEOUT_MS, 1_000, 600_000);
    checkMillis(ConfigKey.REGISTRY_INITIAL_SYNC_MS, 0, 600_000);
    checkMillis(ConfigKey.REGISTRY_LOSS_GRACE_MS, 0, 86_400_000);
    checkMillis(ConfigKey.CUTOFF_GRACE_MS, 0, 3_600_000);
    onRegistryLoss =
        check(
            ConfigKey.ON_REGISTRY_LOSS,
            v -> {
              switch (v.toLowerCase(Locale.ROOT)) {
                case "keep":
                  return RegistryLossPolicy.KEEP;
                case "cut-off":
                  return RegistryLossPolicy.CUT_OFF;
                default:
                  return null;
              }
            },
            "keep or cut-off");
    check(
        ConfigKey.JMX_DOMAIN,
        v -> v.isEmpty() || v.matches(".*[:*?,=\"\\s].*") ? null : v,
        "a JMX domain without : * ? , = \" or spaces");
    check(
        ConfigKey.ORCHESTRATOR_KV_PREFIX,
        v -> v.matches("/*[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*/*") ? v : null,
        "a key prefix of [A-Za-z0-9._-] segments separated by /");
    check(
        ConfigKey.PATRONI_NAMESPACE,
        v -> v.matches("/*[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*/*") ? v : null,
        "a namespace of [A-Za-z0-9._-] segments separated by /, such as /service");
    check(
        ConfigKey.RECOVERY_CANDIDATE,
        v -> v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false") ? v : null,
        "true or false");
    check(
        ConfigKey.RECOVERY_AUTO_DISABLE,
        v -> AUTO_DISABLE.contains(v.toLowerCase(Locale.ROOT)) ? v : null,
        "off, replicas or all");
    checkMillis(ConfigKey.RECOVERY_PROBE_INTERVAL_MS, 100, 3_600_000);
    checkMillis(ConfigKey.RECOVERY_PROBE_TIMEOUT_MS, 10, 600_000);
    checkCount(ConfigKey.RECOVERY_FAILURES_TO_DISABLE, 1, 1000);
    checkCount(ConfigKey.RECOVERY_SUCCESSES_TO_ENABLE, 1, 1000);
    checkMillis(ConfigKey.RECOVERY_BLOCK_MS, 0, 604_800_000);
    check(
        ConfigKey.CONSOLE_BIND,
        v -> {
          if (v.equalsIgnoreCase("off")) {
            return v;
          }
          // port 0 (any free port) is allowed here, unlike in a database's host:port
          int colon = v.lastIndexOf(':');
          String port = colon < 0 ? "" : v.substring(colon + 1);
          return port.equals("0")
              ? HostPort.parse(v.substring(0, colon) + ":1", null)
              : HostPort.parse(v, null);
        },
        "host:port (port 0: any free port) or off");
    if (values.containsKey(ConfigKey.CONSOLE_AUTH)) {
      check(ConfigKey.CONSOLE_AUTH, AgentConfig::userPassword, AUTH_ACCEPTED);
    }
    check(
        ConfigKey.LOG_LEVEL,
        v -> LOG_LEVELS.matcher(v.toLowerCase(Locale.ROOT)).matches() ? v : null,
        "trace, debug, info, warn, error or off");
  }

  /**
   * The content of the {@code registry.auth-file}, or {@code null} with one problem line that names
   * the file and never its content.
   */
  private String readAuthFile() {
    String path = values.get(ConfigKey.REGISTRY_AUTH_FILE);
    String where =
        "registry.auth-file '" + path + "' (" + origins.get(ConfigKey.REGISTRY_AUTH_FILE) + ")";
    String content;
    try {
      Path file = Paths.get(path);
      if (Files.size(file) > MAX_AUTH_FILE_BYTES) {
        problem(where + " is ignored: it is larger than " + MAX_AUTH_FILE_BYTES + " bytes");
        return null;
      }
      content = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    } catch (IOException | RuntimeException e) {
      // The exception's class only: its message names the path, never the content, but be sure.
      problem(where + " cannot be read and is ignored: " + e.getClass().getSimpleName());
      return null;
    }
    // The line break an editor or `echo` adds at the end is not part of the password.
    if (content.endsWith("\r\n")) {
      content = content.substring(0, content.length() - 2);
    } else if (content.endsWith("\n")) {
      content = content.substring(0, content.length() - 1);
    }
    if (userPassword(content) == null) {
      problem(where + " is ignored: its content is not " + AUTH_ACCEPTED);
      return null;
    }
    return content;
  }

  /** {@code user:password} with a non-empty user; else {@code null}. */
  private static String userPassword(String v) {
    return v.indexOf(':') > 0 ? v : null;
  }

  private static String name(String v) {
    return NAME.matcher(v).matches() ? v : null;
  }

  private void checkCount(ConfigKey key, int min, int max) {
    checkRange(key, min, max, "a whole number from ");
  }

  private void checkMillis(ConfigKey key, int min, int max) {
    checkRange(key, min, max, "a whole number of milliseconds from ");
  }

  private void checkRange(ConfigKey key, int min, int max, String what) {
    check(
        key,
        v -> {
          long n = Long.parseLong(v);
          return n >= min && n <= max ? n : null;
        },
        what + min + " to " + max);
  }

  /**
   * Parses the value of {@code key}; on failure records one problem line and falls back to the
   * default. {@code accepted} describes valid values; {@code null} takes it from the parser's
   * {@link IllegalArgumentException}.
   */
  private <T> T check(ConfigKey key, Function<String, T> parser, String accepted) {
    String value = values.get(key);
    if (value == null) {
      return null;
    }
    String why = accepted == null ? null : "expected " + accepted;
    try {
      T parsed = parser.apply(value);
      if (parsed != null || (key == ConfigKey.REGISTRY && value.isEmpty())) {
        return parsed;
      }
    } catch (IllegalArgumentException e) {
      if (why == null) {
        why = e.getMessage();
      }
    }
    String shown = key.secret() ? "****" : value;
    String fallback = key.defaultValue();
    problem(
        "invalid "
            + key.key()
            + "='"
            + shown
            + "' ("
            + origins.get(key)
            + "): "
            + why
            + "; "
            + (fallback != null
                ? "using the default " + fallback
                : key == ConfigKey.REGISTRY ? "running in local mode" : "leaving it unset"));
    if (fallback == null) {
      values.remove(key);
      origins.put(key, "default");
      return null;
    }
    values.put(key, fallback);
    origins.put(key, "default");
    return parser.apply(fallback);
  }

  private void problem(String line) {
    problems.add(line);
  }

  /** One line per bad or unknown setting, in reading order. */
  public List<String> problems() {
    return List.copyOf(problems);
  }

  /** The registry, or empty for local mode. */
  public Optional<RegistryUri> registry() {
    return Optional.ofNullable(registry);
  }

  public String namespace() {
    return values.get(ConfigKey.NAMESPACE);
  }

  public RegistryLayout layout() {
    return layout;
  }

  /** The configured application name, else the main class or jar name of this JVM. */
  public String app() {
    String app = values.get(ConfigKey.APP);
    if (app != null) {
      return app;
    }
    String command = systemProperties.getOrDefault("sun.java.command", "").trim();
    String first = command.isEmpty() ? "app" : command.split("\\s+")[0];
    if (first.endsWith(".jar")) {
      first = Paths.get(first).getFileName().toString();
      first = first.substring(0, first.length() - ".jar".length());
    }
    String sanitized = first.replaceAll("[^A-Za-z0-9._-]", "_");
    return sanitized.isEmpty() ? "app" : sanitized;
  }

  /** The configured instance ip, else the first non-loopback, non-link-local IPv4 address. */
  public String instanceIp() {
    String ip = values.get(ConfigKey.INSTANCE_IP);
    return ip != null ? ip : firstSiteIpv4();
  }

  /**
   * {@code user:password} from {@code registry.auth} or else from the {@code registry.auth-file},
   * or {@code null}. A secret: never log it.
   */
  public String registryAuth() {
    String auth = values.get(ConfigKey.REGISTRY_AUTH);
    return auth != null ? auth : authFromFile;
  }

  /** {@code console.bind}: {@code host:port}, or {@code null} for {@code off}. */
  public String consoleBind() {
    String v = values.get(ConfigKey.CONSOLE_BIND);
    return v.equalsIgnoreCase("off") ? null : v;
  }

  /** {@code console.auth}: {@code user:password}, or {@code null}. A secret: never log it. */
  public String consoleAuth() {
    return values.get(ConfigKey.CONSOLE_AUTH);
  }

  /** The PEM file of CAs to trust for {@code etcd+https://}, or {@code null}: the JVM's own. */
  public String registryTlsCaFile() {
    return values.get(ConfigKey.REGISTRY_TLS_CA_FILE);
  }

  public int registryConnectTimeoutMs() {
    return intValue(ConfigKey.REGISTRY_CONNECT_TIMEOUT_MS);
  }

  public int registrySessionTimeoutMs() {
    return intValue(ConfigKey.REGISTRY_SESSION_TIMEOUT_MS);
  }

  public int registryInitialSyncMs() {
    return intValue(ConfigKey.REGISTRY_INITIAL_SYNC_MS);
  }

  public RegistryLossPolicy onRegistryLoss() {
    return onRegistryLoss;
  }

  public int registryLossGraceMs() {
    return intValue(ConfigKey.REGISTRY_LOSS_GRACE_MS);
  }

  public int cutoffGraceMs() {
    return intValue(ConfigKey.CUTOFF_GRACE_MS);
  }

  /** Whether this JVM stands in the fleet leader's election (SPEC section 8). */
  public boolean recoveryCandidate() {
    return Boolean.parseBoolean(values.get(ConfigKey.RECOVERY_CANDIDATE).toLowerCase(Locale.ROOT));
  }

  /** What the fleet leader may disable on its own: {@code off}, {@code replicas} or {@code all}. */
  public String recoveryAutoDisable() {
    return values.get(ConfigKey.RECOVERY_AUTO_DISABLE).toLowerCase(Locale.ROOT);
  }

  public int recoveryProbeIntervalMs() {
    return intValue(ConfigKey.RECOVERY_PROBE_INTERVAL_MS);
  }

  public int recoveryProbeTimeoutMs() {
    return intValue(ConfigKey.RECOVERY_PROBE_TIMEOUT_MS);
  }

  public int recoveryFailuresToDisable() {
    return intValue(ConfigKey.RECOVERY_FAILURES_TO_DISABLE);
  }

  public int recoverySuccessesToEnable() {
    return intValue(ConfigKey.RECOVERY_SUCCESSES_TO_ENABLE);
  }

  public int recoveryBlockMs() {
    return intValue(ConfigKey.RECOVERY_BLOCK_MS);
  }

  public String jmxDomain() {
    return values.get(ConfigKey.JMX_DOMAIN);
  }

  public String logLevel() {
    return values.get(ConfigKey.LOG_LEVEL).toLowerCase(Locale.ROOT);
  }

  /** Configured datasources by {@code <schema>.<name>}. */
  public Map<String, DatasourceMapping> datasources() {
    return Collections.unmodifiableMap(datasources);
  }

  /** Configured routing groups by name, in reading order (SPEC section 7). */
  public Map<String, GroupConfig> groups() {
    return Collections.unmodifiableMap(groups);
  }

  /**
   * orchestrator's {@code KVClusterMasterPrefix} without leading or trailing {@code /}, e.g. {@code
   * mysql/master}.
   */
  public String orchestratorKvPrefix() {
    return trimSlashes(values.get(ConfigKey.ORCHESTRATOR_KV_PREFIX));
  }

  /** Patroni's {@code namespace} without leading or trailing {@code /}, e.g. {@code service}. */
  public String patroniNamespace() {
    return trimSlashes(values.get(ConfigKey.PATRONI_NAMESPACE));
  }

  private static String trimSlashes(String v) {
    int from = 0;
    int to = v.length();
    while (from < to && v.charAt(from) == '/') {
      from++;
    }
    while (to > from && v.charAt(to - 1) == '/') {
      to--;
    }
    return v.substring(from, to);
  }

  /** Where the value of {@code key} came from, e.g. {@code system property sluice.layout}. */
  public String origin(ConfigKey key) {
    return origins.getOrDefault(key, "default");
  }

  private int intValue(ConfigKey key) {
    return Integer.parseInt(values.get(key));
  }

  private static String firstSiteIpv4() {
    try {
      for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        if (!nic.isUp() || nic.isLoopback()) {
          continue;
        }
        for (InetAddress address : Collections.list(nic.getInetAddresses())) {
          if (address instanceof Inet4Address
              && !address.isLoopbackAddress()
              && !address.isLinkLocalAddress()) {
            return address.getHostAddress();
          }
        }
      }
    } catch (SocketException e) {
      // fall through to loopback
    }
    return "127.0.0.1";
  }
}
