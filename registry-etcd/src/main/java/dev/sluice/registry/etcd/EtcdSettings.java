package dev.sluice.registry.etcd;

import static dev.sluice.registry.etcd.EtcdCalls.bytes;

import dev.sluice.registry.RegistrySettings;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import java.io.File;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;

/** How to reach etcd. */
public final class EtcdSettings {
  final String endpoints;
  final boolean tls;
  final String caFile;
  final String user;
  final String password;
  final int connectTimeoutMs;
  final int sessionTimeoutMs;

  /**
   * @param endpoints {@code h1:2379,h2:2379}
   * @param tls whether to speak TLS ({@code etcd+https://})
   * @param caFile a PEM file of the certificate authorities to trust, or {@code null} for the JVM's
   *     default trust store
   * @param auth {@code user:password}, or {@code null}
   * @param sessionTimeoutMs the lease's time to live (rounded up to whole seconds, at least 2)
   */
  public EtcdSettings(
      String endpoints,
      boolean tls,
      String caFile,
      String auth,
      int connectTimeoutMs,
      int sessionTimeoutMs) {
    this.endpoints = Objects.requireNonNull(endpoints, "endpoints");
    this.tls = tls;
    this.caFile = caFile;
    if (auth != null) {
      int colon = auth.indexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException("etcd authentication needs user:password");
      }
      this.user = auth.substring(0, colon);
      this.password = auth.substring(colon + 1);
    } else {
      this.user = null;
      this.password = null;
    }
    this.connectTimeoutMs = connectTimeoutMs;
    this.sessionTimeoutMs = sessionTimeoutMs;
  }

  /** The etcd part of the one settings type every backend takes. */
  public EtcdSettings(RegistrySettings s) {
    this(s.endpoints, s.tls, s.caFile, s.auth, s.connectTimeoutMs, s.sessionTimeoutMs);
  }

  long ttlSeconds() {
    return Math.max(2, (sessionTimeoutMs + 999) / 1000);
  }

  String describe() {
    return (tls ? "etcd+https://" : "etcd://") + endpoints;
  }

  /**
   * A jetcd client for these settings, its threads daemons.
   *
   * @throws IllegalArgumentException when the TLS settings cannot be used
   */
  public Client newClient() {
    String scheme = tls ? "https://" : "http://";
    List<URI> uris = new ArrayList<>();
    for (String hostPort : endpoints.split(",")) {
      uris.add(URI.create(scheme + hostPort.trim()));
    }
    ClientBuilder builder =
        Client.builder()
            .endpoints(uris)
            .connectTimeout(Duration.ofMillis(connectTimeoutMs))
            .keepaliveTime(Duration.ofSeconds(5))
            .keepaliveTimeout(Duration.ofSeconds(3))
            .keepaliveWithoutCalls(true)
            .executorService(
                Executors.newCachedThreadPool(
                    r -> {
                      Thread t = new Thread(r, "sluice-etcd");
                      t.setDaemon(true);
                      return t;
                    }));
    if (user != null) {
      builder.user(bytes(user)).password(bytes(password));
    }
    if (tls) {
      try {
        builder.sslContext(
            ssl -> {
              if (caFile != null) {
                ssl.trustManager(new File(caFile));
              }
            });
      } catch (Exception | LinkageError e) {
        throw new IllegalArgumentException(
            "cannot use TLS for etcd"
                + (caFile == null ? "" : " with the CA file " + caFile)
                + ": "
                + e,
            e);
      }
    }
    return builder.build();
  }
}
