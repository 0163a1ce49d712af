package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.time.Duration;

/** What the registry fault tests share, whichever the backend. */
final class RegistryFaults {

  private RegistryFaults() {}

  /** The apps' {@code registry.session-timeout-ms}: the etcd lease TTL, the ZooKeeper session. */
  static final int SESSION_TIMEOUT_MS = 4000;

  /** How long the app may take to follow the registry once it is back: session timeout + 1 s. */
  static final Duration CONVERGE = Duration.ofMillis(SESSION_TIMEOUT_MS + 1000);

  static boolean allowed(AppProcess app) {
    return InstanceCutOffIT.send(app, "connect").ok;
  }

  static boolean refused(AppProcess app) {
    AppProcess.Reply r = InstanceCutOffIT.send(app, "connect");
    assertFalse(r.ok && r.text.isEmpty(), r::toString);
    return !r.ok && r.exception().equals("java.sql.SQLTransientConnectionException");
  }
}
