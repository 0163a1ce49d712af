package dev.sluice.bootstrap;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.URL;
import java.net.URLClassLoader;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The bridge is appended to the bootstrap class path at run time, where only the boot layer's
 * modules are visible ({@code java.sql} is not among them). Every bridge class must link there.
 */
class BootstrapLinkageTest {

  private static final List<Class<?>> BRIDGE =
      List.of(
          SluiceBridge.class,
          ConnectionGovernor.class,
          AgentLauncher.class,
          AgentClassLoader.class,
          BootstrapInjector.class);

  @Test
  void everyBridgeClassLinksAgainstTheBootLayerAlone() throws Exception {
    URL classes = SluiceBridge.class.getProtectionDomain().getCodeSource().getLocation();
    try (URLClassLoader bootOnly = new URLClassLoader(new URL[] {classes}, null)) {
      for (Class<?> type : BRIDGE) {
        Class<?> loaded = Class.forName(type.getName(), true, bootOnly);
        assertDoesNotThrow(loaded::getDeclaredMethods, type.getName());
        assertDoesNotThrow(loaded::getDeclaredFields, type.getName());
      }
      Class<?> bridge = Class.forName(SluiceBridge.class.getName(), true, bootOnly);
      Object entered =
          bridge
              .getMethod("enterConnect", Object.class, String.class, Object.class)
              .invoke(null, null, "jdbc:x:y", null);
      assertNull(
          bridge
              .getMethod("exitConnect", Object.class, String.class, Object.class)
              .invoke(null, entered, "jdbc:x:y", null));
    }
  }
}
