package dev.sluice.agent.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

  @Test
  void aPatroniMemberRecordAsPatroniWritesIt() {
    Map<String, String> m =
        Json.flat(
            "{\"conn_url\": \"postgres://127.0.0.1:5433/postgres\", \"api_url\":"
                + " \"http://127.0.0.1:8008/patroni\", \"state\": \"running\", \"role\":"
                + " \"replica\", \"version\": \"3.0.2\", \"xlog_location\": 67108960,"
                + " \"replication_state\": \"streaming\", \"timeline\": 1,"
                + " \"tags\": {\"nofailover\": false, \"x\": [1, {\"y\": \"}\"}]}, \"pending\": true}");
    assertEquals("postgres://127.0.0.1:5433/postgres", m.get("conn_url"));
    assertEquals("replica", m.get("role"));
    assertEquals("running", m.get("state"));
    assertEquals("67108960", m.get("xlog_location"));
    assertEquals("true", m.get("pending"));
    assertTrue(m.containsKey("tags"));
    assertNull(m.get("tags"), "nested values are skipped");
  }

  @Test
  void escapesAreUnescaped() {
    Map<String, String> m = Json.flat("{\"a\":\"x\\/y\\\"z\\\\\\u00e9\\n\",\"b\":null,\"c\":\"\"}");
    assertEquals("x/y\"z\\\u00e9\n", m.get("a"));
    assertNull(m.get("b"));
    assertEquals("", m.get("c"));
    assertEquals(Map.of(), Json.flat(" { } "));
  }

  @Test
  void anythingElseIsAClearError() {
    for (String bad :
        new String[] {
          "",
          "[]",
          "{",
          "{\"a\"}",
          "{\"a\":}",
          "{\"a\":1,}",
          "{\"a\":\"x}",
          "{\"a\":1} x",
          "{\"a\":\"\\u12\"}",
          "postgres://h:1/db"
        }) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> Json.flat(bad), bad);
      assertTrue(e.getMessage().startsWith("expected "), bad + ": " + e.getMessage());
    }
  }

  @Test
  void nestedValuesReadAndWrittenBack() {
    String text =
        "{\"host\":\"h\",\"pid\":4711,\"ratio\":0.5,\"up\":true,\"none\":null,"
            + "\"datasources\":[{\"schema\":\"orders\",\"open\":3},{}],\"groups\":[]}";
    Map<String, Object> m = Json.object(text);
    assertEquals(4711L, m.get("pid"));
    assertEquals(new java.math.BigDecimal("0.5"), m.get("ratio"));
    assertEquals(Boolean.TRUE, m.get("up"));
    assertTrue(m.containsKey("none"));
    assertEquals(
        java.util.List.of(Map.of("schema", "orders", "open", 3L), Map.of()), m.get("datasources"));
    assertEquals(text, Json.write(m), "written back as read");
    assertEquals(m, Json.object(Json.pretty(m)), "pretty output reads back the same");
    assertTrue(Json.pretty(m).contains("\n  \"pid\": 4711,\n"), Json.pretty(m));
    assertEquals("\"a\\\"b\\u0001\"", Json.quote("a\"b\u0001"));
  }

  @Test
  void aValueThatIsNoObjectIsNamed() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Json.object("[1]"));
    assertEquals("expected a JSON object, not an array", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Json.parse("01"));
    assertThrows(IllegalArgumentException.class, () -> Json.parse("[1,]"));
    assertThrows(IllegalArgumentException.class, () -> Json.parse("tru"));
  }
}
