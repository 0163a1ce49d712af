package dev.sluice.agent.control;

import java.time.Instant;
import java.util.Map;

/**
 * The fleet leader's record of its last automatic action on a datasource (SPEC section 8), JSON at
 * {@code /{namespace}/control/actions/{schema}/{name}}: {@code {action, reason, at, leader}}, and
 * {@code acknowledged} (an ISO-8601 instant) once an operator lifted its anti-flapping block.
 */
public final class ActionRecord {

  private ActionRecord() {}

  /** A new record. */
  static String of(String action, String reason, Instant at, String leader) {
    return "{\"action\":"
        + json(action)
        + ",\"reason\":"
        + json(reason)
        + ",\"at\":"
        + json(at.toString())
        + ",\"leader\":"
        + json(leader)
        + "}";
  }

  /**
   * {@code record} with {@code acknowledged} set to {@code at}: the block it puts on further
   * automatic actions is lifted.
   *
   * @throws IllegalArgumentException {@code record} is not a JSON object
   */
  public static String acknowledged(String record, Instant at) {
    Map<String, String> fields = FlatJson.parse(record);
    fields.put("acknowledged", at.toString());
    StringBuilder b = new StringBuilder("{");
    for (Map.Entry<String, String> f : fields.entrySet()) {
      if (b.length() > 1) {
        b.append(',');
      }
      b.append(json(f.getKey())).append(':').append(json(f.getValue()));
    }
    return b.append('}').toString();
  }

  /** {@code s} as a JSON string. */
  static String json(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.append('"').toString();
  }
}
