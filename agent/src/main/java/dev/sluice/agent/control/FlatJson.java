package dev.sluice.agent.control;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The top-level members of a JSON object whose values are strings, numbers, booleans or null, as
 * text (strings unescaped, {@code null} as {@code null}); nested objects and arrays are skipped.
 * Enough for Patroni's member records, without a JSON library in every user's JVM.
 */
final class FlatJson {

  private final String s;
  private int i;

  private FlatJson(String s) {
    this.s = s;
  }

  /**
   * The top-level members of {@code json}.
   *
   * @throws IllegalArgumentException naming the position when {@code json} is not a JSON object
   */
  static Map<String, String> parse(String json) {
    FlatJson p = new FlatJson(json);
    Map<String, String> out = new LinkedHashMap<>();
    p.skipSpace();
    p.expect('{');
    p.skipSpace();
    if (p.peek() == '}') {
      p.i++;
    } else {
      while (true) {
        p.skipSpace();
        String name = p.string();
        p.skipSpace();
        p.expect(':');
        p.skipSpace();
        out.put(name, p.value());
        p.skipSpace();
        char c = p.next();
        if (c == '}') {
          break;
        }
        if (c != ',') {
          throw p.error("',' or '}'");
        }
      }
    }
    p.skipSpace();
    if (p.i != json.length()) {
      throw p.error("the end");
    }
    return out;
  }

  /** A value as text: strings unescaped, {@code null} for null and for objects and arrays. */
  private String value() {
    char c = peek();
    if (c == '"') {
      return string();
    }
    if (c == '{' || c == '[') {
      skipNested();
      return null;
    }
    int from = i;
    while (i < s.length() && ",}] \t\r\n".indexOf(s.charAt(i)) < 0) {
      i++;
    }
    String literal = s.substring(from, i);
    if (literal.isEmpty()) {
      throw error("a value");
    }
    return literal.equals("null") ? null : literal;
  }

  private void skipNested() {
    int depth = 0;
    do {
      char c = peek();
      if (c == '"') {
        string();
        continue;
      }
      i++;
      if (c == '{' || c == '[') {
        depth++;
      } else if (c == '}' || c == ']') {
        depth--;
      }
    } while (depth > 0);
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
