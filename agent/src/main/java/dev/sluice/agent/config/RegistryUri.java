package dev.sluice.agent.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** A parsed {@code registry} value: {@code zookeeper://h1:2181,h2:2181}. */
public final class RegistryUri {

  /** The registry kinds the key accepts. */
  public enum Backend {
    ZOOKEEPER,
    ETCD
  }

  static final String ACCEPTED =
      "zookeeper://host:port[,host:port...] (etcd:// and etcd+https:// are not available in this"
          + " version)";

  private final Backend backend;
  private final String endpoints;

  private RegistryUri(Backend backend, String endpoints) {
    this.backend = backend;
    this.endpoints = endpoints;
  }

  public Backend backend() {
    return backend;
  }

  /** {@code host:port,host:port}. */
  public String endpoints() {
    return endpoints;
  }

  /** Parses the value, or throws {@link IllegalArgumentException} saying what is accepted. */
  public static RegistryUri parse(String value) {
    String v = value.trim();
    int sep = v.indexOf("://");
    if (sep < 0) {
      throw new IllegalArgumentException("expected " + ACCEPTED);
    }
    String scheme = v.substring(0, sep).toLowerCase(Locale.ROOT);
    if (!scheme.equals("zookeeper")) {
      throw new IllegalArgumentException("expected " + ACCEPTED);
    }
    String rest = v.substring(sep + 3);
    if (rest.endsWith("/")) {
      rest = rest.substring(0, rest.length() - 1);
    }
    List<String> hosts = new ArrayList<>();
    for (String hostPort : rest.split(",", -1)) {
      hosts.add(HostPort.parse(hostPort.trim(), "expected " + ACCEPTED));
    }
    return new RegistryUri(Backend.ZOOKEEPER, String.join(",", hosts));
  }

  @Override
  public String toString() {
    return backend.name().toLowerCase(Locale.ROOT) + "://" + endpoints;
  }
}
