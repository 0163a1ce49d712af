package dev.sluice.agent.control;

import java.time.Instant;
import java.util.LinkedHashMap;
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
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("action", action);
    fields.put("reason", reason);
    fields.put("at", at.toString());
    fields.put("leader", leader);
    return Json.write(fields);
  }

  /**
   * {@code record} with {@code acknowledged} set to {@code at}: the block it puts on further
   * automatic actions is lifted.
   *
   * @throws IllegalArgumentException {@code record} is not a JSON object
   */
  public static String acknowledged(String record, Instant at) {
    Map<String, Object> fields = Json.object(record);
    fields.put("acknowledged", at.toString());
    return Json.write(fields);
  }
}
