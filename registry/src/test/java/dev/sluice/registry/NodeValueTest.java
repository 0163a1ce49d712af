package dev.sluice.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class NodeValueTest {

  @ParameterizedTest
  @ValueSource(
      strings = {"DISABLED", "disabled", "Disabled", " DISABLED", "DISABLED\n", "\t dIsAbLeD \r\n"})
  void disabledInAnyCaseAfterTrimming(String value) {
    assertEquals(NodeValue.DISABLED, NodeValue.of(value));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " ", "ENABLED", "enabled", " Enabled\n"})
  void enabled(String value) {
    assertEquals(NodeValue.ENABLED, NodeValue.of(value));
  }

  @ParameterizedTest
  @ValueSource(strings = {"DISABLE", "DISABLED!", "DIS ABLED", "true", "0", "\u0000DISABLED"})
  void anythingElseIsUnrecognisedAndEnables(String value) {
    assertEquals(NodeValue.UNRECOGNISED, NodeValue.of(value));
  }

  @org.junit.jupiter.api.Test
  void aMissingNodeEnables() {
    assertEquals(NodeValue.ENABLED, NodeValue.of(null));
    assertEquals("", NodeValue.decode(null));
  }

  @ParameterizedTest
  @CsvSource({
    "v5,/ns/states/proxynodes/10.0.0.5@42@u-1",
    "legacy,/ns/orders/state/instances/10.0.0.5@-@42"
  })
  void instancePaths(String layout, String path) {
    RegistryPaths paths = RegistryLayout.parse(layout).paths("ns", "orders");
    assertEquals(path, paths.instancePath(new InstanceId("10.0.0.5", 42, "u-1")));
  }
}
