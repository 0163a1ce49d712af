package dev.sluice.agent.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A parsed {@code registry} value: {@code zookeeper://h1:2181,h2:2181}, {@code
 * zookeeper+tls://h1:2281} (TLS), {@code etcd://h1:2379,h2:2379} or {@code etcd+https://h1:2379}
 * (TLS).
 */
public final class RegistryUri {

  /** The registry kinds the key accepts. */
  public enum Backend {
    ZOOKEEPER,
    ETCD
  }

  static final String ACCEPTED =
      "zookeeper://host:port[,host:port...], zookeeper+tls://host:port[,host:port...],"
          + " etcd://host:port[,host:port...] or etcd+https://host:port[,host:port...]";

  private final Backend backend;
  private final boolean tls;
  private final String endpoints;

  private RegistryUri(Backend backend, boolean tls, String endpoints) {
    this.backend = backend;
    this.tls = tls;
    this.endpoints = endpoints;
  }

  public Backend backend() {
    return backend;
  }

  /** Whether the registry is reached over TLS ({@code zookeeper+tls://}, {@code etcd+https://}). */
  public boolean tls() {
    return tls;
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
    Backend backend;
    boolean tls = false;
    switch (scheme) {
      case "zookeeper":
        backend = Backend.ZOOKEEPER;
        break;
      case "zookeeper+tls":
        backend = Backend.ZOOKEEPER;
        tls = true;
        break;
      case "etcd":
        backend = Backend.ETCD;
        break;
      case "etcd+https":
        backend = Backend.ETCD;
        tls = true;
        break;
      default:
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
    return new RegistryUri(backend, tls, String.join(",", hosts));
  }

  @Override
  public String toString() {
    String scheme =
        backend == Backend.ZOOKEEPER
            ? tls ? "zookeeper+tls" : "zookeeper"
            : tls ? "etcd+https" : "etcd";
    return scheme + "://" + endpoints;
  }
}
