package dev.sluice.registry;

import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Identifies one running JVM. The uuid is drawn once per JVM, so the id stays the same when the
 * instance node is re-created after a lost session.
 */
public final class InstanceId {

  private final String ip;
  private final long pid;
  private final String uuid;

  public InstanceId(String ip, long pid, String uuid) {
    this.ip = Objects.requireNonNull(ip, "ip");
    this.pid = pid;
    this.uuid = Objects.requireNonNull(uuid, "uuid");
  }

  /** A new id for this JVM. */
  public static InstanceId forThisJvm(String ip) {
    return new InstanceId(ip, ProcessHandle.current().pid(), randomUuid().toString());
  }

  /**
   * A random (version 4) UUID drawn from {@link ThreadLocalRandom}: the id must be unique, not
   * unpredictable, and {@code UUID.randomUUID()} would set up the JVM's {@code SecureRandom} (its
   * entropy source and security providers) during the application's start-up for nothing else.
   */
  static UUID randomUuid() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long high = (random.nextLong() & ~0xf000L) | 0x4000L; // version 4
    long low = (random.nextLong() & ~(0xc000L << 48)) | (0x8000L << 48); // IETF variant
    return new UUID(high, low);
  }

  public String ip() {
    return ip;
  }

  public long pid() {
    return pid;
  }

  /** {@code {ip}@{pid}@{uuid}} under v5, {@code {ip}@-@{pid}} under legacy. */
  public String format(RegistryLayout layout) {
    return layout == RegistryLayout.V5 ? ip + "@" + pid + "@" + uuid : ip + "@-@" + pid;
  }
}
