package dev.sluice.registry;

import java.util.Objects;
import java.util.UUID;

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
    return new InstanceId(ip, ProcessHandle.current().pid(), UUID.randomUUID().toString());
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
