package dev.sluice.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class InstanceIdTest {

  @Test
  void theUuidIsARandomVersion4UuidAndDifferentEachTime() {
    Set<UUID> seen = new HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      UUID u = InstanceId.randomUuid();
      assertEquals(4, u.version(), u::toString);
      assertEquals(2, u.variant(), u::toString);
      assertEquals(u, UUID.fromString(u.toString()));
      assertTrue(seen.add(u), "drawn twice: " + u);
    }
  }

  @Test
  void theIdNamesThisJvm() {
    InstanceId id = InstanceId.forThisJvm("192.0.2.7");
    String v5 = id.format(RegistryLayout.V5);
    assertTrue(
        v5.matches("192\\.0\\.2\\.7@" + ProcessHandle.current().pid() + "@[0-9a-f-]{36}"), v5);
  }
}
