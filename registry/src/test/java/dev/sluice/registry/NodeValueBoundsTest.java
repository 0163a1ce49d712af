package dev.sluice.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Values longer than any valid value: never kept whole, always unrecognised. */
class NodeValueBoundsTest {

  @Test
  void aValueUpToTheBoundIsDecodedWhole() {
    String padded = " ".repeat(NodeValue.MAX_VALUE_BYTES - 8) + "DISABLED";
    String decoded = NodeValue.decodeBounded(padded.getBytes(StandardCharsets.UTF_8));
    assertEquals(padded, decoded);
    assertEquals(NodeValue.DISABLED, NodeValue.of(decoded));
  }

  @Test
  void aLongerValueKeepsOnlyItsFirstBytesAndIsUnrecognised() {
    String padded = "DISABLED" + " ".repeat(NodeValue.MAX_VALUE_BYTES);
    String decoded = NodeValue.decodeBounded(padded.getBytes(StandardCharsets.UTF_8));
    assertTrue(decoded.length() < 100, decoded);
    assertTrue(decoded.contains("(" + padded.length() + " bytes"), decoded);
    assertEquals(NodeValue.UNRECOGNISED, NodeValue.of(decoded));
  }

  @Test
  void aValueNotReadIsUnrecognised() {
    assertEquals(NodeValue.UNRECOGNISED, NodeValue.of(NodeValue.notRead(3 << 20)));
  }
}
