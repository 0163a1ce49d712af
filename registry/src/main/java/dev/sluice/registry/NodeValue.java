package dev.sluice.registry;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The value rules of SPEC section 3: after trimming white space, {@code DISABLED} in any letter
 * case disables; an empty value, {@code ENABLED} or a missing node enables; anything else enables
 * and is unrecognised.
 */
public enum NodeValue {
  ENABLED,
  DISABLED,
  /** Treated as enabled, and worth one log line. */
  UNRECOGNISED;

  /** The value an operator writes to disable. */
  public static final String DISABLED_TEXT = "DISABLED";

  /**
   * The longest node value the agent reads, in bytes. Every valid value is far shorter; a longer
   * one is unrecognised whatever it holds, so the agent neither keeps it nor (on ZooKeeper, which
   * tells the length first) reads it: what the registry holds cannot grow the agent's heap.
   */
  public static final int MAX_VALUE_BYTES = 1024;

  /** Classifies a node's data; {@code null} stands for a missing node. */
  public static NodeValue of(String data) {
    if (data == null) {
      return ENABLED;
    }
    String v = data.strip().toUpperCase(Locale.ROOT);
    if (v.isEmpty() || v.equals("ENABLED")) {
      return ENABLED;
    }
    return v.equals(DISABLED_TEXT) ? DISABLED : UNRECOGNISED;
  }

  public boolean disables() {
    return this == DISABLED;
  }

  /** Node data as text; {@code null} data (a node created without data) is the empty value. */
  public static String decode(byte[] data) {
    return data == null ? "" : new String(data, StandardCharsets.UTF_8);
  }

  /**
   * Node data as text, as {@link #decode}, unless it is longer than {@link #MAX_VALUE_BYTES}: then
   * only its first bytes and its length, which is unrecognised and prints well in a log line.
   */
  public static String decodeBounded(byte[] data) {
    if (data == null || data.length <= MAX_VALUE_BYTES) {
      return decode(data);
    }
    return new String(data, 0, 32, StandardCharsets.UTF_8) + tooLongSuffix(data.length);
  }

  /** Stands for a value of {@code length} bytes that was not read: unrecognised, never valid. */
  public static String notRead(long length) {
    return "(not read)" + tooLongSuffix(length);
  }

  /** Whether {@code value} stands for a value too long to have been read in full. */
  public static boolean wasCut(String value) {
    return value != null && value.endsWith(" bytes, longer than any valid value)");
  }

  private static String tooLongSuffix(long length) {
    return "... (" + length + " bytes, longer than any valid value)";
  }

  public static byte[] encode(String value) {
    return value.getBytes(StandardCharsets.UTF_8);
  }

  /** A short, printable rendering of a value for log lines, whatever it holds. */
  public static String printable(String value) {
    if (value == null) {
      return "(no node)";
    }
    StringBuilder out = new StringBuilder("'");
    int limit = Math.min(value.length(), 64);
    for (int i = 0; i < limit; i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c == 0x7f || Character.isSurrogate(c)) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    out.append('\'');
    if (value.length() > limit) {
      out.append("... (").append(value.length()).append(" chars)");
    }
    return out.toString();
  }
}
