package dev.sluice.agent.control;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON without a JSON library in every user's JVM: objects are read as {@link LinkedHashMap}s
 * (members in order), arrays as {@link List}s, numbers as {@link Long} (integral and in range) or
 * {@link BigDecimal}, {@code true}/{@code false} as {@link Boolean}, {@code null} as {@code null};
 * {@link #write} writes the same shapes back. Enough for Patroni's member records, the fleet
 * leader's action records, instance metadata and the operator tools' output.
 */
public final class Json {

  private final String s;
  private int i;

  private Json(String s) {
    this.s = s;
  }

  /**
   * The value {@code json} holds.
   *
   * @throws IllegalArgumentException naming the position when {@code json} is not JSON
   */
  public static Object parse(String json) {
    Json p = new Json(json);
    p.skipSpace();
    Object value = p.value();
    p.skipSpace();
    if (p.i != json.length()) {
      throw p.error("the end");
    }
    return value;
  }

  /**
   * The members of the JSON object {@code json}.
   *
   * @throws IllegalArgumentException when {@code json} is not a JSON object
   */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> object(String json) {
    Object value = parse(json);
    if (!(value instanceof Map)) {
      throw new IllegalArgumentException("expected a JSON object, not " + kind(value));
    }
    return (Map<String, Object>) value;
  }

  /**
   * The top-level members of a JSON object as text: strings unescaped, numbers and booleans as
   * written, {@code null} for null and for nested objects and arrays.
   *
   * @throws IllegalArgumentException when {@code json} is not a JSON object
   */
  static Map<String, String> flat(String json) {
    Map<String, String> out = new LinkedHashMap<>();
    object(json)
        .forEach(
            (name, v) ->
                out.put(name, v == null || v instanceof Map || v instanceof List ? null : text(v)));
    return out;
  }

  /** What kind of JSON value {@code v} is, for messages. */
  public static String kind(Object v) {
    if (v instanceof Map) {
      return "an object";
    }
    if (v instanceof List) {
      return "an array";
    }
    if (v instanceof String) {
      return "a string";
    }
    return v == null ? "null" : v instanceof Boolean ? "a boolean" : "a number";
  }

  private static String text(Object v) {
    return v instanceof BigDecimal ? ((BigDecimal) v).toPlainString() : String.valueOf(v);
  }

  /**
   * {@code value} as compact JSON ({@link Map}, {@link Collection}, strings, numbers, booleans,
   * null).
   */
  public static String write(Object value) {
    StringBuilder b = new StringBuilder();
    write(value, b, -1, 0);
    return b.toString();
  }

  /** {@code value} as JSON indented by two spaces, for people and files. */
  public static String pretty(Object value) {
    StringBuilder b = new StringBuilder();
    write(value, b, 2, 0);
    return b.toString();
  }

  private static void write(Object v, StringBuilder b, int indent, int depth) {
    if (v instanceof Map) {
      Map<?, ?> m = (Map<?, ?>) v;
      b.append('{');
      int n = 0;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        b.append(n++ > 0 ? "," : "");
        newline(b, indent, depth + 1);
        b.append(quote(String.valueOf(e.getKey()))).append(indent < 0 ? ":" : ": ");
        write(e.getValue(), b, indent, depth + 1);
      }
      if (n > 0) {
        newline(b, indent, depth);
      }
      b.append('}');
    } else if (v instanceof Collection) {
      b.append('[');
      int n = 0;
      for (Object e : (Collection<?>) v) {
        b.append(n++ > 0 ? "," : "");
        newline(b, indent, depth + 1);
        write(e, b, indent, depth + 1);
      }
      if (n > 0) {
        newline(b, indent, depth);
      }
      b.append(']');
    } else if (v == null || v instanceof Boolean || v instanceof Number) {
      b.append(v instanceof BigDecimal ? ((BigDecimal) v).toPlainString() : String.valueOf(v));
    } else {
      b.append(quote(v.toString()));
    }
  }

  private static void newline(StringBuilder b, int indent, int depth) {
    if (indent >= 0) {
      b.append('\n').append(" ".repeat(indent * depth));
    }
  }

  /** {@code s} as a JSON string. */
  public static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (int k = 0; k < s.length(); k++) {
      char c = s.charAt(k);
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

  private Object value() {
    char c = peek();
    if (c == '"') {
      return string();
    }
    if (c == '{') {
      return members();
    }
    if (c == '[') {
      return elements();
    }
    int from = i;
    while (i < s.length() && ",}] \t\r\n".indexOf(s.charAt(i)) < 0) {
      i++;
    }
    String literal = s.substring(from, i);
    switch (literal) {
      case "null":
        return null;
      case "true":
        return Boolean.TRUE;
      case "false":
        return Boolean.FALSE;
      default:
        if (!literal.matches("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?")) {
          i = from;
          throw error("a value");
        }
        BigDecimal number = new BigDecimal(literal);
        try {
          return literal.matches("-?[0-9]+") ? (Object) number.longValueExact() : number;
        } catch (ArithmeticException tooBig) {
          return number;
        }
    }
  }

  private Map<String, Object> members() {
    expect('{');
    Map<String, Object> out = new LinkedHashMap<>();
    skipSpace();
    if (peek() == '}') {
      i++;
      return out;
    }
    while (true) {
      skipSpace();
      String name = string();
      skipSpace();
      expect(':');
      skipSpace();
      out.put(name, value());
      skipSpace();
      char c = next();
      if (c == '}') {
        return out;
      }
      if (c != ',') {
        i--;
        throw error("',' or '}'");
      }
    }
  }

  private List<Object> elements() {
    expect('[');
    List<Object> out = new ArrayList<>();
    skipSpace();
    if (peek() == ']') {
      i++;
      return out;
    }
    while (true) {
      skipSpace();
      out.add(value());
      skipSpace();
      char c = next();
      if (c == ']') {
        return out;
      }
      if (c != ',') {
        i--;
        throw error("',' or ']'");
      }
    }
  }

  private String string() {
    expect('"');
    StringBuilder b = new StringBuilder();
    while (true) {
      char c = next();
      if (c == '"') {
        return b.toString();
      }
      if (c != '\\') {
        b.append(c);
        continue;
      }
      char e = next();
      switch (e) {
        case 'b':
          b.append('\b');
          break;
        case 'f':
          b.append('\f');
          break;
        case 'n':
          b.append('\n');
          break;
        case 'r':
          b.append('\r');
          break;
        case 't':
          b.append('\t');
          break;
        case 'u':
          if (i + 4 > s.length()) {
            throw error("four hex digits");
          }
          try {
            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
          } catch (NumberFormatException bad) {
            throw error("four hex digits");
          }
          i += 4;
          break;
        default: // '"', '\\', '/'
          b.append(e);
      }
    }
  }

  private void skipSpace() {
    while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
      i++;
    }
  }

  private char peek() {
    if (i >= s.length()) {
      throw error("more");
    }
    return s.charAt(i);
  }

  private char next() {
    char c = peek();
    i++;
    return c;
  }

  private void expect(char c) {
    if (next() != c) {
      i--;
      throw error("'" + c + "'");
    }
  }

  private IllegalArgumentException error(String expected) {
    return new IllegalArgumentException("expected " + expected + " at offset " + i);
  }
}
