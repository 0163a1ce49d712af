package dev.sluice.agent.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class FlatJsonTest {

  @Test
  void aPatroniMemberRecordAsPatroniWritesIt() {
    Map<String, String> m =
        FlatJson.parse(
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
    Map<String, String> m =
        FlatJson.parse("{\"a\":\"x\\/y\\\"z\\\\\\u00e9\\n\",\"b\":null,\"c\":\"\"}");
    assertEquals("x/y\"z\\\u00e9\n", m.get("a"));
    assertNull(m.get("b"));
    assertEquals("", m.get("c"));
    assertEquals(Map.of(), FlatJson.parse(" { } "));
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
          assertThrows(IllegalArgumentException.class, () -> FlatJson.parse(bad), bad);
      assertTrue(e.getMessage().startsWith("expected "), bad + ": " + e.getMessage());
    }
  }
}
