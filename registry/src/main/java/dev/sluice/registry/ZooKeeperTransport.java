package dev.sluice.registry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import org.apache.zookeeper.ClientCnxnSocketNIO;
import org.apache.zookeeper.ClientCnxnSocketNetty;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.ClientX509Util;

/**
 * How the agent's ZooKeeper client reaches the servers: plain TCP on the NIO socket, or TLS on the
 * Netty socket with the certificate authorities of a PEM file (the JVM's default trust store when
 * none is given), so that a digest credential never travels in clear.
 *
 * <p>Everything is set on the client's own {@link ZKClientConfig}, never in system properties:
 * ZooKeeper reads {@code zookeeper.*} system properties JVM-wide, so setting them would change the
 * application's own ZooKeeper clients, and the application's settings (its JAAS login, its socket,
 * its key and trust stores) would change ours. The socket class is named through a class literal,
 * so the name stays right when the agent's build relocates ZooKeeper.
 */
public final class ZooKeeperTransport {

  private final boolean tls;
  private final String caFile;

  private ZooKeeperTransport(boolean tls, String caFile) {
    this.tls = tls;
    this.caFile = caFile;
  }

  /** Plain TCP. */
  public static ZooKeeperTransport plain() {
    return new ZooKeeperTransport(false, null);
  }

  /**
   * TLS, trusting the certificate authorities in {@code caFile} (PEM), or the JVM's default trust
   * store when {@code null}. The server's certificate must name the host or IP connected to.
   *
   * @throws IllegalArgumentException when {@code caFile} holds no certificate
   */
  public static ZooKeeperTransport tls(String caFile) {
    if (caFile != null) {
      checkCertificates(caFile);
    }
    return new ZooKeeperTransport(true, caFile);
  }

  /** Whether the connection is TLS. */
  public boolean isTls() {
    return tls;
  }

  /** A new client configuration for this transport. */
  public ZKClientConfig clientConfig() {
    ZKClientConfig config = new OwnClientConfig();
    config.setProperty(ZKClientConfig.ENABLE_CLIENT_SASL_KEY, "false");
    config.setProperty(ZKClientConfig.SECURE_CLIENT, Boolean.toString(tls));
    config.setProperty(
        ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET,
        tls ? ClientCnxnSocketNetty.class.getName() : ClientCnxnSocketNIO.class.getName());
    if (tls) {
      // ZooKeeper's TLS settings, named by the ZooKeeper in use (loading its TLS support)
      try (ClientX509Util ssl = new ClientX509Util()) {
        config.setProperty(ssl.getSslHostnameVerificationEnabledProperty(), "true");
        if (caFile != null) {
          config.setProperty(ssl.getSslTruststoreLocationProperty(), caFile);
          config.setProperty(ssl.getSslTruststoreTypeProperty(), "PEM");
        }
      }
    }
    return config;
  }

  /**
   * A client configuration that starts empty: ZooKeeper's own copies the {@code zookeeper.*} system
   * properties (the application's JAAS login, socket, key and trust stores: not ours), and to name
   * its TLS keys it initialises ZooKeeper's TLS support, which sets {@code
   * jdk.tls.rejectClientInitiatedRenegotiation} for the whole JVM and initialises the JVM's default
   * TLS context (its trust store read, about 180 ms of a cold start), also for plain TCP.
   */
  private static final class OwnClientConfig extends ZKClientConfig {
    @Override
    protected void handleBackwardCompatibility() {
      // nothing from the system properties
    }
  }

  private static void checkCertificates(String caFile) {
    try (InputStream in = Files.newInputStream(Paths.get(caFile))) {
      if (CertificateFactory.getInstance("X.509").generateCertificates(in).isEmpty()) {
        throw new IllegalArgumentException("no certificate in the TLS CA file " + caFile);
      }
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "the TLS CA file " + caFile + " cannot be read as PEM certificates: " + e, e);
    }
  }

  @Override
  public String toString() {
    return tls
        ? "TLS, trusting " + (caFile == null ? "the JVM's default CAs" : "the CAs of " + caFile)
        : "plain TCP";
  }
}
